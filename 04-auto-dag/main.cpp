// 04-auto-dag: GET /async/:userId — declare what each query needs and let common::auto_run (the
// tutorial's async.auto) schedule them: posts and comments both depend on the user, so they run
// at once as soon as it is there, and one final callback gets every result, or the first error
// (answered once: the runner drops what finishes later). Two slots, no counter of our own.
//
//   build/bin/04-auto-dag 8000 --latency 1000 &
//   curl 'http://127.0.0.1:8000/async/1?trace=1'
//
//            user                 0 s          1 s          2 s
//           /    \                [-- users --]
//       posts    comments                      [-- posts --]
//           \    /                             [- comments -]
//        final callback                                       answer after ~2 s
//
// ANCHOR: includes
#include <cstdint>
#include <exception>
#include <variant>

#include "common/flow/auto.h"
#include "common/uv/loop.h"
#include "common/http/shutdown.h"
#include "common/stage.h"
// ANCHOR_END: includes

// ANCHOR: config
namespace {

using common::Answer;
using common::Broker;
using common::by_commenter;
using common::by_id;
using common::by_poster;
using common::Done;
using common::Json;
using common::MaybeError;
using common::Results;

constexpr const char* kSummary = "GET /async/:userId: auto_run schedules the declared query graph";
// ANCHOR_END: config

// ANCHOR: concept
// The tasks object of async.auto: a name, the tasks it needs, and a function given the results
// so far and a Node-style callback, which answer.record hands to the broker (timing it on the way).
void async_user(uv_loop_t& loop, Broker& broker, Answer answer, int64_t user_id) {
  // Laid out by hand, like the tutorial's tasks object.
  // clang-format off
  common::auto_run(loop, {
    {"user", {}, [=, &broker](const Results&, Done done) {
      broker.query("users", by_id(user_id), answer.record("users", done));
    }},
    {"posts", {"user"}, [=, &broker](const Results& results, Done done) {
      broker.query("posts", by_poster(results["user"]), answer.record("posts", done));
    }},
    {"comments", {"user"}, [=, &broker](const Results& results, Done done) {
      broker.query("comments", by_commenter(results["user"]), answer.record("comments", done));
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
