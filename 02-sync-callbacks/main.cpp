// 02-sync-callbacks: GET /sync/:userId — the tutorial's anti-pattern. Each broker query starts
// inside the previous one's callback, so the three queries run one after another although posts
// and comments only need the user: three slots of latency. Every level checks its error and
// returns right after answering (commandments 2 and 3).
//
//   Run it: the "Run it" section of this stage's README.md.
//
//   0 s          1 s          2 s          3 s
//   [-- users --]
//                [-- posts --]
//                             [- comments -]     answer after ~3 s
//
// ANCHOR: includes
#include <cstdint>
#include <exception>
#include <variant>

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
using common::MaybeError;

constexpr const char* kSummary = "GET /sync/:userId: nested callbacks run the queries one by one";
// ANCHOR_END: config

// ANCHOR: concept
// db_query('users') → in its callback db_query('posts') → in its callback db_query('comments').
// A value a later callback needs is moved into that callback (it outlives this frame); the query
// that uses it is built first, because argument evaluation order is unspecified in C++.
void sync_user(Broker& broker, Answer answer, int64_t user_id) {
  DbQuery db_query(broker, answer);
  db_query("users", by_id(user_id), [=](MaybeError user_error, Json user) {
    if (user_error) return answer.fail(*user_error);
    Json posts_query = by_poster(user);
    db_query("posts", posts_query,
             [=, user = std::move(user)](MaybeError posts_error, Json posts) mutable {
               if (posts_error) return answer.fail(*posts_error);
               Json comments_query = by_commenter(user);
               db_query("comments", comments_query,
                        [=, user = std::move(user), posts = std::move(posts)](
                            MaybeError comments_error, const Json& comments) {
                          if (comments_error) return answer.fail(*comments_error);
                          return answer.json(user, posts, comments);
                        });
             });
  });
}
// ANCHOR_END: concept

// ANCHOR: routes
void add_routes(common::http::Server& server, Broker& broker, const common::StageOptions&) {
  server.get("/sync/:userId", common::user_route([&broker](Answer answer, int64_t user_id) {
               sync_user(broker, answer, user_id);
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
