// Check for exercises/03-likes: /brew/:userId adds likes (after posts, while comments may still
// run) to the hand-written counter: three slots, not four.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("03-likes: likes start when posts end, comments run meanwhile", "[ex:03-likes]") {
  run_check([] {
    auto server = start_stage("03-homebrew-counter");
    Answer answer = get(server.port(), "/brew/1?trace=1");
    if (!user_one_answered(answer)) return;
    likes_of_user_one_answered(answer);
    if (!need(answer.traced("likes") && answer.traced("posts") && answer.traced("comments"),
              "?trace=1 lists the posts, comments and likes queries (use answer.record)"))
      return;
    const Span& posts = answer.trace.at("posts");
    const Span& comments = answer.trace.at("comments");
    const Span& likes = answer.trace.at("likes");
    need(likes.start >= posts.end,
         "the likes query starts after the posts have arrived (trace: "
         "posts ends " +
             ms(posts.end) + ", likes starts " + ms(likes.start) + ")");
    need(overlap(posts, comments), "posts and comments still run at the same time");
    need(answer.traced_ms() < 3.6 * kLatencyMs,
         "users → posts → likes, with comments alongside: three slots (took " +
             ms(answer.traced_ms()) + ")");

    Answer none = get(server.port(), "/brew/3");
    need(none.status() == 200 && none.has("likes") && none["likes"].IsArray() &&
             none["likes"].Size() == 0,
         "a user whose posts have no likes gets \"likes\":[] (got " + none.text() + ")");
    need(get(server.port(), "/brew/4242").status() == 404, "an unknown user still answers 404");
  });
  run_check([] {
    auto server = start_stage("03-homebrew-counter", {"--worker", worker_with("--fail likes")});
    Answer failed = get(server.port(), "/brew/1");
    need(failed.status() == 502 && failed.error().find("failing on purpose") != std::string::npos,
         "a failing likes query answers 502 (got " + failed.text() + ")");
    if (failed.status() == 502)
      need(get(server.port(), "/brew/2").status() == 502 && server.running(),
           "the server goes on after a failed likes query");
  });
}
