// 05-promises: GET /promise/:userId and GET /file/:name — values instead of callbacks. A query
// returns a Promise (q_query = nfbind(db_query)); the user's promise is chained into all(posts,
// comments), spread into the answer; any error travels down the rejection path to one handler.
// /file/:name is the tutorial's promise-based file read: then(send, error).then(write,
// log).fin(end); /file-cb/:name is the same read with callbacks, for comparison.
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
#include <tuple>
#include <variant>

#include "common/flow/promise.h"
#include "common/http/shutdown.h"
#include "common/stage.h"
#include "common/uv/loop.h"
#include "serve_file.h"
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
using common::MaybeError;
using common::partial;
using common::Promise;
using common::http::Request;
using common::http::Response;

constexpr const char* kSummary = "GET /promise/:userId and /file/:name: promises carry the values";
// ANCHOR_END: config

// ANCHOR: concept
using Query = std::function<Promise<Json>(std::string bucket, Json query)>;

// Resolves to [user, posts, comments]: the tutorial's version lost the user on the way.
Promise<std::tuple<Json, Json, Json>> fetch_posts_and_comments(const Query& q_query,
                                                               const Json& user) {
  auto posts = q_query("posts", by_poster(user));           // started in this order: argument
  auto comments = q_query("comments", by_commenter(user));  // order is unspecified in C++
  return common::all(common::resolved(common::copy_json(user)), posts, comments);
}

void respond(Answer answer, const Json& user, const Json& posts, const Json& comments) {
  answer.json(user, posts, comments);
}

void promise_user(Broker& broker, Answer answer, int64_t user_id) {
  Query q_query = common::nfbind<Json>(DbQuery(broker, answer));
  q_query("users", by_id(user_id))
      .then(partial(fetch_posts_and_comments, q_query))
      .spread(partial(respond, answer))
      .fail([answer](const std::exception_ptr& reason) { answer.fail(reason); });
}
// ANCHOR_END: concept

// ANCHOR: routes
void add_routes(common::http::Server& server, Broker& broker, const common::StageOptions& options) {
  server.get("/promise/:userId", common::user_route([&broker](Answer answer, int64_t user_id) {
               promise_user(broker, answer, user_id);
             }));
  server.get("/file/:name", [&server, dir = options.files_dir](const Request& req, Response res) {
    serve_file(server.loop(), dir, req, std::move(res));
  });
  server.get("/file-cb/:name",
             [&server, dir = options.files_dir](const Request& req, Response res) {
               serve_file_with_callbacks(server.loop(), dir, req, std::move(res));
             });
}
// ANCHOR_END: routes

}  // namespace

// ANCHOR: main
int main(int argc, char** argv) try {
  auto parsed = common::parse_stage_options(argc, argv, kSummary, common::Files::served);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& options = std::get<common::StageOptions>(parsed);
  common::Loop loop;
  common::PromiseScheduler promises(loop);  // promise handlers run from the loop
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
