// http/connection_write.cpp: the writing half of a Connection — answers leave in request order,
// big ones with back-pressure, file bodies with sendfile(2) — plus closing and the timer.
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "common/http/connection.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

namespace common::http {
namespace {

constexpr uint64_t kBurst = uint64_t{1024} * 1024;  // file bytes sent per turn of the loop, at most
constexpr uint64_t kPiece = uint64_t{16} * 1024;    // the part of a file queued as a plain write

// One queued write; the bytes must live until libuv calls on_write.
struct WriteReq {
  uv_write_t req{};
  std::string data;
};

}  // namespace

void Connection::on_output(ResponseState& state) {
  if (state_ != State::open || pipeline_.empty() || pipeline_.front().get() != &state) return;
  flush_pipeline();  // not at the front: its bytes wait in state.out until it is
}

// Sends what the front answers have produced; a finished answer makes room for the next.
void Connection::flush_pipeline() {
  while (!pipeline_.empty() && state_ == State::open) {
    // Held here: a failed write empties the pipeline, which may have been its last owner.
    std::shared_ptr<ResponseState> head_owner = pipeline_.front();
    ResponseState& head = *head_owner;
    if (!head.out.empty()) write(std::exchange(head.out, std::string()));
    if (state_ != State::open) break;
    if (head.file) pump_file(head);  // until it is sent, on_write brings us back here
    if (head.file || head.phase != ResponseState::Phase::ended || state_ != State::open) break;
    pipeline_.pop_front();
    head.sink = nullptr;
    log_access(head);
    if (!head.keep_alive || head.short_body) return close_after_writes();
    if (!pipeline_.empty()) notify_drain(pipeline_.front(), false);  // it may produce now
  }
  after_flush();
}

// After the pipeline changed: close, or take in more requests, as the situation asks.
void Connection::after_flush() {
  if (state_ != State::open) return;
  if (!unparsed_.empty()) parse_buffered();  // or drops them, if they will never be parsed
  if (state_ != State::open) return;
  if (pipeline_.empty() && unparsed_.empty() && (peer_done_ || !can_parse()))
    return close_after_writes();
  if (!parsing_ && room_for_more() && can_parse()) start_reading();
  update_timer();
}

bool Connection::congested(const ResponseState& state) const {
  if (state_ == State::closed) return true;
  if (pipeline_.empty() || pipeline_.front().get() != &state)
    return state.out.size() > core_->config.write_high_water;
  return write_queue_full();
}

// More than write_high_water bytes wait in the socket's write queue for the client to read.
bool Connection::write_queue_full() const {
  auto* s = reinterpret_cast<const uv_stream_t*>(&tcp_);
  return uv_stream_get_write_queue_size(s) > core_->config.write_high_water;
}

// Calls state.drain if it is set and the answer may produce again: at once from on_write
// (`now`), else on the next turn (Response::on_drain posts it).
void Connection::notify_drain(const std::shared_ptr<ResponseState>& state, bool now) {
  if (!state->drain || (state->sink != nullptr && congested(*state))) return;
  std::function<void()> resume = std::exchange(state->drain, nullptr);
  if (now) return resume();
  Response(state).on_drain(std::move(resume));
}

// Queues `data` behind what is queued already. uv_write writes at once when nothing is waiting
// before it and keeps the rest for when the socket has room; on_write runs on a later turn.
void Connection::write(std::string data) {
  if (state_ == State::closed || data.empty()) return;
  auto req = std::make_unique<WriteReq>();
  req->data = std::move(data);
  req->req.data = this;
  uv_buf_t buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  if (uv_write(&req->req, stream(), &buf, 1, on_write) < 0) return close_now();
  static_cast<void>(req.release());  // on_write owns it now
  ++writes_pending_;
  update_timer();
}

void Connection::on_write(uv_write_t* req, int status) {
  std::unique_ptr<WriteReq> owned(reinterpret_cast<WriteReq*>(req));
  auto* self = static_cast<Connection*>(req->data);  // alive: its close callback comes later
  guard(*self->core_->loop, [&] { self->after_write(status); });
}

void Connection::after_write(int status) {
  --writes_pending_;
  if (state_ == State::closed) return;
  if (status < 0) return close_now();
  if (state_ == State::closing && writes_pending_ == 0) return begin_shutdown();
  if (state_ != State::open) return;
  if (!pipeline_.empty()) notify_drain(pipeline_.front(), true);
  flush_pipeline();    // a file body goes on; requests held back by the queue may come in now
  update_timer(true);  // progress: the write-stall clock starts again
}

void Connection::log_access(const ResponseState& state) const {
  if (!core_->config.access_log || state.request.method.empty()) return;
  using Ms = std::chrono::duration<double, std::milli>;
  double ms = Ms(std::chrono::steady_clock::now() - state.request.arrived).count();
  std::fprintf(stderr, "%s %s %d %llu %.1fms\n", state.request.method.c_str(),
               state.request.target.c_str(), state.status,
               static_cast<unsigned long long>(state.body_bytes), ms);
}

void Connection::close_after_writes() {
  if (state_ != State::open) return;
  state_ = State::closing;
  if (!reading_) linger_ = true;  // the kernel may hold input we never looked at
  detach_responses();
  if (writes_pending_ == 0) return begin_shutdown();
  update_timer();
}

// Half-close: the client sees our FIN after the last answer. If input was left unread we keep
// draining it for a while (linger), as closing now would reset the connection and could
// destroy that answer in the client's receive buffer; otherwise we close once the FIN is out.
void Connection::begin_shutdown() {
  state_ = State::lingering;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, stream(), on_shutdown) < 0) return close_now();
  update_timer();
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  if (self->state_ == State::closed) return;  // UV_ECANCELED: already closing
  guard(*self->core_->loop, [&] {
    if (status < 0 || self->peer_done_ || !self->linger_) return self->close_now();
    self->start_reading();
  });
}

void Connection::close_now() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  reading_ = false;
  detach_responses();
  auto* tcp = reinterpret_cast<uv_handle_t*>(&tcp_);
  auto* timer = reinterpret_cast<uv_handle_t*>(&timer_);
  if (!uv_is_closing(tcp)) uv_close(tcp, on_closed);
  if (open_handles_ == 2 && !uv_is_closing(timer)) uv_close(timer, on_closed);  // 1: never init
}

void Connection::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  if (--self->open_handles_ > 0) return;
  std::shared_ptr<ServerCore> core = std::move(self->core_);
  core->connections.erase(self);
  delete self;
  if (core->stopping && core->connections.empty() && core->on_all_closed) {
    std::function<void()> done = std::exchange(core->on_all_closed, nullptr);
    guard(*core->loop, done);
  }
}

// Every answer still held learns that its connection is gone; a waiting producer is woken on
// the next turn, where it meets connected() == false.
void Connection::detach_responses() {
  for (const auto& state : std::exchange(pipeline_, {})) {
    state->sink = nullptr;
    if (state->file) finish_file(*state, UV_ECANCELED);  // the caller closes its file
    notify_drain(state, false);
  }
}

// Sets the one timer for what the connection waits for now (a new wait starts a new clock).
void Connection::update_timer(bool restart) {
  if (state_ == State::closed || open_handles_ < 2) return;
  const bool first_request = requests_seen_ == 0 && !parser_.in_message();
  Wait want = state_ == State::lingering                   ? Wait::linger
              : writes_pending_ > 0                        ? Wait::write
              : parser_.reading_headers() || first_request ? Wait::headers
              : parser_.in_message()                       ? Wait::body
              : pipeline_.empty()                          ? Wait::idle
                                                           : Wait::none;
  // A new request is progress even from idle to idle, so the clock starts again; not for a
  // stalled write, where only the client reading counts (after_write), or a client that never
  // reads could keep its connection by asking again now and then.
  if (requests_seen_ != requests_at_arm_) {
    requests_at_arm_ = requests_seen_;
    restart = restart || want != Wait::write;
  }
  if (want == wait_ && !restart) return;
  wait_ = want;
  const Config& config = core_->config;
  std::chrono::milliseconds delay = want == Wait::headers  ? config.header_timeout
                                    : want == Wait::linger ? config.linger_timeout
                                                           : config.idle_timeout;
  int rc = want == Wait::none
               ? uv_timer_stop(&timer_)
               : uv_timer_start(&timer_, on_timeout, static_cast<uint64_t>(delay.count()), 0);
  if (rc < 0) close_now();
}

void Connection::on_timeout(uv_timer_t* timer) {
  auto* self = static_cast<Connection*>(timer->data);
  if (self->core_->config.access_log && self->wait_ != Wait::linger && self->wait_ != Wait::idle)
    std::fprintf(stderr, "http: closing a connection that made no progress (%s)\n",
                 self->wait_ == Wait::headers ? "header timeout" : "timeout");
  guard(*self->core_->loop, [&] { self->close_now(); });
}

// File bodies (Response::send_file). sendfile(2) copies from the page cache to the socket in the
// kernel; on our non-blocking socket it moves what the socket buffer can take and returns at once
// (a regular file never makes it wait long). libuv tells us that a full socket (EAGAIN) has room
// again only through a write's callback, so the next small piece of the file goes as an ordinary
// uv_write, whose on_write brings us back to sendfile. The same ends a burst of kBurst bytes, so
// one big download cannot hold the loop while other clients wait.

// Sends what it can of the head's file; head.file is reset once it is all sent (or failed).
void Connection::pump_file(ResponseState& head) {
  if (writes_pending_ > 0) return;  // the bytes before ours go first; on_write resumes
  FileBody& file = *head.file;
  uv_os_fd_t socket = -1;
  if (int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &socket); rc < 0)
    return fail_file(head, rc);
  uint64_t sent = 0;
  while (file.remaining > 0 && sent < kBurst && !file.use_reads) {
    auto offset = static_cast<off_t>(file.offset);
    ssize_t n = ::sendfile(socket, file.fd, &offset, std::min(file.remaining, kBurst - sent));
    if (n > 0) {
      file.offset += static_cast<uint64_t>(n);
      file.remaining -= static_cast<uint64_t>(n);
      sent += static_cast<uint64_t>(n);
    } else if (n == 0) {
      return fail_file(head, UV_EOF);  // the file shrank under us
    } else if (errno == EAGAIN) {
      break;  // the socket is full
    } else if ((errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && sent == 0) {
      file.use_reads = true;  // sendfile(2) cannot do this file; copying still works
    } else if (errno != EINTR) {
      return fail_file(head, uv_translate_sys_error(errno));
    }
  }
  if (file.remaining == 0) return finish_file(head, 0);
  write_file_piece(head);
}

// Queues the next piece of the file as a normal write, whose callback resumes pump_file.
void Connection::write_file_piece(ResponseState& head) {
  FileBody& file = *head.file;
  std::string piece(std::min(file.remaining, kPiece), '\0');
  ssize_t n = -1;
  do {
    n = ::pread(file.fd, piece.data(), piece.size(), static_cast<off_t>(file.offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return fail_file(head, n == 0 ? UV_EOF : uv_translate_sys_error(errno));
  piece.resize(static_cast<size_t>(n));
  file.offset += static_cast<uint64_t>(n);
  file.remaining -= static_cast<uint64_t>(n);
  write(std::move(piece));
}

// The body cannot be completed: the client must not wait for bytes that will never come.
void Connection::fail_file(ResponseState& head, int status) {
  if (status != UV_EPIPE && status != UV_ECONNRESET)  // a client leaving is no news
    std::fprintf(stderr, "http: sending a file for %s failed: %s\n", head.request.target.c_str(),
                 uv_strerror(status));
  finish_file(head, status);
  close_now();
}

// Hands `done` its status on the next turn of the loop (never from inside send_file).
void Connection::finish_file(ResponseState& state, int status) {
  std::function<void(int)> done = std::move(state.file->done);
  state.file.reset();
  if (done) set_immediate(*core_->loop, [done = std::move(done), status] { done(status); });
}

}  // namespace common::http
