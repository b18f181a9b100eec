// http/connection.cpp: accepting, reading, parsing and dispatching (the writing half is in
// connection_write.cpp).
#include "common/http/connection.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>

#include "common/uv/loop.h"

namespace common::http {

void Connection::accept(const std::shared_ptr<ServerCore>& core, uv_stream_t* listener) {
  auto* connection = new Connection(core);
  int rc = uv_tcp_init(core->loop, &connection->tcp_);
  if (rc < 0) {
    delete connection;  // no handle was initialised: libuv knows nothing of it
  } else {
    ++connection->open_handles_;
    core->connections.insert(connection);
    rc = connection->open(listener);
    if (rc < 0) connection->close_now();  // deleted in on_closed
  }
  if (rc < 0) std::fprintf(stderr, "http: accepting a connection failed: %s\n", uv_strerror(rc));
}

Connection::Connection(std::shared_ptr<ServerCore> core)
    : core_(std::move(core)), parser_(core_->config.limits) {
  tcp_.data = this;
  timer_.data = this;
}

// Returns 0, or the libuv error that makes the connection unusable (the caller closes it).
int Connection::open(uv_stream_t* listener) {
  int rc = uv_timer_init(core_->loop, &timer_);
  if (rc < 0) return rc;
  ++open_handles_;
  rc = uv_accept(listener, stream());
  if (rc == 0) rc = uv_tcp_nodelay(&tcp_, 1);  // small answers must not wait for Nagle
  if (rc < 0) return rc;
  start_reading();
  update_timer();
  return 0;
}

void Connection::start_reading() {
  if (reading_ || peer_done_ || state_ == State::closed) return;
  if (uv_read_start(stream(), on_alloc, on_read) < 0) return close_now();
  reading_ = true;
}

void Connection::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(stream());  // always returns 0
}

// Each read gets a buffer of its own, freed by on_read once the bytes are parsed or copied:
// the simplest correct choice, and an idle connection holds no buffer at all.
void Connection::on_alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
  char* base = new (std::nothrow) char[suggested];  // null: on_read gets UV_ENOBUFS
  // on_read frees it, which the analyzer cannot follow through libuv.
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks)
  *buf = uv_buf_init(base, base == nullptr ? 0 : static_cast<unsigned>(suggested));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  std::unique_ptr<char[]> owned(buf->base);  // from on_alloc (or null): freed on return
  auto* self = static_cast<Connection*>(stream->data);
  guard(*self->core_->loop, [&] {
    if (nread > 0) return self->handle_bytes({buf->base, static_cast<size_t>(nread)});
    if (nread == UV_EOF) return self->handle_eof();
    if (nread < 0) self->close_now();  // ECONNRESET and friends: nobody is left to answer
    // nread == 0: nothing this time (EAGAIN), not an end.
  });
}

void Connection::handle_bytes(std::string_view data) {
  if (state_ != State::open) {
    linger_ = true;  // closing or lingering: unread input is discarded
    return;
  }
  unparsed_.append(data);
  parse_buffered();
  if (state_ == State::open && !room_for_more()) stop_reading();  // else closing decides
  // No restart while a body arrives: it must be complete idle_timeout after its head, or a
  // client sending a byte a minute would hold the connection for ever (Node: requestTimeout).
  update_timer();
}

bool Connection::can_parse() const {
  return state_ == State::open && !core_->stopping && !parser_.error() && !parser_.closed();
}

// Not while answers already given wait in the write queue either: they leave the pipeline at
// once, so a client that never reads could pile them up without bound (docs/http.md §6).
bool Connection::room_for_more() const {
  return pipeline_.size() < core_->config.max_pipelined && !write_queue_full();
}

// Feeds the parser from unparsed_ until the bytes run out, the pipeline is full or parsing must
// stop; bytes that will never be parsed are dropped, and remembered as unread (linger_).
void Connection::parse_buffered() {
  if (parsing_) return;  // the loop below, further up the stack, will get to them
  parsing_ = true;
  size_t used = 0;
  while (used < unparsed_.size() && can_parse() && room_for_more()) {
    size_t n = parser_.feed(std::string_view(unparsed_).substr(used));
    used += n;
    if (parser_.take_continue()) send_continue();
    if (parser_.has_request()) {
      ++requests_seen_;
      route(enqueue(parser_.take_request()));
    } else if (parser_.error()) {
      fail_request(*parser_.error());
    } else if (n == 0) {
      break;
    }
  }
  parsing_ = false;
  unparsed_.erase(0, used);
  if (!can_parse() && !unparsed_.empty()) {
    linger_ = true;
    unparsed_.clear();
  }
}

// The client's end of input with answers still owed means it has left (Node's default,
// httpAllowHalfOpen = false): they are dropped, what is queued for writing still goes out. With
// none owed, a request begun but not complete gets a 400 instead of a silent close. (Reading is
// stopped while unparsed_ holds bytes, so they come first.)
void Connection::handle_eof() {
  peer_done_ = true;
  stop_reading();
  if (state_ == State::lingering) return close_now();
  if (state_ != State::open) return;
  if (!pipeline_.empty()) return close_after_writes();  // detaches them: connected() == false
  if (unparsed_.empty() && !parser_.error()) {
    parser_.finish();
    if (parser_.error()) fail_request(*parser_.error());
  }
  after_flush();  // closes now if nothing is left to answer
}

// A new answer at the back of the pipeline, for `request`.
std::shared_ptr<ResponseState> Connection::enqueue(Request request) {
  auto state = std::make_shared<ResponseState>();
  state->request = std::move(request);
  state->sink = this;
  state->loop = core_->loop;
  state->keep_alive = state->request.keep_alive;
  pipeline_.push_back(state);
  return state;
}

void Connection::route(const std::shared_ptr<ResponseState>& state) {
  Response res(state);
  const Request& req = state->request;
  try {
    RouteMatch match = core_->router.match(req.method, req.path);
    if (match.route != nullptr) {
      state->request.params = std::move(match.params);
      match.route->handler(req, res);
    } else if (match.status == 404 && core_->fallback) {
      core_->fallback(req, res);
    } else {
      if (!match.allow.empty()) res.set_header("Allow", match.allow);
      res.error(match.status, match.message);
    }
  } catch (const std::exception& error) {
    handler_failed(state, error.what());
  } catch (...) {
    handler_failed(state, "an exception that is not a std::exception");
  }
}

// Like Express: a handler that throws gets a 500 if it has not answered yet. A body already on
// its way cannot be finished honestly, so that connection is cut (the client sees it truncated).
void Connection::handler_failed(const std::shared_ptr<ResponseState>& state, const char* what) {
  std::fprintf(stderr, "http: handler for %s %s threw: %s\n", state->request.method.c_str(),
               state->request.path.c_str(), what);
  if (state->phase == ResponseState::Phase::streaming && state->sink != nullptr) return close_now();
  Response(state).error(500, "Internal Server Error");
}

void Connection::fail_request(const ParseError& error) {
  linger_ = true;  // the rest of what the client sends will not be read
  if (core_->config.access_log)
    std::fprintf(stderr, "http: refused a request: %d %s\n", error.status, error.message.c_str());
  std::shared_ptr<ResponseState> refused = enqueue(Request{});  // no method: not logged
  refused->keep_alive = false;  // the byte stream can no longer be trusted
  Response(refused).error(error.status, error.message);
}

// "100 Continue" takes its place in the pipeline like an answer, so that it leaves after the
// answers to the requests before its own and before its request's answer.
void Connection::send_continue() {
  std::shared_ptr<ResponseState> interim = enqueue(Request{});  // no method: not logged
  interim->out = "HTTP/1.1 100 Continue\r\n\r\n";
  interim->phase = ResponseState::Phase::ended;
  on_output(*interim);
}

// core_->stopping makes can_parse() false: nothing new is taken in. The last answer asked for
// says "Connection: close", unless its head has left already.
void Connection::shut_down() {
  if (state_ != State::open) return;
  if (!pipeline_.empty() && pipeline_.back()->phase == ResponseState::Phase::waiting)
    pipeline_.back()->keep_alive = false;
  after_flush();
}

// Server::answer_unavailable. Requests pipelined behind the 503 get nothing: the close tells them.
void Connection::give_up() {
  auto unfinished = std::find_if(pipeline_.begin(), pipeline_.end(), [](const auto& state) {
    return state->phase != ResponseState::Phase::ended;
  });
  if (state_ != State::open || unfinished == pipeline_.end()) return;
  if ((*unfinished)->phase == ResponseState::Phase::streaming) return close_now();
  (*unfinished)->headers.clear();  // set by the handler for an answer that will not be
  (*unfinished)->keep_alive = false;
  Response(*unfinished).error(503, "the server is shutting down");
}

}  // namespace common::http
