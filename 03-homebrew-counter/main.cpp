// 03-homebrew-counter: GET /brew/:userId — the tutorial's hand-written fan-out/fan-in: after the
// user, posts and comments start at once; ONE per-request object (BrewState) holds the results, a
// counter and an error flag, so the first error is answered once and later results are ignored.
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
#include <memory>
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

constexpr const char* kSummary = "GET /brew/:userId: a counter and an error flag join two queries";
// ANCHOR_END: config

// ANCHOR: concept
// The tutorial's result, cbCounter and gotError, kept together and shared by the callbacks.
struct BrewState {
  Answer answer;
  Json user, posts, comments;
  int cb_counter = 0;      // callbacks arrived: users, posts, comments
  bool got_error = false;  // the first error has been answered
};
using Brew = std::shared_ptr<BrewState>;

// checkError: answers the first error; true only while the callback should go on.
bool check_error(BrewState& state, const MaybeError& error) {
  if (state.got_error) return false;  // an earlier error was answered: ignore this callback
  if (!error) return true;
  state.got_error = true;
  state.answer.fail(*error);
  return false;
}

// Counts this callback in; the last of the three answers (the tutorial forgot the increment).
void count_in(BrewState& state) {
  if (++state.cb_counter == 3) state.answer.json(state.user, state.posts, state.comments);
}

void fetch_posts_and_comments(const DbQuery& db_query, const Brew& brew) {
  db_query("posts", by_poster(brew->user), [brew](const MaybeError& error, Json posts) {
    if (!check_error(*brew, error)) return;
    brew->posts = std::move(posts);
    return count_in(*brew);
  });
  db_query("comments", by_commenter(brew->user), [brew](const MaybeError& error, Json comments) {
    if (!check_error(*brew, error)) return;
    brew->comments = std::move(comments);
    return count_in(*brew);
  });
}

void brew_user(Broker& broker, Answer answer, int64_t user_id) {
  auto brew = std::make_shared<BrewState>(answer);
  DbQuery db_query(broker, answer);
  db_query("users", by_id(user_id), [brew, db_query](const MaybeError& error, Json user) {
    if (!check_error(*brew, error)) return;
    brew->user = std::move(user);
    count_in(*brew);
    return fetch_posts_and_comments(db_query, brew);
  });
}
// ANCHOR_END: concept

// ANCHOR: routes
void add_routes(common::http::Server& server, Broker& broker, const common::StageOptions&) {
  server.get("/brew/:userId", common::user_route([&broker](Answer answer, int64_t user_id) {
               brew_user(broker, answer, user_id);
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
