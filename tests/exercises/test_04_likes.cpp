// Check for exercises/04-likes: a likes task that needs posts in 04's auto_run graph.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("04-likes: a likes task depending on posts", "[ex:04-likes]") {
  run_check([] {
    auto server = start_stage("04-auto-dag");
    Answer answer = get(server.port(), "/async/1?trace=1");
    if (!user_one_answered(answer)) return;
    likes_of_user_one_answered(answer);
    if (!need(answer.traced("likes") && answer.traced("posts") && answer.traced("comments"),
              "?trace=1 lists the posts, comments and likes queries (use answer.record)"))
      return;
    const Span& posts = answer.trace.at("posts");
    const Span& comments = answer.trace.at("comments");
    const Span& likes = answer.trace.at("likes");
    need(likes.start >= posts.end, "the likes task starts after posts (it depends on it)");
    need(overlap(posts, comments), "posts and comments still run at the same time");
    need(answer.traced_ms() < 3.6 * kLatencyMs,
         "three slots: users → posts → likes, comments alongside (took " + ms(answer.traced_ms()) +
             ")");
    Answer none = get(server.port(), "/async/3");
    need(none.status() == 200 && none.has("likes") && none["likes"].IsArray() &&
             none["likes"].Size() == 0,
         "a user whose posts have no likes gets \"likes\":[] (got " + none.text() + ")");
  });
  run_check([] {
    auto server = start_stage("04-auto-dag", {"--worker", worker_with("--fail likes")});
    Answer failed = get(server.port(), "/async/1");
    need(failed.status() == 502 && failed.error().find("failing on purpose") != std::string::npos,
         "a failing likes task answers 502 (got " + failed.text() + ")");
  });
}
