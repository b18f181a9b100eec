// Check for exercises/04-concurrency-1: 04's graph run with a concurrency limit of 1, so posts
// and comments take turns: three slots.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("04-concurrency-1: one task at a time", "[ex:04-concurrency-1]") {
  run_check([] {
    auto server = start_stage("04-auto-dag");
    Answer answer = get(server.port(), "/async/1?trace=1");
    if (!user_one_answered(answer)) return;
    if (!need(answer.traced("users") && answer.traced("posts") && answer.traced("comments"),
              "?trace=1 still lists the users, posts and comments queries"))
      return;
    const Span& users = answer.trace.at("users");
    const Span& posts = answer.trace.at("posts");
    const Span& comments = answer.trace.at("comments");
    need(!overlap(posts, comments), "posts and comments no longer overlap (trace: posts " +
                                        ms(posts.start) + "–" + ms(posts.end) + ", comments " +
                                        ms(comments.start) + "–" + ms(comments.end) + ")");
    need(posts.start >= users.end && comments.start >= users.end,
         "posts and comments still wait for the user");
    need(posts.start <= comments.start,
         "posts starts first: tasks that become ready together start in declaration order");
    need(answer.traced_ms() >= 2.6 * kLatencyMs,
         "three slots, as in 02 (took " + ms(answer.traced_ms()) + ")");
  });
}
