// ipc/channel.h: one end of a Node-compatible IPC channel (JSON lines on a pipe, docs/ipc.md §2
// and §3: blank lines and Node's internal messages are skipped), and the LineFramer that cuts
// its byte stream into lines. The broker uses it on the pipe uv_spawn created for a worker, the
// worker on the fd named by NODE_CHANNEL_FD. A message is written at once when no write is in
// flight; the ones sent meanwhile follow together, in order, in the next write.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/uv/error.h"
#include "common/uv/handle.h"

namespace common {

// Calls back once per complete line of a byte stream, without its '\n' or "\r\n". A line inside
// one chunk is passed as a view into it (no copy); only a line split across reads is assembled
// in the framer's buffer. A line over the limit is an overflow (docs/ipc.md §2).
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
  std::string tail_;
  size_t max_line_;
};

// True for the messages Node keeps for itself: {"cmd":"NODE_…"} with more than 5 characters.
bool is_internal_message(const rapidjson::Value& message);

class IpcChannel {
 public:
  // A parsed message; the handler may move or swap from the document.
  using MessageHandler = std::function<void(Json& message)>;
  // The channel ended: nullopt for a clean EOF, else what went wrong. Called at most once, after
  // which the channel is closed.
  using EndHandler = std::function<void(std::optional<Error> error)>;
  // A line that was not JSON; by default it is reported on stderr and otherwise ignored.
  using InvalidHandler = std::function<void(std::string_view line, const std::string& why)>;

  explicit IpcChannel(uv_loop_t& loop, size_t max_line = LineFramer::kDefaultMaxLine);

  // The pipe to hand to uv_spawn (stdio entry with UV_CREATE_PIPE) before start().
  [[nodiscard]] uv_stream_t* stream() const noexcept { return pipe_.stream(); }
  // The child side: adopt an inherited fd (NODE_CHANNEL_FD). Throws UvError, also when the fd
  // is not a pipe or a Unix socket (a closed fd, a file, a terminal).
  void open(int fd);
  // Starts reading. Throws UvError if reading cannot start.
  void start(MessageHandler on_message, EndHandler on_end, InvalidHandler on_invalid = {});

  // Writes one message: `json_line` is compact JSON *without* the newline. A failed write ends
  // the channel from the loop (the end handler runs then), never inside this call; on a channel
  // that has ended or been closed the message is dropped.
  void send(std::string_view json_line);

  // Stops reading and closes the pipe (the destructor does too); idempotent. Unsent messages are
  // dropped; no handler is called afterwards. The handlers are kept, as close() may run inside
  // one: with the pipe closed (and pipe->data cleared) they are never called again.
  void close() noexcept { pipe_.close(); }
  [[nodiscard]] bool is_open() const noexcept { return pipe_.is_open(); }
  // Bytes not yet taken by the peer: in libuv's write queue or waiting for the write in flight.
  [[nodiscard]] size_t pending_bytes() const noexcept {
    return is_open() ? pipe_->write_queue_size + waiting_.size() : 0;
  }

 private:
  struct WriteRequest;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void write_waiting();
  void take_chunk(std::string_view chunk);
  void end(std::optional<Error> error);

  Handle<uv_pipe_t> pipe_;
  LineFramer framer_;
  // One read buffer reused for every read: libuv never has two reads in flight on a stream and
  // take_chunk() copies whatever it keeps, so the buffer is free again when on_read returns.
  std::vector<char> read_buffer_;
  std::string waiting_;  // messages sent while a write is in flight, newline-terminated
  bool writing_ = false;
  MessageHandler on_message_;
  EndHandler on_end_;
  InvalidHandler on_invalid_;
};

}  // namespace common
