#include "common/ipc/channel.h"

#include <sched.h>

#include <cstring>
#include <iostream>
#include <utility>

#include "common/uv/loop.h"

namespace common {
namespace {

constexpr size_t kReadBufferSize = size_t{64} * 1024;
// An outbox this full is written at once instead of at the end of the loop turn: the peer can
// start on the first messages while we produce the rest (a burst of 64 replies otherwise leaves
// in one piece, and the two processes take turns instead of working at the same time).
constexpr size_t kEagerFlushBytes = 2048;

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

void report_invalid_line(std::string_view line, const std::string& why) {
  constexpr size_t kShown = 80;
  std::string shown(line.substr(0, kShown));
  if (line.size() > kShown) shown += "…";
  std::cerr << "ipc: ignoring a line that is not JSON (" << why << "): " << shown << "\n";
}

}  // namespace

bool is_internal_message(const rapidjson::Value& message) {
  if (!message.IsObject()) return false;
  auto cmd = message.FindMember("cmd");
  if (cmd == message.MemberEnd() || !cmd->value.IsString()) return false;
  std::string_view text(cmd->value.GetString(), cmd->value.GetStringLength());
  return text.size() > 5 && text.starts_with("NODE_");
}

DecodedLine::Kind decode_line_into(JsonParser& parser, Json& document, std::string_view line,
                                   std::string* error) {
  if (is_blank(line)) return DecodedLine::Kind::blank;
  if (!parser.parse(document, line, error)) return DecodedLine::Kind::invalid;
  return is_internal_message(document) ? DecodedLine::Kind::internal : DecodedLine::Kind::message;
}

DecodedLine decode_line(std::string_view line) {
  DecodedLine decoded;
  JsonParser parser;
  decoded.kind = decode_line_into(parser, decoded.message, line, &decoded.error);
  return decoded;
}

// The reused document of borrow_messages(): its pool allocator starts in a fixed buffer, so a
// message that fits needs no allocation at all, and clearing it frees nothing.
struct IpcChannel::Scratch {
  static constexpr size_t kBufferSize = size_t{64} * 1024;
  std::unique_ptr<char[]> buffer{new char[kBufferSize]};
  rapidjson::MemoryPoolAllocator<> allocator{buffer.get(), kBufferSize};
  Json document{&allocator};

  Json& fresh() {
    document.SetNull();
    allocator.Clear();  // drops any extra chunks a big message needed, keeps the buffer
    return document;
  }
};

// One write: the bytes live here until libuv says they have been written (or cancelled).
struct IpcChannel::WriteRequest {
  uv_write_t req{};
  std::string data;
};

IpcChannel::IpcChannel(uv_loop_t& loop, size_t max_line)
    : loop_(loop),
      pipe_(loop, uv_pipe_init, 0),  // ipc=0: plain bytes, we never pass handles
      flusher_(loop, uv_prepare_init),
      poller_(loop, uv_idle_init),
      framer_(max_line),
      read_buffer_(new char[kReadBufferSize]) {
  pipe_->data = this;
  flusher_->data = this;
  poller_->data = this;
}

IpcChannel::~IpcChannel() {
  close();
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

void IpcChannel::borrow_messages() {
  scratch_ = std::make_unique<Scratch>();
}

void IpcChannel::poll_after_write(std::chrono::microseconds window) noexcept {
  poll_window_ns_ = static_cast<uint64_t>(std::chrono::nanoseconds(window).count());
}

void IpcChannel::start(MessageHandler on_message, EndHandler on_end, InvalidHandler on_invalid) {
  on_message_ = std::move(on_message);
  on_end_ = std::move(on_end);
  on_invalid_ = on_invalid ? std::move(on_invalid) : InvalidHandler(report_invalid_line);
  check(uv_read_start(pipe_.stream(), on_alloc, on_read), "uv_read_start");
}

void IpcChannel::send(std::string_view json_line) {
  outbox_.append(json_line);
  outbox_.push_back('\n');
  schedule_flush();
}

void IpcChannel::send(const rapidjson::Value& message) {
  send(to_json(message));
}

void IpcChannel::schedule_flush(Write when) {
  if (outbox_.empty() || !is_open()) return;
  // Eagerly, whatever the socket takes now; a failure is left for flush(), which reports it from
  // the loop: ending the channel here would call the end handler from inside send().
  bool eager = when == Write::now || outbox_.size() >= kEagerFlushBytes;
  if (eager && !write_in_flight_) write_what_fits();
  if (outbox_.empty() || uv_is_active(flusher_.handle())) return;
  check(uv_prepare_start(flusher_.get(), on_prepare), "uv_prepare_start");
}

// One uv_try_write of the outbox: what the socket takes leaves it (and opens the polling window).
// Returns uv_try_write's result: bytes written, or UV_EAGAIN, or an error.
int IpcChannel::write_what_fits() {
  uv_buf_t buf = uv_buf_init(outbox_.data(), static_cast<unsigned>(outbox_.size()));
  int written = uv_try_write(pipe_.stream(), &buf, 1);
  if (written > 0) {
    keep_polling();
    outbox_.erase(0, static_cast<size_t>(written));
  }
  return written;
}

void IpcChannel::on_prepare(uv_prepare_t* prepare) {
  auto* self = static_cast<IpcChannel*>(prepare->data);
  if (self == nullptr) return;
  guard(self->loop_, [self] { self->flush(); });
}

// Writes the outbox now: directly if the socket takes it all (the common case: no request, no
// callback), through uv_write for whatever it does not take.
void IpcChannel::flush() {
  if (flusher_.is_open()) uv_prepare_stop(flusher_.get());
  if (write_in_flight_ || outbox_.empty() || !is_open()) return;
  int written = write_what_fits();
  if (outbox_.empty()) return;
  if (written < 0 && written != UV_EAGAIN) {
    end(uv_failure(written, "write to IPC channel"));
    return;
  }
  write_rest();
}

// Opens (or extends) the polling window after a write: the loop will not sleep until it ends.
void IpcChannel::keep_polling() {
  if (poll_window_ns_ == 0 || !poller_.is_open()) return;
  poll_until_ns_ = uv_hrtime() + poll_window_ns_;
  if (!uv_is_active(poller_.handle()))
    check(uv_idle_start(poller_.get(), on_poll), "uv_idle_start");
}

// Once per loop turn while polling: stop when the window has passed, otherwise offer the CPU to
// whoever else is runnable here (the peer, on a machine with one core) and poll again.
void IpcChannel::on_poll(uv_idle_t* poller) {
  auto* self = static_cast<IpcChannel*>(poller->data);
  if (self == nullptr) return;
  if (uv_hrtime() >= self->poll_until_ns_) {
    uv_idle_stop(poller);
    return;
  }
  // Idle callbacks run just before the prepare phase, where a pending outbox is written: do not
  // give the CPU away in front of our own write.
  if (self->outbox_.empty()) sched_yield();
}

// Hands what the socket did not take to uv_write; the outbox is free again at once.
void IpcChannel::write_rest() {
  auto request = std::make_unique<WriteRequest>();
  request->data.swap(outbox_);
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  int rc = uv_write(&request->req, pipe_.stream(), &buf, 1, on_written);
  if (rc < 0) {
    end(uv_failure(rc, "write to IPC channel"));
    return;
  }
  static_cast<void>(request.release());  // owned by libuv until on_written
  write_in_flight_ = true;
}

void IpcChannel::on_written(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(reinterpret_cast<WriteRequest*>(req));
  auto* self = static_cast<IpcChannel*>(req->handle->data);
  if (self == nullptr) return;  // the channel was closed; the write was cancelled
  guard(self->loop_, [&] {
    self->write_in_flight_ = false;
    if (status < 0) {
      self->end(uv_failure(status, "write to IPC channel"));
      return;
    }
    self->schedule_flush();  // what was sent meanwhile
  });
}

void IpcChannel::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* self = static_cast<IpcChannel*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_.get(), kReadBufferSize);
}

void IpcChannel::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<IpcChannel*>(stream->data);
  if (self == nullptr) return;
  guard(self->loop_, [&] {
    if (nread > 0) {
      self->last_read_at_ = std::chrono::steady_clock::now();
      self->take_chunk(std::string_view(buf->base, static_cast<size_t>(nread)));
    } else if (nread == UV_EOF) {
      self->framer_.drop_tail();  // an unterminated last line is not a message
      self->end(std::nullopt);
    } else if (nread < 0) {
      self->end(uv_failure(static_cast<int>(nread), "read from IPC channel"));
    }
    // nread == 0: nothing to read right now (EAGAIN); not an end.
  });
}

void IpcChannel::take_chunk(std::string_view chunk) {
  auto result = framer_.feed(chunk, [this](std::string_view line) { return take_line(line); });
  if (result == LineFramer::Result::overflow) {
    end(Error{"EMSGSIZE", "IPC message longer than " + std::to_string(framer_.max_line()) +
                              " bytes without a newline"});
  }
}

bool IpcChannel::take_line(std::string_view line) {
  Json owned;
  Json& message = scratch_ ? scratch_->fresh() : owned;
  std::string error;
  switch (decode_line_into(parser_, message, line, &error)) {
    case DecodedLine::Kind::message:
      on_message_(message);
      break;
    case DecodedLine::Kind::invalid:
      on_invalid_(line, error);
      break;
    case DecodedLine::Kind::internal:  // Node's own traffic (handle passing, cluster): not ours
    case DecodedLine::Kind::blank:
      break;
  }
  return is_open();  // a handler may have closed us; then the rest of the chunk is dropped
}

void IpcChannel::end(std::optional<Error> error) {
  if (ended_) return;
  ended_ = true;
  EndHandler on_end = std::move(on_end_);
  close();
  if (on_end) on_end(std::move(error));
}

void IpcChannel::close() noexcept {
  ended_ = true;
  outbox_.clear();
  // The handlers are kept: close() may run inside one of them, which must not be destroyed
  // while it runs. ended_ keeps them from being called again.
  pipe_.close();  // clears pipe->data, so late write callbacks find no owner
  flusher_.close();
  poller_.close();
}

size_t IpcChannel::pending_bytes() const noexcept {
  size_t queued = pipe_.is_open() ? pipe_->write_queue_size : 0;  // bytes uv_write still holds
  return outbox_.size() + queued;
}

}  // namespace common
