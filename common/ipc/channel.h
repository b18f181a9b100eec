// ipc/channel.h: one end of a Node-compatible IPC channel (newline-delimited JSON on a pipe).
//
// Both sides use it: the broker on the pipe uv_spawn created for a worker, the worker on the fd
// named by NODE_CHANNEL_FD. Each complete line is parsed as one JSON message; Node-internal
// messages (a string `cmd` longer than 5 characters starting with "NODE_") are skipped, exactly
// as Node does, and blank lines are tolerated. Outgoing messages are compact JSON plus '\n'.
//
// Writes are batched: send() only appends to an outbox, and the outbox is written with one
// uv_try_write from a prepare handle, i.e. just before the loop would wait for events. All the
// messages produced in one loop turn (a burst of queries, a batch of replies) leave in one
// write(2), usually without a write request or a completion callback; only what the socket
// does not take at once goes through uv_write. That is most of what makes the pool fast.
// Two exceptions: an outbox that reaches 2 KiB is written at once, so that the peer can start on
// the first messages of a long burst while we produce the rest (otherwise two processes
// exchanging bursts would take turns instead of working at the same time); and a caller that
// knows the peer is idle, waiting for this line, asks for it at once (schedule_flush(Write::now)):
// the broker does, for a query that is the only one its worker has.
//
// Polling briefly before sleeping (poll_after_write): once we have written to the peer, its
// answer usually comes back within microseconds. If the loop went to sleep in epoll_wait
// meanwhile, the kernel — and in a virtual machine, the hypervisor — would have to wake this
// CPU up again, which on an idle machine costs more than the whole round trip. So for a short
// window after each write the channel keeps the loop polling (an active idle handle makes
// uv_run poll with a zero timeout), yielding the CPU to anyone else who wants it meanwhile.
// The cost is bounded: at most one window of polling per write, none while the peer is busy
// for longer than the window.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/uv/handle.h"
#include "common/json.h"
#include "common/ipc/line_framer.h"
#include "common/uv/error.h"

namespace common {

// True for the messages Node keeps for itself: {"cmd":"NODE_…"} with more than 5 characters.
bool is_internal_message(const rapidjson::Value& message);

// What one line of the wire is.
struct DecodedLine {
  enum class Kind { message, internal, blank, invalid };
  Kind kind = Kind::blank;
  Json message;       // the parsed value when kind is message or internal
  std::string error;  // why it is invalid, when kind is invalid
};
DecodedLine decode_line(std::string_view line);
// The same, parsing with `parser` into an existing document; `error` is set for an invalid line.
DecodedLine::Kind decode_line_into(JsonParser& parser, Json& document, std::string_view line,
                                   std::string* error);

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
  ~IpcChannel();
  IpcChannel(const IpcChannel&) = delete;
  IpcChannel& operator=(const IpcChannel&) = delete;

  // The pipe to hand to uv_spawn (stdio entry with UV_CREATE_PIPE) before start().
  [[nodiscard]] uv_pipe_t* pipe() const noexcept { return pipe_.get(); }
  // The child side: adopt an inherited fd (NODE_CHANNEL_FD). Throws UvError, also when the fd
  // is not a pipe or a Unix socket (a closed fd, a file, a terminal).
  void open(int fd);
  // Parse every message into one reused document and buffer instead of a new document each:
  // no allocation per message, but the handler must not keep or move the document (copy what
  // it keeps). The worker uses this; the broker hands documents on, so it does not.
  void borrow_messages();
  // Keep the loop polling for `window` after each write instead of sleeping (see the top of
  // this file); zero, the default, turns it off.
  void poll_after_write(std::chrono::microseconds window) noexcept;
  // Starts reading. Throws UvError if reading cannot start.
  void start(MessageHandler on_message, EndHandler on_end, InvalidHandler on_invalid = {});

  // Queues one message: `json_line` is compact JSON *without* the newline. It is written before
  // the loop next waits for events.
  void send(std::string_view json_line);
  void send(const rapidjson::Value& message);
  // For callers that serialise straight into the outgoing buffer: append complete lines
  // (each ending in '\n') to outbox(), then call schedule_flush() (or flush() to write now).
  std::string& outbox() noexcept { return outbox_; }
  // When schedule_flush() writes: `soon` lets later lines join the write until the loop turn
  // ends (or the outbox reaches 2 KiB); `now` writes what the socket takes at once, for a caller
  // whose peer is idle, waiting for this line (lines added later in the turn still leave
  // together at its end). Either way a failed write is reported from the loop, never from
  // inside this call.
  enum class Write { soon, now };
  void schedule_flush(Write when = Write::soon);
  void flush();

  // Stops reading and closes the pipe; idempotent. Unsent messages are dropped; no handler is
  // called afterwards.
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return pipe_.is_open() && !ended_; }
  // When the bytes of the message being handled were read: one clock read per read, however many
  // messages it held (the broker's "answer arrived" time).
  [[nodiscard]] std::chrono::steady_clock::time_point last_read_at() const noexcept {
    return last_read_at_;
  }
  // Bytes waiting in the outbox or in libuv's write queue.
  [[nodiscard]] size_t pending_bytes() const noexcept;

 private:
  struct WriteRequest;
  struct Scratch;
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  static void on_prepare(uv_prepare_t* prepare);
  static void on_poll(uv_idle_t* poller);
  void keep_polling();
  int write_what_fits();
  void write_rest();
  void take_chunk(std::string_view chunk);
  bool take_line(std::string_view line);
  void end(std::optional<Error> error);

  uv_loop_t& loop_;
  Handle<uv_pipe_t> pipe_;
  Handle<uv_prepare_t> flusher_;  // active only while the outbox has bytes to write
  Handle<uv_idle_t> poller_;      // active only within poll_window_ after a write
  uint64_t poll_window_ns_ = 0;
  uint64_t poll_until_ns_ = 0;  // uv_hrtime() at which polling gives way to sleeping
  std::chrono::steady_clock::time_point last_read_at_;
  LineFramer framer_;
  JsonParser parser_;
  // One read buffer reused for every read: libuv never has two reads in flight on a stream and
  // take_chunk() copies whatever it keeps, so the buffer is free again when on_read returns.
  std::unique_ptr<char[]> read_buffer_;
  std::unique_ptr<Scratch> scratch_;  // set by borrow_messages()
  std::string outbox_;
  bool write_in_flight_ = false;  // a uv_write is pending; the outbox waits for it
  bool ended_ = false;
  MessageHandler on_message_;
  EndHandler on_end_;
  InvalidHandler on_invalid_;
};

}  // namespace common
