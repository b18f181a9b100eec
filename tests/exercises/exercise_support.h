// exercise_support.h: what the exercise checks share. A check starts a stage program from
// $EXERCISE_BIN_DIR (default: this build's bin/) on port 0, with sleeping workers and a small
// data set it writes itself, asks it questions over HTTP and states in plain words what a correct
// solution shows. Each unmet expectation is printed as a "MISSING: …" line, which tools/check
// turns into the list of what is still to do.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "tests/support/catch.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

namespace exercise {

// One query slot: long enough that the shape of a timeline stands out from scheduling noise on a
// loaded machine, short enough that a check takes a second or two.
inline constexpr int kLatencyMs = 200;

inline std::string bin_dir() {
  const char* dir = std::getenv("EXERCISE_BIN_DIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string(TUTORIAL_BIN_DIR);
}

inline std::string program_path(const std::string& program) {
  return bin_dir() + "/" + program;
}

// The data set every check serves (--data): three users, so that the expected answers are
// written out here instead of recomputed from broker-worker's generator.
//   user 1: posts 10, 11 (likes: 10 ×2, 11 ×1), comments 100, 101
//   user 2: post 12 (likes: 12 ×3, which must not show up in user 1's answer), comment 102
//   user 3: post 13 without likes, comment 103
inline constexpr const char* kDataSet = R"({
  "users": [{"id": 1, "name": "Ada Lovelace"}, {"id": 2, "name": "Alan Turing"},
            {"id": 3, "name": "Grace Hopper"}],
  "posts": [{"id": 10, "poster": 1, "title": "On engines"}, {"id": 11, "poster": 1, "title": "On notes"},
            {"id": 12, "poster": 2, "title": "On machines"}, {"id": 13, "poster": 3, "title": "On bugs"}],
  "comments": [{"id": 100, "commenter": 1, "post": 12}, {"id": 101, "commenter": 1, "post": 13},
               {"id": 102, "commenter": 2, "post": 10}, {"id": 103, "commenter": 3, "post": 11}],
  "likes": [{"post": 10, "liker": 2}, {"post": 10, "liker": 3}, {"post": 11, "liker": 3},
            {"post": 12, "liker": 1}, {"post": 12, "liker": 3}, {"post": 12, "liker": 2}]
})";

inline std::string data_file() {
  static const std::string path = [] {
    static const std::string file =
        test_support::temp_dir() + "/exercise-data-" + std::to_string(getpid()) + ".json";
    std::ofstream(file) << kDataSet;
    std::atexit([] { std::remove(file.c_str()); });
    return file;
  }();
  return path;
}

// Starts a stage on port 0 with three sleeping workers (enough to run independent queries at
// once), the data set above, `extra` arguments and one slot of `latency_ms`.
inline test_support::ServerProcess start_stage(const std::string& program,
                                               std::vector<std::string> extra = {},
                                               int latency_ms = kLatencyMs) {
  std::vector<std::string> args = {"0",         "--latency", std::to_string(latency_ms),
                                   "--workers", "3",         "--block",
                                   "sleep",     "--quiet",   "--data",
                                   data_file()};
  args.insert(args.end(), extra.begin(), extra.end());
  return test_support::ServerProcess::start(program_path(program), std::move(args));
}

// --worker for a broker-worker with a test hook, e.g. worker_with("--fail comments").
inline std::string worker_with(const std::string& hook) {
  return program_path("broker-worker") + " " + hook;
}

// ---------------------------------------------------------------- saying what is missing

// Records one expectation; when it is not met, prints "MISSING: what" and fails the check.
inline bool need(bool ok, const std::string& what) {
  if (!ok) {
    std::cout << "MISSING: " << what << std::endl;
    FAIL_CHECK(what);
  }
  return ok;
}

// Runs a check's body; a stage that does not start or answer becomes a MISSING line too.
inline void run_check(const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& error) {
    need(false, std::string("the program did not run as expected: ") + error.what());
  }
}

// ---------------------------------------------------------------- answers and timelines

struct Span {
  double start = 0;
  double end = 0;
};

inline bool overlap(const Span& a, const Span& b) {
  return a.start < b.end && b.start < a.end;
}

struct Answer {
  test_support::HttpResponse response;
  double wall_ms = 0;
  std::optional<common::Json> body;
  std::map<std::string, Span> trace;  // bucket → when its query ran (ms since arrival)

  [[nodiscard]] int status() const { return response.status; }
  [[nodiscard]] bool has(const char* field) const {
    return body && body->IsObject() && body->HasMember(field);
  }
  [[nodiscard]] const rapidjson::Value& operator[](const char* field) const {
    return (*body)[field];
  }
  [[nodiscard]] bool traced(const std::string& bucket) const { return trace.count(bucket) == 1; }
  // From the first query's start to the last one's end.
  [[nodiscard]] double traced_ms() const {
    double first = 1e18;
    double last = 0;
    for (const auto& [bucket, span] : trace) {
      first = std::min(first, span.start);
      last = std::max(last, span.end);
    }
    return trace.empty() ? 0 : last - first;
  }
  [[nodiscard]] std::string error() const {
    return has("error") && (*body)["error"].IsString() ? (*body)["error"].GetString() : "";
  }
  [[nodiscard]] std::string text() const {
    return "HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 400);
  }
};

inline Answer get(int port, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Answer answer;
  auto started = std::chrono::steady_clock::now();
  answer.response = test_support::http_get(port, target, headers);
  answer.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  answer.body = common::parse_json(answer.response.body);
  if (!answer.has("trace") || !(*answer.body)["trace"].IsArray()) return answer;
  for (const auto& entry : (*answer.body)["trace"].GetArray()) {
    if (!entry.IsObject() || !entry.HasMember("bucket") || !entry["bucket"].IsString()) continue;
    answer.trace[entry["bucket"].GetString()] =
        Span{entry["start"].GetDouble(), entry["end"].GetDouble()};
  }
  return answer;
}

// The ids found in an array of objects (e.g. the "post" of every like), in order.
inline std::vector<int> ids_of(const rapidjson::Value& array, const char* key) {
  std::vector<int> ids;
  if (!array.IsArray()) return ids;
  for (const auto& entry : array.GetArray())
    if (entry.IsObject() && entry.HasMember(key) && entry[key].IsInt())
      ids.push_back(entry[key].GetInt());
  return ids;
}

// User 1's answer as every broker-backed route gives it: the user, posts 10 and 11, comments
// 100 and 101. Returns false (after saying why) when the answer is not even that.
inline bool user_one_answered(const Answer& answer) {
  if (!need(answer.status() == 200, "GET …/1 answers 200 (got " + answer.text() + ")"))
    return false;
  bool ok =
      need(answer.has("user") && answer["user"].IsObject() && answer["user"].HasMember("id") &&
               answer["user"]["id"].IsInt() && answer["user"]["id"].GetInt() == 1,
           "the answer still has \"user\" (user 1)");
  ok = need(answer.has("posts") && ids_of(answer["posts"], "id") == std::vector<int>{10, 11},
            "the answer still has user 1's \"posts\" (10 and 11)") &&
       ok;
  ok =
      need(answer.has("comments") && ids_of(answer["comments"], "id") == std::vector<int>{100, 101},
           "the answer still has user 1's \"comments\" (100 and 101)") &&
      ok;
  return ok;
}

// User 1's likes: posts 10 (liked by 2 and 3) and 11 (liked by 3), in any order, nothing else.
inline void likes_of_user_one_answered(const Answer& answer) {
  if (!need(answer.has("likes") && answer["likes"].IsArray(),
            "the answer has a \"likes\" array (got " + answer.text() + ")"))
    return;
  std::vector<std::pair<int, int>> likes;
  for (const auto& like : answer["likes"].GetArray())
    if (like.IsObject() && like.HasMember("post") && like.HasMember("liker") &&
        like["post"].IsInt() && like["liker"].IsInt())
      likes.emplace_back(like["post"].GetInt(), like["liker"].GetInt());
  std::sort(likes.begin(), likes.end());
  need(likes == std::vector<std::pair<int, int>>{{10, 2}, {10, 3}, {11, 3}},
       "\"likes\" holds exactly the likes of user 1's posts 10 and 11: "
       "[{\"post\":10,\"liker\":2},{\"post\":10,\"liker\":3},{\"post\":11,\"liker\":3}]");
}

inline std::string ms(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f ms", value);
  return text;
}

// A span as "start–end" in milliseconds, for messages about a timeline.
inline std::string during(const Span& span) {
  return ms(span.start) + "–" + ms(span.end);
}

// ---------------------------------------------------------------- questions several checks ask

// What a traced answer for user 1 must hold besides the usual user, posts and comments.
struct TracedExpectation {
  bool likes = false;                // user 1's likes (likes_of_user_one_answered)
  std::vector<std::string> queries;  // the buckets ?trace=1 must list
  std::string missing;               // what to say when one of them is not listed
};

// The three queries every stage makes, before an exercise adds any. (Functions, not constants:
// a static std::vector could throw before main.)
inline TracedExpectation three_queries_traced() {
  return {false,
          {"users", "posts", "comments"},
          "?trace=1 still lists the users, posts and comments queries"};
}

// The likes exercises: likes in the answer, and the likes query next to posts and comments.
inline TracedExpectation likes_traced() {
  return {true,
          {"posts", "comments", "likes"},
          "?trace=1 lists the posts, comments and likes queries (use db_query)"};
}

// GET {route}/1?trace=1 and checks it against `expected`. Returns the answer for the timeline
// checks, or nothing once it has said what is missing (the timeline cannot be judged then).
inline std::optional<Answer> user_one_traced(int port, const std::string& route,
                                             const TracedExpectation& expected) {
  Answer answer = get(port, route + "/1?trace=1");
  if (!user_one_answered(answer)) return std::nullopt;
  if (expected.likes) likes_of_user_one_answered(answer);
  bool listed = std::all_of(expected.queries.begin(), expected.queries.end(),
                            [&](const std::string& query) { return answer.traced(query); });
  if (!need(listed, expected.missing)) return std::nullopt;
  return answer;
}

// User 3's only post has no likes: GET {route}/3 answers "likes":[].
inline void no_likes_answered(int port, const std::string& route) {
  Answer none = get(port, route + "/3");
  need(none.status() == 200 && none.has("likes") && none["likes"].IsArray() &&
           none["likes"].Size() == 0,
       "a user whose posts have no likes gets \"likes\":[] (got " + none.text() + ")");
}

// A query that a worker started with --fail fails makes the request answer 502 with the worker's
// message; `what` says so when it does not.
inline void failed_on_purpose(const Answer& failed, const std::string& what) {
  need(failed.status() == 502 && failed.error().find("failing on purpose") != std::string::npos,
       what + " (got " + failed.text() + ")");
}

}  // namespace exercise
