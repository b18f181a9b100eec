#include "common/ipc/line_framer.h"

#include <cstring>

namespace common {

LineFramer::Result LineFramer::feed(std::string_view chunk, const OnLine& on_line) {
  size_t start = 0;
  while (start < chunk.size()) {
    const void* found = std::memchr(chunk.data() + start, '\n', chunk.size() - start);
    if (found == nullptr) break;
    size_t end = static_cast<size_t>(static_cast<const char*>(found) - chunk.data());
    std::string_view piece = chunk.substr(start, end - start);
    start = end + 1;
    if (tail_.size() + piece.size() > max_line_) {
      tail_.clear();
      return Result::overflow;
    }
    if (!deliver(piece, on_line)) return Result::stopped;
  }
  std::string_view rest = chunk.substr(start);
  if (tail_.size() + rest.size() > max_line_) {
    tail_.clear();
    return Result::overflow;
  }
  tail_.append(rest);
  return Result::ok;
}

bool LineFramer::deliver(std::string_view piece, const OnLine& on_line) {
  std::string_view line = piece;
  if (!tail_.empty()) {  // the start of this line came in an earlier chunk
    tail_.append(piece);
    line = tail_;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  bool keep_going = on_line(line);
  tail_.clear();  // only now: `line` may point into it
  return keep_going;
}

}  // namespace common
