#include "common/ipc/channel.h"

#include <iostream>
#include <utility>

#include "common/uv/loop.h"

namespace common {
namespace {

void report_invalid_line(std::string_view line, const std::string& why) {
  constexpr size_t kShown = 80;
  std::cerr << "ipc: ignoring a line that is not JSON (" << why << "): " << line.substr(0, kShown)
            << (line.size() > kShown ? "…" : "") << "\n";
}

}  // namespace

bool is_internal_message(const rapidjson::Value& message) {
  const rapidjson::Value* cmd = find_member(message, "cmd");
  return cmd != nullptr && cmd->IsString() && cmd->GetStringLength() > 5 &&
         string_of(*cmd).starts_with("NODE_");
}

LineFramer::Result LineFramer::feed(std::string_view chunk, const OnLine& on_line) {
  auto overflow = [this] {
    tail_.clear();
    return Result::overflow;
  };
  for (size_t end = chunk.find('\n'); end != std::string_view::npos; end = chunk.find('\n')) {
    if (tail_.size() + end > max_line_) return overflow();
    std::string_view line = chunk.substr(0, end);
    chunk.remove_prefix(end + 1);
    if (!tail_.empty()) line = tail_.append(line);  // its start came in an earlier chunk
    if (line.ends_with('\r')) line.remove_suffix(1);
    bool keep_going = on_line(line);
    tail_.clear();  // only now: `line` may point into it
    if (!keep_going) return Result::stopped;
  }
  if (tail_.size() + chunk.size() > max_line_) return overflow();
  tail_.append(chunk);
  return Result::ok;
}

// One write: the bytes live here until libuv says they have been written (or cancelled).
struct IpcChannel::WriteRequest {
  uv_write_t req{};
  std::string data;
};

IpcChannel::IpcChannel(uv_loop_t& loop, size_t max_line)
    : pipe_(loop, uv_pipe_init, 0),  // ipc=0: plain bytes, we never pass handles
      framer_(max_line),
      read_buffer_(size_t{64} * 1024) {
  pipe_->data = this;
}

void IpcChannel::open(int fd) {
  // uv_pipe_open takes any fd, but a regular file or a tty cannot be watched by epoll, and libuv
  // aborts the process when it tries: refuse it here, with a reason.
  if (uv_guess_handle(fd) != UV_NAMED_PIPE) {
    throw UvError(UV_EINVAL, "IPC channel fd " + std::to_string(fd) +
                                 " is not a pipe or a Unix socket (is NODE_CHANNEL_FD right?)");
  }
  check(uv_pipe_open(pipe_.get(), fd), "uv_pipe_open");
}

void IpcChannel::start(MessageHandler on_message, EndHandler on_end, InvalidHandler on_invalid) {
  on_message_ = std::move(on_message);
  on_end_ = std::move(on_end);
  on_invalid_ = on_invalid ? std::move(on_invalid) : InvalidHandler(report_invalid_line);
  auto on_alloc = [](uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
    std::vector<char>& buffer = static_cast<IpcChannel*>(handle->data)->read_buffer_;
    *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
  };
  check(uv_read_start(pipe_.stream(), on_alloc, on_read), "uv_read_start");
}

// While a write is in flight, later messages wait in waiting_ and leave together when it
// completes: a burst of small messages costs one system call, and their order is kept.
void IpcChannel::send(std::string_view json_line) {
  if (!is_open()) return;
  waiting_.append(json_line).push_back('\n');
  if (!writing_) write_waiting();
}

void IpcChannel::write_waiting() {
  auto request = std::make_unique<WriteRequest>();
  request->req.data = request.get();
  request->data = std::exchange(waiting_, {});
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  // A write that the peer refuses (EPIPE) fails in on_written. uv_write itself fails only on a
  // stream that is closing or shut down, which is_open() has ruled out: that would be a bug.
  check(uv_write(&request->req, pipe_.stream(), &buf, 1, on_written), "uv_write");
  static_cast<void>(request.release());  // owned by libuv until on_written
  writing_ = true;
}

void IpcChannel::on_written(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  auto* self = static_cast<IpcChannel*>(req->handle->data);
  if (self == nullptr) return;  // cancelled by close()
  self->writing_ = false;
  guard(*req->handle->loop, [&] {
    if (status < 0) return self->end(uv_failure(status, "write to IPC channel"));
    if (!self->waiting_.empty()) self->write_waiting();
  });
}

void IpcChannel::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<IpcChannel*>(stream->data);
  if (self == nullptr || nread == 0) return;  // 0: nothing to read right now (EAGAIN)
  guard(*stream->loop, [&] {
    if (nread > 0) return self->take_chunk({buf->base, static_cast<size_t>(nread)});
    if (nread != UV_EOF)
      return self->end(uv_failure(static_cast<int>(nread), "read from IPC channel"));
    self->framer_.drop_tail();  // an unterminated last line is not a message
    self->end(std::nullopt);
  });
}

// NOLINTBEGIN(clang-analyzer-cplusplus.NewDelete): false positive, llvm-project#119415
void IpcChannel::take_chunk(std::string_view chunk) {
  auto take_line = [this](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;  // blank
    std::string why;
    if (std::optional<Json> message = parse_json(line, &why)) {
      if (!is_internal_message(*message)) on_message_(*message);  // else Node's, not ours
    } else {
      on_invalid_(line, why);
    }
    return is_open();  // a handler may have closed us; then the rest of the chunk is dropped
  };
  if (framer_.feed(chunk, take_line) == LineFramer::Result::overflow) {
    end(Error{"EMSGSIZE", "IPC message longer than " + std::to_string(framer_.max_line()) +
                              " bytes without a newline"});
  }
}
// NOLINTEND(clang-analyzer-cplusplus.NewDelete)

void IpcChannel::end(std::optional<Error> error) {
  if (!is_open()) return;
  EndHandler on_end = std::move(on_end_);
  close();
  if (on_end) on_end(std::move(error));
}

}  // namespace common
