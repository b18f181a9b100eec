// Check for exercises/02-concurrent: /sync/:userId runs posts and comments at once (two slots),
// answers with both whichever of them ends first (broker-worker --slow decides which), and still
// answers every error once.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("02-concurrent: posts and comments run at the same time", "[ex:02-concurrent]") {
  run_check([] {
    auto server = start_stage("02-sync-callbacks");
    auto answer = user_one_traced(server.port(), "/sync", three_queries_traced());
    if (!answer) return;
    const Span& users = answer->trace.at("users");
    const Span& posts = answer->trace.at("posts");
    const Span& comments = answer->trace.at("comments");
    need(posts.start >= users.end && comments.start >= users.end,
         "posts and comments start after the user has arrived (they need its id)");
    need(overlap(posts, comments), "posts and comments run at the same time (trace: posts " +
                                       during(posts) + ", comments " + during(comments) + ")");
    // Two slots are 2.0 × the latency; the margin is for a busy machine.
    need(answer->traced_ms() < 2.9 * kLatencyMs,
         "the three queries take two slots, not three (took " + ms(answer->traced_ms()) + " with " +
             ms(kLatencyMs) + " per query)");

    need(get(server.port(), "/sync/4242").status() == 404, "an unknown user still answers 404");
    need(get(server.port(), "/sync/2").status() == 200, "the server still answers afterwards");
  });
  // Whichever of posts and comments ends first, the answer waits for the other: the worker makes
  // one of them two slots slower (--slow), so that a solution answering as soon as one of them is
  // back fails every time, not only when the scheduler happens to deliver comments first.
  for (const std::string slower : {"posts", "comments"}) {
    const std::string faster = slower == "posts" ? "comments" : "posts";
    run_check([&] {
      const int extra_ms = 2 * kLatencyMs;
      auto server = start_stage(
          "02-sync-callbacks",
          {"--worker", worker_with("--slow " + slower + ":" + std::to_string(extra_ms))});
      Answer answer = get(server.port(), "/sync/1?trace=1");
      need(user_one_answered(answer),
           "when " + faster + " are back before " + slower + ", the answer waits for " + slower +
               " and holds both posts and comments (got " + answer.text() + ")");
      if (!answer.traced("users") || !answer.traced("posts") || !answer.traced("comments")) return;
      const Span& users = answer.trace.at("users");
      const Span& posts = answer.trace.at("posts");
      const Span& comments = answer.trace.at("comments");
      // Both start when the user arrives; serially, one would start a slot or more later.
      need(posts.start - users.end < kLatencyMs / 2.0 &&
               comments.start - users.end < kLatencyMs / 2.0 && overlap(posts, comments),
           "with " + slower + " slower, posts and comments still both start when the user " +
               "arrives: two slots (trace: users " + during(users) + ", posts " + during(posts) +
               ", comments " + during(comments) + ")");
    });
  }
  run_check([] {
    // comments fails while posts is still running: one 502, and nothing breaks when posts arrives.
    auto server = start_stage("02-sync-callbacks", {"--worker", worker_with("--fail comments")});
    failed_on_purpose(get(server.port(), "/sync/1"),
                      "a failing comments query answers 502 with the worker's message");
    Answer again = get(server.port(), "/sync/3");
    need(again.status() == 502, "the server goes on answering after a failure");
    need(server.running(), "the server survives the late posts result of a failed request");
  });
}
