// Check for exercises/03-likes: /brew/:userId adds likes (after posts, while comments may still
// run) to the hand-written counter: three slots, not four.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("03-likes: likes start when posts end, comments run meanwhile", "[ex:03-likes]") {
  run_check([] {
    auto server = start_stage("03-homebrew-counter");
    auto answer = user_one_traced(server.port(), "/brew", likes_traced());
    if (!answer) return;
    const Span& posts = answer->trace.at("posts");
    const Span& comments = answer->trace.at("comments");
    const Span& likes = answer->trace.at("likes");
    need(likes.start >= posts.end,
         "the likes query starts after the posts have arrived (trace: "
         "posts ends " +
             ms(posts.end) + ", likes starts " + ms(likes.start) + ")");
    need(overlap(posts, comments), "posts and comments still run at the same time");
    need(answer->traced_ms() < 3.6 * kLatencyMs,
         "users → posts → likes, with comments alongside: three slots (took " +
             ms(answer->traced_ms()) + ")");
    no_likes_answered(server.port(), "/brew");
    need(get(server.port(), "/brew/4242").status() == 404, "an unknown user still answers 404");
  });
  run_check([] {
    auto server = start_stage("03-homebrew-counter", {"--worker", worker_with("--fail likes")});
    Answer failed = get(server.port(), "/brew/1");
    failed_on_purpose(failed, "a failing likes query answers 502");
    if (failed.status() == 502)
      need(get(server.port(), "/brew/2").status() == 502 && server.running(),
           "the server goes on after a failed likes query");
  });
}
