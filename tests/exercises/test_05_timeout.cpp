// Check for exercises/05-timeout: ?timeout=MS races /promise/:userId against a timer: 504 when
// the timer wins, the answer when the queries win, late results ignored.
#include <thread>

#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("05-timeout: the answer races a timer", "[ex:05-timeout]") {
  run_check([] {
    // Slow queries (1 s each, 2 s in all) against a 300 ms timer: the timer wins by far, so the
    // timing below holds on a busy machine too.
    auto server = start_stage("05-promises", {}, 1000);
    Answer late = get(server.port(), "/promise/1?timeout=300");
    std::string message = "request timed out after 300 ms";
    need(late.status() == 504 && late.error() == message,
         "?timeout=300 answers 504 {\"error\":\"" + message +
             "\"} when the queries take longer (got " + late.text() + ")");
    need(late.wall_ms >= 280,
         "the 504 comes when the timer fires, not before (it came after " + ms(late.wall_ms) + ")");
    need(late.wall_ms < 900,
         "the 504 does not wait for the queries (it came after " + ms(late.wall_ms) + ")");
    need(server.stop() == 0,
         "the server stops cleanly (exit 0) while a timed-out request's queries still run");
  });
  run_check([] {
    auto server = start_stage("05-promises");
    Answer late = get(server.port(), "/promise/1?timeout=" + std::to_string(kLatencyMs / 2));
    need(late.status() == 504, "a timeout of half a query answers 504 (got " + late.text() + ")");
    Answer in_time = get(server.port(), "/promise/1?timeout=" + std::to_string(10 * kLatencyMs));
    need(user_one_answered(in_time), "a generous ?timeout= gives the usual answer");
    need(user_one_answered(get(server.port(), "/promise/1")),
         "without ?timeout= the route answers as before");
    Answer bad = get(server.port(), "/promise/1?timeout=soon");
    need(bad.status() == 400 && !bad.error().empty(),
         "?timeout=soon answers 400 with an error message (got " + bad.text() + ")");
    // The timed-out request's posts and comments have arrived by now: they changed nothing.
    std::this_thread::sleep_for(std::chrono::milliseconds(kLatencyMs));
    need(server.running(), "the server survives the late results of a timed-out request");
    need(server.stop() == 0, "the server still stops cleanly (exit 0) after a timeout");
  });
}
