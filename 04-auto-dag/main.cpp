// 04-auto-dag: GET /async/:userId — declare what each query needs and let common::auto_run (the
// tutorial's async.auto) schedule it: posts and comments wait for the user, then run at once; one
// final callback gets every result or the first error (answered once). No counter of our own.
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
#include <variant>

#include "common/flow/auto.h"
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
using common::Done;
using common::Json;
using common::MaybeError;
using common::Results;

constexpr const char* kSummary = "GET /async/:userId: auto_run schedules the declared query graph";
// ANCHOR_END: config

// ANCHOR: concept
// The tasks object of async.auto: a name, the tasks it needs, and a function given the results
// so far and a Node-style callback, which it hands straight to db_query.
void async_user(uv_loop_t& loop, Broker& broker, Answer answer, int64_t user_id) {
  DbQuery db_query(broker, answer);
  // Laid out by hand, like the tutorial's tasks object.
  // clang-format off
  common::auto_run(loop, {
    {"user", {}, [=](const Results&, Done done) {
      db_query("users", by_id(user_id), done);
    }},
    {"posts", {"user"}, [=](const Results& results, Done done) {
      db_query("posts", by_poster(results["user"]), done);
    }},
    {"comments", {"user"}, [=](const Results& results, Done done) {
      db_query("comments", by_commenter(results["user"]), done);
    }},
  }, [answer](MaybeError error, Results results) {
    if (error) return answer.fail(*error);
    return answer.json(results["user"], results["posts"], results["comments"]);
  });
  // clang-format on
}
// ANCHOR_END: concept

// ANCHOR: routes
void add_routes(common::http::Server& server, Broker& broker, const common::StageOptions&) {
  server.get("/async/:userId",
             common::user_route([&server, &broker](Answer answer, int64_t user_id) {
               async_user(server.loop(), broker, answer, user_id);
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
  Broker broker(loop, common::BrokerOptions::from(options));
  common::http::Server server(loop, common::http_config(options));
  add_routes(server, broker, options);
  server.listen(options.host, options.port);
  return common::http::serve_until_signal(loop, server, "listening on",
                                          [&] { broker.close([] {}); });
} catch (const std::exception& error) {
  return common::report_failure(argv[0], error);
}
// ANCHOR_END: main
