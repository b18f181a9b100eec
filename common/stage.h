// stage.h: what every broker-backed stage (02–05) shares, so that a stage's main.cpp holds only
// its concept: how the three queries of GET /…/:userId are put together.
//
//   server.get("/sync/:userId", common::user_route([&broker](Answer answer, int64_t user_id) {
//     common::DbQuery db_query(broker, answer);
//     db_query("users", by_id(user_id), [=](MaybeError error, Json user) {
//       if (error) return answer.fail(*error);          // 404/502/503/504, answered once
//       ...
//       return answer.json(user, posts, comments);      // 200 {"user":…,"posts":…,"comments":…}
//     });
//   }));
//
// user_route() parses :userId (400 unless it is a positive integer ≤ 2^53−1) and hands the stage
// an Answer: the request's answer in the making. DbQuery (the tutorial's db_query) sends a query
// to the broker and, through answer.record(bucket, callback), notes when it ran (ms since the
// request arrived, as measured by the broker), so every answer carries
//   Server-Timing: users;dur=1000.4, posts;dur=1000.9, comments;dur=1001.2
// and, with ?trace=1, "trace":[{"bucket":"users","start":0.0,"end":1000.4},…] in a 200 answer.
// An error answer's body stays {"error":"…"} (docs/http.md §9: one shape for errors); its timing is
// in the Server-Timing header only. http_config() and report_failure() are the small pieces of the
// main() every stage shares.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/config.h"
#include "common/http/response.h"
#include "common/http/server.h"
#include "common/ipc/broker.h"
#include "common/json.h"
#include "common/options.h"
#include "common/uv/error.h"

namespace common {

// The error argument of a Node-style callback: nullopt means success.
using MaybeError = std::optional<Error>;

// ---------------------------------------------------------------- the request's userId

// The largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER).
inline constexpr int64_t kMaxUserId = (int64_t{1} << 53) - 1;

// Digits only, 1 … kMaxUserId ("007" is 7); nullopt for "abc", "-1", "1.5", "0", "1e3", 30 digits.
[[nodiscard]] std::optional<int64_t> parse_user_id(std::string_view text);

// The three queries, shaped like the tutorial's: users by id, posts {"poster": user.id},
// comments {"commenter": user.id}. A user without an "id" gives a null id (the worker refuses it).
[[nodiscard]] Json by_id(int64_t user_id);
[[nodiscard]] Json by_poster(const rapidjson::Value& user);
[[nodiscard]] Json by_commenter(const rapidjson::Value& user);

// ---------------------------------------------------------------- the trace of one request

// One query as it ran: ms since the request arrived.
struct Span {
  std::string bucket;
  double start_ms = 0;
  double end_ms = 0;
};

// The queries of one request, in the order they started.
class Trace {
 public:
  explicit Trace(std::chrono::steady_clock::time_point arrived) : arrived_(arrived) {}
  void add(std::string bucket, const QueryTiming& timing);
  [[nodiscard]] const std::vector<Span>& spans() const noexcept { return spans_; }
  // "users;dur=1000.4, posts;dur=1000.9" ("" when no query ran).
  [[nodiscard]] std::string server_timing() const;
  // [{"bucket":"users","start":0.0,"end":1000.4}, …], times rounded to 0.1 ms.
  [[nodiscard]] rapidjson::Value to_json(rapidjson::Document::AllocatorType& allocator) const;

 private:
  std::chrono::steady_clock::time_point arrived_;
  std::vector<Span> spans_;
};

// ---------------------------------------------------------------- the answer

// One request's answer in the making: its Response, its Trace and whether ?trace=1 was asked.
// A cheap handle (copies share the state), so every callback of the request can hold one; the
// state lives as long as the last callback that holds it. The first answer wins; a second one is
// a bug in the stage, dropped with a warning on stderr that names the route. Answering a client
// that has gone away does nothing (Response::connected()).
class Answer {
 public:
  explicit Answer(http::Response res);

  // A Broker::TimedCallback that notes the query's timing under `bucket`, then calls
  // done(error, result). `done` may be move-only (a lambda holding a Json), a common::Done of
  // auto_run, or the callback nfbind hands over. It is always called: ignoring late results is
  // the stage's decision (the lesson), not hidden here.
  template <typename Callback>
  [[nodiscard]] Broker::TimedCallback record(std::string bucket, Callback done) const;

  // 200 {"user":…,"posts":…,"comments":…} (+ "trace" with ?trace=1) and Server-Timing.
  void json(const rapidjson::Value& user, const rapidjson::Value& posts,
            const rapidjson::Value& comments) const;
  // 200 with a body of the stage's own shape (a JSON object; "trace" is added with ?trace=1) and
  // Server-Timing: for answers that are not user+posts+comments (the exercises add fields).
  void json(Json body) const;
  // http_status_for(error) with {"error": message} (and Server-Timing for the queries so far).
  void fail(const Error& error) const;
  // A promise's rejection: a common::Error inside → as above; any other exception → 500.
  void fail(const std::exception_ptr& reason) const;

  // The request being answered (its query string, its headers).
  [[nodiscard]] const http::Request& request() const noexcept { return state_->res.request(); }
  [[nodiscard]] bool answered() const noexcept { return state_->res.answered(); }
  [[nodiscard]] bool connected() const noexcept { return state_->res.connected(); }
  [[nodiscard]] const Trace& trace() const noexcept { return state_->trace; }

 private:
  struct State {
    http::Response res;
    Trace trace;
    bool wants_trace = false;
  };
  void add_server_timing() const;
  // True, after a warning on stderr naming the route, if the request was answered already.
  [[nodiscard]] bool answered_before(std::string_view second) const;
  std::shared_ptr<State> state_;
};

template <typename Callback>
Broker::TimedCallback Answer::record(std::string bucket, Callback done) const {
  // Broker callbacks are std::function (copyable); a move-only callback is shared instead.
  auto callback = std::make_shared<Callback>(std::move(done));
  return [state = state_, bucket = std::move(bucket), callback](MaybeError error, Json result,
                                                                QueryTiming timing) {
    state->trace.add(bucket, timing);
    (*callback)(std::move(error), std::move(result));
  };
}

// ---------------------------------------------------------------- db_query

// The tutorial's db_query(bucket, query, callback), bound to one request: it asks the broker and
// notes the query's timing in the request's Answer under the same bucket, so a stage names each
// bucket once. A cheap handle (copies share the answer), meant to be captured by value.
//   common::DbQuery db_query(broker, answer);
//   db_query("users", by_id(user_id), [=](MaybeError error, Json user) { … });
// `done(error, result)` may be move-only; it is always called, and never inside the call.
class DbQuery {
 public:
  DbQuery(Broker& broker, Answer answer) : broker_(&broker), answer_(std::move(answer)) {}

  template <typename Callback>
  void operator()(const std::string& bucket, const Json& query, Callback done) const {
    broker_->query(bucket, query, answer_.record(bucket, std::move(done)));
  }

 private:
  Broker* broker_;
  Answer answer_;
};

// ---------------------------------------------------------------- routes and the program

// A route handler for "/…/:userId": answers 400 {"error":"userId must be a positive integer, not
// 'abc'"} itself, or calls handle(answer, user_id).
[[nodiscard]] http::Handler user_route(std::function<void(Answer answer, int64_t user_id)> handle);

// The HTTP settings of a stage: the access log unless --quiet.
[[nodiscard]] http::Config http_config(const StageOptions& options);

// For main()'s catch: "NN-name: <what went wrong>" on stderr; returns the exit code 1.
int report_failure(const char* program, const std::exception& error);

}  // namespace common
