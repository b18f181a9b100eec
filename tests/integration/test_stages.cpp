// Integration tests of the five broker-backed stages (02–06) as programs: the same rules for every
// route (JSON shape, Server-Timing, statuses, errors answered once, disconnects, SIGTERM), the
// timing shape that tells them apart (three slots for 02, two for the others), and stage 05's
// /file/:name. Servers run on port 0 with --block sleep so that the workers leave the CPU free;
// stages are exercised in parallel threads where that saves wall time (assertions after join).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "tests/support/catch.h"
#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/utf8.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::HttpResponse;
using test_support::RawClient;
using test_support::ServerProcess;

struct Stage {
  const char* program;
  const char* route;  // "/sync/" + user id
};

constexpr Stage kStages[] = {
    {"02-sync-callbacks", "/sync/"}, {"03-homebrew-counter", "/brew/"}, {"04-auto-dag", "/async/"},
    {"05-promises", "/promise/"},    {"06-coroutines", "/await/"},
};

constexpr int kLatencyMs = 200;

std::vector<std::string> stage_args(int latency_ms, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"0",         "--latency", std::to_string(latency_ms),
                                   "--workers", "3",         "--block",
                                   "sleep",     "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

ServerProcess start(const Stage& stage, int latency_ms,
                    const std::vector<std::string>& extra = {}) {
  return ServerProcess::start(stage.program, stage_args(latency_ms, extra));
}

std::string worker_with(const std::string& hook) {
  return test_support::bin_path("broker-worker") + " " + hook;
}

// Runs fn(stage, index) for every stage at once; results are checked by the caller afterwards.
void for_each_stage_in_parallel(const std::function<void(const Stage&, size_t)>& fn) {
  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(kStages); ++i) threads.emplace_back(fn, kStages[i], i);
  for (auto& thread : threads) thread.join();
}

std::string keep_alive_get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

// Checks a 200 answer for `user_id`: the user, its posts and its comments, and Server-Timing.
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDelete): false positive, llvm-project#119415
void check_user_answer(const HttpResponse& response, int user_id) {
  REQUIRE(response.status == 200);
  CHECK(response.header("Content-Type") == "application/json; charset=utf-8");
  std::string timing = response.header("Server-Timing");
  CHECK(timing.find("users;dur=") != std::string::npos);
  CHECK(timing.find("posts;dur=") != std::string::npos);
  CHECK(timing.find("comments;dur=") != std::string::npos);
  CHECK(std::count(timing.begin(), timing.end(), ',') == 2);
  auto body = common::parse_json(response.body);
  REQUIRE(body);
  REQUIRE(body->IsObject());
  CHECK((*body)["user"]["id"].GetInt() == user_id);
  REQUIRE((*body)["posts"].IsArray());
  REQUIRE((*body)["comments"].IsArray());
  CHECK((*body)["posts"].Size() >= 1);
  CHECK((*body)["comments"].Size() >= 1);
  for (const auto& post : (*body)["posts"].GetArray()) CHECK(post["poster"].GetInt() == user_id);
  for (const auto& comment : (*body)["comments"].GetArray())
    CHECK(comment["commenter"].GetInt() == user_id);
}
// NOLINTEND(clang-analyzer-cplusplus.NewDelete)

struct Span {
  double start = 0;
  double end = 0;
};

struct Traced {
  HttpResponse response;
  double wall_ms = 0;
  Span users, posts, comments;
};

Traced traced_request(int port, const std::string& target) {
  Traced traced;
  auto started = Clock::now();
  traced.response = test_support::http_get(port, target + "?trace=1");
  traced.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  auto body = common::parse_json(traced.response.body);
  if (!body || !body->IsObject() || !body->HasMember("trace")) return traced;
  for (const auto& entry : (*body)["trace"].GetArray()) {
    Span span{entry["start"].GetDouble(), entry["end"].GetDouble()};
    std::string bucket = entry["bucket"].GetString();
    (bucket == "users" ? traced.users : bucket == "posts" ? traced.posts : traced.comments) = span;
  }
  return traced;
}

}  // namespace

TEST_CASE("stages answer users 1-3 with their posts, comments and Server-Timing", "[stages]") {
  std::vector<std::vector<HttpResponse>> answers(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, kLatencyMs);
    for (int user = 1; user <= 3; ++user)
      answers[i].push_back(
          test_support::http_get(server.port(), stage.route + std::to_string(user)));
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program);
    REQUIRE(answers[i].size() == 3);
    for (int user = 1; user <= 3; ++user) check_user_answer(answers[i][user - 1], user);
  }
}

TEST_CASE("stages show their shape: 02 takes three slots, 03-06 overlap posts and comments",
          "[stages][timing]") {
  std::vector<Traced> runs(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, kLatencyMs);
    // A first request lets every worker finish starting (slow under sanitizers on a busy
    // machine); the measured one then shows the stage's shape, not process start-up.
    test_support::http_get(server.port(), std::string(stage.route) + "2");
    runs[i] = traced_request(server.port(), std::string(stage.route) + "1");
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " " << runs[i].response.body);
    const Traced& run = runs[i];
    check_user_answer(run.response, 1);
    CHECK(run.users.end >= run.users.start + kLatencyMs * 0.9);
    CHECK(run.posts.start >= run.users.end);
    CHECK(run.comments.start >= run.users.end);
    if (i == 0) {
      CHECK(run.comments.start >= run.posts.end);
      CHECK(run.wall_ms >= 3 * kLatencyMs);
    } else {
      CHECK(run.posts.start < run.comments.end);  // the two intervals overlap
      CHECK(run.comments.start < run.posts.end);
      CHECK(run.wall_ms < 2.6 * kLatencyMs);
    }
  }
}

TEST_CASE("stages refuse bad user ids with 400 and unknown users with 404", "[stages][errors]") {
  std::vector<std::vector<HttpResponse>> answers(std::size(kStages));
  const std::vector<std::string> bad = {
      "abc", "-1", "1.5", "0", "123456789012345678901234567890", "9007199254740992"};
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 20);
    for (const auto& id : bad)
      answers[i].push_back(test_support::http_get(server.port(), stage.route + id));
    answers[i].push_back(
        test_support::http_get(server.port(), stage.route + std::string("100000")));
    answers[i].push_back(
        test_support::http_get(server.port(), stage.route + std::string("9007199254740991")));
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program);
    REQUIRE(answers[i].size() == bad.size() + 2);
    for (size_t b = 0; b < bad.size(); ++b) {
      INFO(bad[b]);
      CHECK(answers[i][b].status == 400);
      CHECK(answers[i][b].body ==
            "{\"error\":\"userId must be a positive integer, not '" + bad[b] + "'\"}");
    }
    CHECK(answers[i][bad.size()].status == 404);
    CHECK(answers[i][bad.size()].body.find("100000") != std::string::npos);
    CHECK(answers[i][bad.size()].header("Content-Type") == "application/json; charset=utf-8");
    CHECK(answers[i][bad.size() + 1].status == 404);  // the largest id is valid, just unknown
  }
}

TEST_CASE("stages answer a failing bucket with 502, once", "[stages][errors]") {
  struct Seen {
    HttpResponse response;
    bool closed = true;
    std::string extra;
  };
  struct Case {
    std::string hook;
    std::string workers;
  };
  // With posts and comments both failing, 03-06 get two errors for one request: the first is
  // answered, the second must not write a second response (nor close the connection). With one
  // worker, comments waits in the queue until posts has failed: its success always comes after
  // the answer, which is the late callback the stages must ignore.
  const Case tried = GENERATE(values<Case>(
      {{"--fail posts", "3"}, {"--fail posts", "1"}, {"--fail posts --fail comments", "3"}}));
  CAPTURE(tried.hook, tried.workers);
  std::vector<Seen> seen(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server =
        start(stage, 100, {"--worker", worker_with(tried.hook), "--workers", tried.workers});
    RawClient client(server.port());
    client.send(keep_alive_get(std::string(stage.route) + "1"));
    seen[i].response = client.read_response();
    seen[i].closed = client.wait_closed(400ms);  // comments (03–06) still arrive meanwhile
    seen[i].extra = client.pending();
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " " << seen[i].response.body);
    CHECK(seen[i].response.status == 502);
    CHECK(seen[i].response.body.find("\"error\"") != std::string::npos);
    if (tried.hook == "--fail posts")  // with two failures either may be the one answered
      CHECK(seen[i].response.header("Server-Timing").find("posts;dur=") != std::string::npos);
    CHECK_FALSE(seen[i].closed);
    CHECK(seen[i].extra.empty());
  }
}

// An error answer whose body is valid UTF-8 and the JSON {"error":"…"}.
void check_error_body(const HttpResponse& response) {
  CHECK(response.header("Content-Type") == "application/json; charset=utf-8");
  CHECK(test_support::is_well_formed_utf8(response.body));
  auto body = common::parse_json(response.body);
  REQUIRE(body);
  CHECK(body->IsObject());
  CHECK(body->HasMember("error"));
}

TEST_CASE("stages answer a worker result they cannot use with 502", "[stages][errors]") {
  struct Case {
    std::string hook;
    std::string says;  // part of the 502's message
  };
  // Wrong shapes (the stage layer's check), and a name that is not UTF-8, which the broker
  // refuses as not JSON: never a 200 built on them.
  const Case tried = GENERATE(values<Case>({
      {"--answer users:42", "the worker's users result is not an object with an integer"},
      {R"(--answer posts:{"poster":null})", "the worker's posts result is not an array"},
      {R"(--answer comments:"none")", "the worker's comments result is not an array"},
      {"--answer users:{\"id\":1,\"name\":\"\xff\xfe\"}", "not JSON"},
  }));
  CAPTURE(tried.hook);
  std::vector<HttpResponse> answers(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 20, {"--worker", worker_with(tried.hook)});
    answers[i] = test_support::http_get(server.port(), stage.route + std::string("1"));
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " " << answers[i].body);
    CHECK(answers[i].status == 502);
    CHECK(answers[i].body.find(tried.says) != std::string::npos);
    check_error_body(answers[i]);
  }
}

TEST_CASE("stages answer a request target that is not UTF-8 with valid UTF-8 JSON",
          "[stages][errors]") {
  // Escaped and raw bytes that are not UTF-8, in a userId and in a path no route matches; the
  // error messages echo them. llhttp 8 passes raw bytes above 0x7F in a path on to the router;
  // llhttp 9 may refuse them itself with a 400 that echoes nothing: both are right.
  struct Tried {
    std::string target;
    int status;
    bool raw;
  };
  auto tried_on = [](const Stage& stage) {
    std::string route = stage.route;
    return std::vector<Tried>{{route + "%FF%FE", 400, false},
                              {route + "\xFF\xFE", 400, true},
                              {route + "1\xC0\xAF", 400, true},
                              {"/\xFF\xFE", 404, true}};
  };
  std::vector<std::vector<HttpResponse>> answers(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 20);
    for (const Tried& tried : tried_on(stage)) {
      RawClient client(server.port());
      client.send(keep_alive_get(tried.target));
      answers[i].push_back(client.read_response());
    }
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    std::vector<Tried> tried = tried_on(kStages[i]);
    REQUIRE(answers[i].size() == tried.size());
    for (size_t t = 0; t < tried.size(); ++t) {
      INFO(kStages[i].program << " " << tried[t].target << " " << answers[i][t].body);
      const int status = answers[i][t].status;
      CHECK((status == tried[t].status || (tried[t].raw && status == 400)));
      check_error_body(answers[i][t]);
      // Raw bytes that reached the router are echoed as U+FFFD, never as themselves.
      const std::string& body = answers[i][t].body;
      if (tried[t].raw && (body.find("decode param") != std::string::npos ||
                           body.find("Cannot GET") != std::string::npos))
        CHECK(body.find("\xEF\xBF\xBD") != std::string::npos);
    }
  }
}

// Replaced: three workers again, two of them the ones from before the crash.
bool pool_replaced_one(pid_t server, const std::vector<pid_t>& before) {
  return test_support::eventually([&] {
    std::vector<pid_t> now = test_support::child_pids(server);
    auto kept = std::count_if(now.begin(), now.end(), [&](pid_t pid) {
      return std::find(before.begin(), before.end(), pid) != before.end();
    });
    return now.size() == 3 && kept == 2;
  });
}

TEST_CASE("stages answer a crashed worker with 502, replace it, then serve the next request",
          "[stages][errors]") {
  struct Outcome {
    HttpResponse crashed;
    HttpResponse next;
    bool started_three = false;
    bool replaced = false;
  };
  std::vector<Outcome> outcomes(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 50, {"--worker", worker_with("--crash posts:2")});
    std::vector<pid_t> before;
    outcomes[i].started_three = test_support::eventually([&] {
      before = test_support::child_pids(server.pid());
      return before.size() == 3;
    });
    outcomes[i].crashed = test_support::http_get(server.port(), stage.route + std::string("2"));
    outcomes[i].next = test_support::http_get(server.port(), stage.route + std::string("1"));
    outcomes[i].replaced = pool_replaced_one(server.pid(), before);
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " " << outcomes[i].crashed.body);
    CHECK(outcomes[i].crashed.status == 502);
    check_user_answer(outcomes[i].next, 1);
    CHECK(outcomes[i].started_three);
    CHECK(outcomes[i].replaced);
  }
}

TEST_CASE("stages answer a hanging worker with 504 after --timeout", "[stages][errors]") {
  std::vector<HttpResponse> answers(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server =
        start(stage, 20, {"--worker", worker_with("--hang comments"), "--timeout", "300"});
    answers[i] = test_support::http_get(server.port(), stage.route + std::string("1"));
    server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " " << answers[i].body);
    CHECK(answers[i].status == 504);
    CHECK(answers[i].body.find("\"error\"") != std::string::npos);
  }
}

TEST_CASE("stages answer 200 concurrent requests correctly", "[stages][load]") {
  constexpr int kClients = 20;
  constexpr int kPerClient = 10;  // pipelined on one connection
  for (const Stage& stage : kStages) {
    INFO(stage.program);
    auto server = start(stage, 0);
    std::vector<std::vector<HttpResponse>> answers(kClients);
    std::vector<std::string> failures(kClients);
    std::vector<std::thread> threads;
    threads.reserve(kClients);
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        try {
          RawClient client(server.port());
          std::string batch;
          for (int r = 0; r < kPerClient; ++r)
            batch += keep_alive_get(stage.route + std::to_string(1 + (c * kPerClient + r) % 100));
          client.send(batch);
          for (int r = 0; r < kPerClient; ++r)
            answers[c].push_back(client.read_response(false, 20s));
        } catch (const std::exception& error) {
          failures[c] = error.what();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int c = 0; c < kClients; ++c) {
      INFO("client " << c << " " << failures[c]);
      REQUIRE(answers[c].size() == static_cast<size_t>(kPerClient));
      for (int r = 0; r < kPerClient; ++r)
        check_user_answer(answers[c][r], 1 + (c * kPerClient + r) % 100);
    }
    CHECK(server.stop() == 0);
  }
}

TEST_CASE("stages survive clients that leave before the answer", "[stages][lifetime]") {
  std::vector<HttpResponse> later(std::size(kStages));
  std::vector<int> exit_codes(std::size(kStages), -1);
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 100);
    for (int k = 0; k < 5; ++k) {
      RawClient client(server.port());
      client.send(keep_alive_get(stage.route + std::to_string(k + 1)));
      client.close();  // gone before the broker answers
    }
    std::this_thread::sleep_for(50ms);
    later[i] = test_support::http_get(server.port(), stage.route + std::string("3"));
    std::this_thread::sleep_for(400ms);  // the abandoned queries finish meanwhile
    exit_codes[i] = server.stop();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program);
    check_user_answer(later[i], 3);
    CHECK(exit_codes[i] == 0);
  }
}

TEST_CASE("stages stop on SIGTERM with a request in flight, leaving no worker",
          "[stages][lifetime]") {
  struct Outcome {
    std::string answer;  // what the client received (possibly nothing)
    int exit_code = -1;
    std::vector<pid_t> workers;
    std::vector<pid_t> alive_after;
  };
  std::vector<Outcome> outcomes(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, kLatencyMs);
    RawClient client(server.port());
    client.send(keep_alive_get(std::string(stage.route) + "1"));
    std::this_thread::sleep_for(std::chrono::milliseconds(kLatencyMs / 2));
    outcomes[i].workers = test_support::child_pids(server.pid());
    outcomes[i].exit_code = server.stop();
    outcomes[i].answer = client.read_until_close(5s);
    for (pid_t pid : outcomes[i].workers)
      if (test_support::process_alive(pid)) outcomes[i].alive_after.push_back(pid);
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " answered: " << outcomes[i].answer);
    CHECK(outcomes[i].exit_code == 0);
    CHECK(outcomes[i].workers.size() == 3);
    CHECK(outcomes[i].alive_after.empty());
    // Answered (the graceful stop lets it finish) or failed cleanly with a JSON error.
    bool answered = outcomes[i].answer.starts_with("HTTP/1.1 200");
    bool failed = outcomes[i].answer.starts_with("HTTP/1.1 5") &&
                  outcomes[i].answer.find("{\"error\":") != std::string::npos;
    CHECK((answered || failed || outcomes[i].answer.empty()));
  }
}

TEST_CASE("stages answer 503 with Connection: close to a request the grace period did not finish",
          "[stages][lifetime]") {
  struct Outcome {
    std::string answer;
    int exit_code = -1;
    std::string log;
  };
  std::vector<Outcome> outcomes(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    auto server = start(stage, 8000);  // longer than the 5 s grace of a stop
    RawClient client(server.port());
    client.send(keep_alive_get(std::string(stage.route) + "1"));
    test_support::eventually(
        [&] { return server.stderr_text().find("query started users 1") != std::string::npos; });
    REQUIRE(kill(server.pid(), SIGTERM) == 0);
    outcomes[i].answer = client.read_until_close(9s);
    outcomes[i].exit_code = server.wait_for_exit(10s);
    outcomes[i].log = server.stderr_text();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " answered:\n"
                            << outcomes[i].answer << "\nstderr:\n"
                            << outcomes[i].log);
    CHECK(outcomes[i].answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    CHECK(outcomes[i].answer.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(outcomes[i].answer.ends_with("\r\n\r\n{\"error\":\"the server is shutting down\"}"));
    CHECK(outcomes[i].exit_code == 0);
    // The broker's late ECLOSED for that request is dropped without a word.
    CHECK(outcomes[i].log.find("already answered") == std::string::npos);
  }
}

TEST_CASE("Ctrl-C in a terminal lets the stages finish the request in flight",
          "[stages][lifetime]") {
  struct Outcome {
    HttpResponse answer;
    int exit_code = -1;
    std::string log;
  };
  std::vector<Outcome> outcomes(std::size(kStages));
  for_each_stage_in_parallel([&](const Stage& stage, size_t i) {
    // Started like a shell's job, so that the signal reaches the workers too, unless they keep
    // to a session of their own.
    // Without --quiet, which would quiet the workers' "query started" line too.
    auto args = stage_args(kLatencyMs);
    std::erase(args, "--quiet");
    auto server = ServerProcess::start_as_group(stage.program, args);
    RawClient client(server.port());
    client.send(keep_alive_get(std::string(stage.route) + "1"));
    // In flight once a worker has started on it.
    test_support::eventually(
        [&] { return server.stderr_text().find("query started users 1") != std::string::npos; });
    server.signal_group(SIGINT);  // what the terminal sends to its foreground job on Ctrl-C
    try {
      outcomes[i].answer = client.read_response(false, 5s);
    } catch (const std::exception& error) {
      outcomes[i].answer.body = error.what();
    }
    outcomes[i].exit_code = server.wait_for_exit(10s);
    outcomes[i].log = server.stderr_text();
  });
  for (size_t i = 0; i < std::size(kStages); ++i) {
    INFO(kStages[i].program << " answered " << outcomes[i].answer.body << "\nstderr:\n"
                            << outcomes[i].log);
    check_user_answer(outcomes[i].answer, 1);
    CHECK(outcomes[i].exit_code == 0);
    CHECK(outcomes[i].log.find("starting another") == std::string::npos);
  }
}

TEST_CASE("05-promises serves files by plain name and nothing outside its directory",
          "[stages][file]") {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("stages-test-" + std::to_string(getpid()));
  fs::create_directories(root / "served" / "sub");
  fs::create_directories(root / "outside");
  std::ofstream(root / "served" / "hello.txt") << "hello from a file\n";
  std::ofstream(root / "served" / "data.bin") << std::string("\0\1\2", 3);
  std::ofstream(root / "served" / ".secret") << "hidden";
  std::ofstream(root / "outside" / "secret.txt") << "TOP SECRET";
  fs::create_symlink(root / "outside" / "secret.txt", root / "served" / "link.txt");

  auto server = ServerProcess::start(
      "05-promises", {"0", "--workers", "1", "--quiet", "--files", (root / "served").string()});
  auto get = [&](const std::string& target) {
    return test_support::http_get(server.port(), target);
  };

  // /file/ reads with promises, /file-cb/ with callbacks: the same answers.
  for (std::string route : {"/file/", "/file-cb/"}) {
    INFO(route);
    auto hello = get(route + "hello.txt");
    CHECK(hello.status == 200);
    CHECK(hello.body == "hello from a file\n");
    CHECK(hello.header("Content-Type") == "text/plain; charset=utf-8");
    auto binary = get(route + "data.bin");
    CHECK(binary.status == 200);
    CHECK(binary.body == std::string("\0\1\2", 3));
    CHECK(binary.header("Content-Type") == "application/octet-stream");

    auto missing = get(route + "nope.txt");
    CHECK(missing.status == 404);
    CHECK(missing.header("Content-Type") == "application/json; charset=utf-8");
    // The client learns what went wrong in words, not which system call failed.
    CHECK(missing.body == R"({"error":"no file named 'nope.txt'"})");
    CHECK(get(route + "sub").status == 403);

    for (const char* attack :
         {"..%2f..%2fetc%2fpasswd", "%2e%2e", "%2e", "..%2foutside%2fsecret.txt", "link.txt",
          ".secret", "..%5coutside%5csecret.txt", "hello.txt%00.png"}) {
      INFO(attack);
      auto response = get(route + attack);
      CHECK(response.status != 200);
      CHECK(response.status < 500);
      CHECK(response.body.find("TOP SECRET") == std::string::npos);
      CHECK(response.body.find("root:") == std::string::npos);
      CHECK(response.body.find("hidden") == std::string::npos);
    }
  }
  CHECK(server.stop() == 0);
  fs::remove_all(root);
}

// The file read opens with O_NOFOLLOW, so a symlink swapped in for the file while it is asked
// for is refused by the open itself: there is no check before it that a swap could slip past.
TEST_CASE("05-promises never serves an outside byte while a file and a symlink swap places",
          "[stages][file][race]") {
  test_support::ScratchDir scratch("stages-swap");
  const std::filesystem::path served = scratch.path() / "served";
  std::filesystem::create_directories(served);
  std::ofstream(served / "a.txt") << "inside\n";
  std::ofstream(scratch.path() / "secret.txt") << "TOP SECRET";
  std::filesystem::create_symlink(scratch.path() / "secret.txt", served / "swap");
  auto server = ServerProcess::start("05-promises", stage_args(10, {"--files", served.string()}));
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    const std::string a = (served / "a.txt").string(), swap = (served / "swap").string();
    while (!stop) renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE);
  });
  int inside = 0, outside = 0;
  for (auto deadline = Clock::now() + 3s; Clock::now() < deadline;) {
    HttpResponse res = test_support::http_get(server.port(), "/file/a.txt");
    outside += res.body.find("TOP SECRET") != std::string::npos ? 1 : 0;
    inside += res.status == 200 && res.body == "inside\n" ? 1 : 0;
  }
  stop = true;
  swapper.join();
  INFO("inside " << inside << ", outside " << outside);
  CHECK(outside == 0);
  CHECK(inside > 20);
  CHECK(server.stop() == 0);
}

TEST_CASE("a stage with --quiet quiets its workers' per-query lines as well as the access log",
          "[stages][startup]") {
  for (bool quiet : {true, false}) {
    INFO("quiet " << quiet);
    auto args = stage_args(10, {"--workers", "1"});
    if (!quiet) std::erase(args, "--quiet");
    auto server = ServerProcess::start("02-sync-callbacks", args);
    CHECK(test_support::http_get(server.port(), "/sync/1").status == 200);
    // Written before the answer could be sent: the worker logs before it replies.
    CHECK(server.stop() == 0);
    std::string log = server.stderr_text();
    CHECK((log.find("query started users 1") == std::string::npos) == quiet);
    CHECK((log.find("GET /sync/1 200") == std::string::npos) == quiet);
  }
}

TEST_CASE("a --data or --files path that cannot be used stops a stage at start, named",
          "[stages][startup]") {
  test_support::ScratchDir scratch("stages-start");
  const std::string missing = (scratch.path() / "missing.json").string();
  const std::string not_json = (scratch.path() / "data.txt").string();
  std::ofstream(not_json) << "users: 1, 2, 3\n";
  const std::string dir = scratch.path().string();
  struct Case {
    const char* program;
    std::vector<std::string> flags;
    std::string named;  // what stderr must say
  };
  const Case cases[] = {
      {"02-sync-callbacks", {"--data", missing}, "--data '" + missing + "': No such file"},
      {"04-auto-dag", {"--data", not_json}, "--data '" + not_json + "': not JSON"},
      {"06-coroutines", {"--data", dir}, "--data '" + dir + "': not a regular file"},
      {"05-promises", {"--files", missing}, "--files '" + missing + "': No such file"},
      {"05-promises", {"--files", not_json}, "--files '" + not_json + "': not a directory"},
  };
  for (const Case& bad : cases) {
    INFO(bad.program << " " << bad.flags[0] << " " << bad.flags[1]);
    auto failure =
        ServerProcess::start_expecting_failure(bad.program, stage_args(10, bad.flags), 5s);
    CHECK(failure.exit_code == 2);
    INFO("stderr: " << failure.err);
    CHECK(failure.err.find(bad.named) != std::string::npos);
  }
}
