// ipc/line_framer.h: cuts a byte stream into newline-terminated lines (the framing of Node's IPC).
//
// A stream read hands us chunks, not messages: one read may hold half a message, or several.
// LineFramer keeps the unterminated rest between reads and calls back once per complete line.
// Lines that lie wholly inside one chunk are passed as views into that chunk (no copy); only a
// line split across reads is assembled in the framer's own buffer. A trailing '\r' is removed,
// so "\r\n" works too. A line longer than the limit ends the stream with an overflow: a peer
// that never sends '\n' must not make us buffer without bound.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace common {

class LineFramer {
 public:
  static constexpr size_t kDefaultMaxLine = size_t{16} << 20;  // 16 MiB

  enum class Result {
    ok,        // every complete line was delivered; the rest is kept for the next chunk
    stopped,   // on_line returned false; the remaining bytes of this chunk were dropped
    overflow,  // a line exceeded the limit; the buffer was cleared, the stream is unusable
  };

  // Called per line, without its terminator; the view is valid only during the call.
  // Returning false stops delivery (the caller closed the stream, say).
  using OnLine = std::function<bool(std::string_view line)>;

  explicit LineFramer(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  Result feed(std::string_view chunk, const OnLine& on_line);

  // At end of stream: the unterminated tail is not a message (Node drops it too).
  void drop_tail() noexcept { tail_.clear(); }
  [[nodiscard]] size_t buffered() const noexcept { return tail_.size(); }
  [[nodiscard]] size_t max_line() const noexcept { return max_line_; }

 private:
  bool deliver(std::string_view line, const OnLine& on_line);

  std::string tail_;
  size_t max_line_;
};

}  // namespace common
