// Check for exercises/02-likes: /sync/:userId nests a fourth query, likes of the user's posts:
// four serial slots, "likes" in the answer.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("02-likes: a fourth nested query adds the likes", "[ex:02-likes]") {
  run_check([] {
    auto server = start_stage("02-sync-callbacks");
    Answer answer = get(server.port(), "/sync/1?trace=1");
    if (!user_one_answered(answer)) return;
    likes_of_user_one_answered(answer);
    if (!need(answer.traced("likes"), "?trace=1 lists the likes query (use answer.record)")) return;
    const Span& posts = answer.trace.at("posts");
    const Span& likes = answer.trace.at("likes");
    need(likes.start >= posts.end, "the likes query starts after the posts have arrived");
    need(answer.traced_ms() >= 3.6 * kLatencyMs,
         "the four queries still run one after another: four slots (took " +
             ms(answer.traced_ms()) + ")");
    need(answer.response.header("Server-Timing").find("likes;dur=") != std::string::npos,
         "Server-Timing has a likes entry");

    Answer none = get(server.port(), "/sync/3");
    need(none.status() == 200 && none.has("likes") && none["likes"].IsArray() &&
             none["likes"].Size() == 0,
         "a user whose posts have no likes gets \"likes\":[] (got " + none.text() + ")");
  });
  run_check([] {
    auto server = start_stage("02-sync-callbacks", {"--worker", worker_with("--fail likes")});
    Answer failed = get(server.port(), "/sync/1");
    need(failed.status() == 502 && failed.error().find("failing on purpose") != std::string::npos,
         "a failing likes query answers 502 with the worker's message (got " + failed.text() + ")");
  });
}
