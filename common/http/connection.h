// http/connection.h: one accepted TCP connection of the HTTP server (internal to server.cpp).
//
// A Connection owns itself: it is created on accept and deletes itself in the close callback of
// the last of its two handles (the socket and its timer), never earlier, because libuv may touch
// both until then. Requests are parsed one at a time and dispatched at once; their answers queue
// in `pipeline_` and reach the socket strictly in request order. The connection is the
// ResponseSink of every answer it holds, and detaches them all when it closes.
//
//  open ──(answer says close / error / EOF / server stopping)──▶ closing (flush writes)
//       ──uv_shutdown──▶ lingering (drain unread input, bounded) ──▶ closed ──▶ delete
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "common/http/config.h"
#include "common/http/parser.h"
#include "common/http/response.h"
#include "common/http/router.h"

namespace common::http {

class Connection;

// What the server and its connections share. Connections hold it by shared_ptr, so a Server
// destroyed before their close callbacks have run leaves them nothing dangling.
struct ServerCore {
  uv_loop_t* loop = nullptr;
  Config config;
  Router router;
  Handler fallback;
  bool stopping = false;
  std::unordered_set<Connection*> connections;
  std::function<void()> on_all_closed;  // set by Server::close
};

class Connection final : public ResponseSink {
 public:
  static void accept(const std::shared_ptr<ServerCore>& core, uv_stream_t* listener);
  void shut_down();  // server stopping: answer what is in flight, then close
  void close_now();  // drop everything (pending answers see connected() == false)
  void give_up();    // the grace of a stop is over: 503 for the first unanswered request

  // ResponseSink
  void on_output(ResponseState& state) override;
  [[nodiscard]] bool congested(const ResponseState& state) const override;
  [[nodiscard]] bool can_send_files(const ResponseState&) const override { return true; }

 private:
  enum class State { open, closing, lingering, closed };
  enum class Wait { none, headers, body, idle, write, linger };

  explicit Connection(std::shared_ptr<ServerCore> core);
  ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  int open(uv_stream_t* listener);

  // Reading and parsing (connection.cpp)
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void handle_bytes(std::string_view data);
  void parse_buffered();
  bool can_parse() const;
  bool room_for_more() const;
  bool write_queue_full() const;
  void handle_eof();
  void start_reading();
  void stop_reading();
  std::shared_ptr<ResponseState> enqueue(Request request);
  void route(const std::shared_ptr<ResponseState>& state);
  void handler_failed(const std::shared_ptr<ResponseState>& state, const char* what);
  void fail_request(const ParseError& error);
  void send_continue();

  // Writing, pipelining, closing (connection_write.cpp)
  void flush_pipeline();
  void after_flush();
  void write(std::string data);
  static void on_write(uv_write_t* req, int status);
  void after_write(int status);
  void notify_drain(const std::shared_ptr<ResponseState>& state, bool now);
  void log_access(const ResponseState& state) const;
  void close_after_writes();
  void begin_shutdown();
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_closed(uv_handle_t* handle);
  void detach_responses();
  void update_timer(bool restart = false);
  static void on_timeout(uv_timer_t* timer);

  // File bodies (connection_write.cpp)
  void pump_file(ResponseState& head);
  void write_file_piece(ResponseState& head);
  void fail_file(ResponseState& head, int status);
  void finish_file(ResponseState& state, int status);

  std::shared_ptr<ServerCore> core_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;  // of tcp_ and timer_: the last close callback deletes the connection
  State state_ = State::open;
  Wait wait_ = Wait::none;
  RequestParser parser_;
  std::string unparsed_;  // read but not parsed yet (the pipeline was full, or a request is cut)
  std::deque<std::shared_ptr<ResponseState>> pipeline_;
  size_t writes_pending_ = 0;
  size_t requests_seen_ = 0;
  size_t requests_at_arm_ = 0;  // requests_seen_ when the timer was last set
  bool reading_ = false;
  bool parsing_ = false;    // inside parse_buffered(): unparsed_ must not change under it
  bool peer_done_ = false;  // EOF from the client
  bool linger_ = false;     // input was (or may have been) left unread: drain it before closing
};

}  // namespace common::http
