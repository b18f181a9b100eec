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
// DbQuery times each query into the request's Answer, which reports the timings in Server-Timing
// and, with ?trace=1, in a 200 answer's body (docs/http.md §9 and §10).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

// The three queries, shaped like the tutorial's: users by id, posts {"poster": user.id},
// comments {"commenter": user.id}. A user without an "id" gives a null id (the worker refuses it).
[[nodiscard]] Json by_id(int64_t user_id);
[[nodiscard]] Json by_poster(const rapidjson::Value& user);
[[nodiscard]] Json by_commenter(const rapidjson::Value& user);

// What a stage may rely on in a worker's result, checked before the stage sees it: a user is an
// object with an integer "id", posts and comments are arrays (other buckets are not checked).
// A result of another shape becomes the EWORKER error returned here, so the client gets a 502.
[[nodiscard]] MaybeError check_result(std::string_view bucket, const rapidjson::Value& result);

// One request's answer in the making: its Response, the timings of its queries and whether
// ?trace=1 was asked. A cheap handle (copies share the state), so every callback of the request
// can hold one; the state lives as long as the last callback that holds it. The first answer
// wins; a second one is a bug in the stage, dropped with a warning on stderr that names the
// route. Answering a client that has gone away does nothing (Response::connected()), and so does
// answering a request the server answered itself (a 503 when a stop's grace ran out).
class Answer {
 public:
  explicit Answer(http::Response res);

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
  [[nodiscard]] const http::Request& request() const noexcept;
  // False once the client has gone (Response::connected()): nobody is left to answer.
  [[nodiscard]] bool connected() const noexcept;

 private:
  friend class DbQuery;
  struct State;
  void note(std::string bucket, const QueryTiming& timing) const;
  // The one way out: `body` with Server-Timing, or the warning if the request has its answer.
  void send(int status, const std::string& body, const std::string& error = "") const;
  std::shared_ptr<State> state_;
};

// The tutorial's db_query(bucket, query, callback), bound to one request: it asks the broker and
// notes the query's timing in the request's Answer under the same bucket. A cheap handle, meant
// to be captured by value. `done(error, result)` may be move-only; a result failing check_result
// is an error. It is always called, never inside the call: ignoring late results is the stage's
// decision (the lesson). A query still queued when the client goes gets ECANCELED.
class DbQuery {
 public:
  DbQuery(Broker& broker, Answer answer) : broker_(&broker), answer_(std::move(answer)) {}

  template <typename Callback>
  void operator()(const std::string& bucket, const Json& query, Callback done) const {
    // Broker callbacks are std::function (copyable); a move-only callback is shared instead.
    auto callback = std::make_shared<Callback>(std::move(done));
    auto noted = [answer = answer_, bucket, callback](MaybeError error, Json result,
                                                      QueryTiming timing) {
      answer.note(bucket, timing);
      if (!error) error = check_result(bucket, result);
      (*callback)(std::move(error), std::move(result));
    };
    broker_->query(bucket, query, std::move(noted),
                   [answer = answer_] { return answer.connected(); });
  }

 private:
  Broker* broker_;
  Answer answer_;
};

// A route handler for "/…/:userId": answers 400 {"error":"userId must be a positive integer, not
// 'abc'"} itself (digits only, 1 … 2^53−1), or calls handle(answer, user_id).
[[nodiscard]] http::Handler user_route(std::function<void(Answer answer, int64_t user_id)> handle);

// The HTTP settings of a stage: the access log unless --quiet.
[[nodiscard]] http::Config http_config(const StageOptions& options);

// For main()'s catch: "NN-name: <what went wrong>" on stderr; returns the exit code 1.
int report_failure(const char* program, const std::exception& error);

}  // namespace common
