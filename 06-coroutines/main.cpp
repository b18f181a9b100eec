// 06-coroutines: GET /await/:userId — the promise route of 05 written as one coroutine. The
// query is the same Promise (q_query = nfbind(db_query)), but the function awaits it: each
// co_await hands the loop back and the code below it runs when the value is there, on a later
// turn. Posts and comments are both started before the one co_await on all(posts, comments); an
// error thrown at any co_await rejects the coroutine's promise, and one fail answers it.
//
//   Run it: the "Run it" section of this stage's README.md.
//
//   0 s          1 s          2 s
//   [-- users --]
//                [-- posts --]
//                [- comments -]     answer after ~2 s
//
// ANCHOR: includes
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <variant>

#include "common/flow/coroutine.h"
#include "common/flow/promise.h"
#include "common/http/shutdown.h"
#include "common/stage.h"
#include "common/uv/loop.h"
// ANCHOR_END: includes

// ANCHOR: config
namespace {

using common::Answer;
using common::Broker;
using common::by_commenter;
using common::by_id;
using common::by_poster;
using common::DbQuery;
using common::Json;
using common::Promise;

constexpr const char* kSummary = "GET /await/:userId: a coroutine awaits the promises";
// ANCHOR_END: config

// ANCHOR: concept
using Query = std::function<Promise<Json>(std::string bucket, Json query)>;

// A coroutine: it returns its Promise<void> at the first co_await, and each co_await resumes on
// a later loop turn. Parameters are taken by value: the frame outlives the call.
Promise<void> await_user(Query q_query, Answer answer, int64_t user_id) {
  Json user = co_await q_query("users", by_id(user_id));
  auto posts = q_query("posts", by_poster(user));           // both started before either is
  auto comments = q_query("comments", by_commenter(user));  // awaited: two slots, not three
  auto [user_posts, user_comments] = co_await common::all(posts, comments);
  answer.json(user, user_posts, user_comments);
}

void coroutine_user(Broker& broker, Answer answer, int64_t user_id) {
  Query q_query = common::nfbind<Json>(DbQuery(broker, answer));
  await_user(q_query, answer, user_id).fail([answer](const std::exception_ptr& reason) {
    answer.fail(reason);
  });
}
// ANCHOR_END: concept

// ANCHOR: routes
void add_routes(common::http::Server& server, Broker& broker) {
  server.get("/await/:userId", common::user_route([&broker](Answer answer, int64_t user_id) {
               coroutine_user(broker, answer, user_id);
             }));
}
// ANCHOR_END: routes

}  // namespace

// ANCHOR: main
int main(int argc, char** argv) try {
  auto parsed = common::parse_stage_options(argc, argv, kSummary);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& options = std::get<common::StageOptions>(parsed);
  common::Loop loop;
  common::PromiseScheduler promises(loop);  // promise handlers, and so every resumption, run here
  Broker broker(loop, common::BrokerOptions::from(options));
  common::http::Server server(loop, common::http_config(options));
  add_routes(server, broker);
  server.listen(options.host, options.port);
  return common::http::serve_until_signal(loop, server, "listening on",
                                          [&] { broker.close([] {}); });
} catch (const std::exception& error) {
  return common::report_failure(argv[0], error);
}
// ANCHOR_END: main
