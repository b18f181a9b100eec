// Check for exercises/05-timeout: ?timeout=MS races /promise/:userId against a timer: 504 when
// the timer wins, the answer when the queries win, late results ignored, and no timer left
// running once a request has been answered (seen as a prompt exit on SIGTERM).
#include <csignal>
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
    // A stage stops on SIGTERM once nothing is pending. A timer that still runs after its
    // request has been answered is pending: the process would wait the whole ?timeout= out.
    const int timeout_ms = 100 * kLatencyMs;  // 20 s: never reached by the answers below
    const auto grace = std::chrono::milliseconds(3000);
    auto server = start_stage("05-promises");
    for (int user : {1, 3})
      need(get(server.port(),
               "/promise/" + std::to_string(user) + "?timeout=" + std::to_string(timeout_ms))
                   .status() == 200,
           "?timeout=" + std::to_string(timeout_ms) + " gives the usual answer");
    auto stopping = std::chrono::steady_clock::now();
    int code = server.stop(SIGTERM, grace);
    double took =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stopping)
            .count();
    need(code == 0 && took < 2000,
         "a request that has been answered keeps no timer running: after two quick answers with "
         "?timeout=" +
             std::to_string(timeout_ms) + ", SIGTERM stops the server at once (" +
             (code == -1 ? "it was still running " + ms(took) + " later and had to be killed"
                         : "exit " + std::to_string(code) + " after " + ms(took)) +
             ")");
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
