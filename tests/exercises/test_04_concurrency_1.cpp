// Check for exercises/04-concurrency-1: 04's graph run with a concurrency limit of 1, so posts
// and comments take turns: three slots.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("04-concurrency-1: one task at a time", "[ex:04-concurrency-1]") {
  run_check([] {
    auto server = start_stage("04-auto-dag");
    auto answer = user_one_traced(server.port(), "/async", three_queries_traced());
    if (!answer) return;
    const Span& users = answer->trace.at("users");
    const Span& posts = answer->trace.at("posts");
    const Span& comments = answer->trace.at("comments");
    need(!overlap(posts, comments), "posts and comments no longer overlap (trace: posts " +
                                        during(posts) + ", comments " + during(comments) + ")");
    need(posts.start >= users.end && comments.start >= users.end,
         "posts and comments still wait for the user");
    need(posts.start <= comments.start,
         "posts starts first: tasks that become ready together start in declaration order");
    need(answer->traced_ms() >= 2.6 * kLatencyMs,
         "three slots, as in 02 (took " + ms(answer->traced_ms()) + ")");
  });
}
