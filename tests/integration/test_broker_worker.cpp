// Integration tests for broker-worker and the broker as programs: Node drives our worker, our
// broker drives Node's worker, raw bytes on the channel, bad data files, and a parent killed
// with SIGKILL leaving no worker behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "tests/support/catch.h"
#include "tests/support/server_process.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::bin_path;
using test_support::source_path;

struct Ran {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string temp_path(const std::string& name) {
  return test_support::temp_dir() + "/broker-test-" + std::to_string(getpid()) + "-" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The environment with `unset` removed and `extra` ("NAME=VALUE") added.
std::vector<std::string> environment(const std::vector<std::string>& unset,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool drop = false;
    for (const auto& name : unset) drop = drop || entry.starts_with(name + "=");
    if (!drop) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(5ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads until EOF or the deadline.
std::string read_all(int fd, Clock::time_point deadline) {
  std::string text;
  char buffer[65536];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// Runs a program to completion (PATH is searched), capturing stdout and stderr.
Ran run(std::vector<std::string> argv, const std::vector<std::string>& unset = {},
        const std::vector<std::string>& extra = {}, std::chrono::milliseconds limit = 30s) {
  std::string err_path = temp_path("stderr");
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  // Only 0-2 reach the child: whatever ctest or CI left open (a jobserver pipe, a socket) must
  // not stand in for the channel the tests leave missing.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  auto env = environment(unset, extra);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  REQUIRE(rc == 0);
  Ran ran;
  ran.out = read_all(out[0], Clock::now() + limit);
  close(out[0]);
  ran.exit_code = wait_exit(pid, 5s);
  ran.err = read_file(err_path);
  std::remove(err_path.c_str());
  return ran;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("Node spawns broker-worker with an 'ipc' stdio and gets correct replies",
          "[broker-worker][node]") {
  Ran ran = run({"node", source_path("tests/node/parent.js"), bin_path("broker-worker"),
                 "--latency", "5", "--block", "sleep"});
  INFO("stdout: " << ran.out << "\nstderr: " << ran.err);
  REQUIRE(ran.exit_code == 0);
  auto result = common::parse_json(lines_of(ran.out).at(0));
  REQUIRE(result.has_value());
  REQUIRE((*result)["exit"].GetInt() == 0);  // the worker exited 0 when Node disconnected
  REQUIRE(common::to_json((*result)["replies"]["1"]["result"]) ==
          R"({"id":1,"name":"Ada Hopper","email":"ada.hopper1@example.com"})");
  REQUIRE(ran.err.find(": query started users 1\n") != std::string::npos);
  REQUIRE(ran.err.find(" query finished users 1\n") != std::string::npos);
  REQUIRE(ran.err.find(R"(: query started posts {"poster":1})") != std::string::npos);
}

TEST_CASE("the C++ broker gives the same answers with Node's db.js as the worker",
          "[broker-worker][node]") {
  std::vector<std::string> queries = {"users=1",
                                      R"(posts={"poster":2})",
                                      R"(comments={"commenter":3})",
                                      "users=4242",
                                      R"(posts={"author":1})",
                                      "nope=1",
                                      R"(likes={"posts":[2,4,1,2]})",
                                      R"(likes={"posts":"x"})"};
  std::vector<std::string> with_cpp = {bin_path("broker-driver"), "--workers", "2"};
  std::vector<std::string> with_node = {bin_path("broker-driver"), "--workers", "2", "--worker",
                                        "node " + source_path("tests/node/db.js") + " --quiet"};
  with_cpp.insert(with_cpp.end(), queries.begin(), queries.end());
  with_node.insert(with_node.end(), queries.begin(), queries.end());
  Ran cpp = run(with_cpp);
  Ran node = run(with_node);
  INFO("C++ worker:\n" << cpp.out << cpp.err << "\nNode worker:\n" << node.out << node.err);
  REQUIRE(cpp.exit_code == 0);
  REQUIRE(node.exit_code == 0);
  auto lines = lines_of(node.out);
  REQUIRE(lines.size() == queries.size());
  REQUIRE(lines[0].starts_with(R"({"bucket":"users","status":200,"result":{"id":1,)"));
  REQUIRE(lines[3].find(R"("status":404)") != std::string::npos);
  REQUIRE(lines[4].find(R"("status":400)") != std::string::npos);
  REQUIRE(node.out == cpp.out);  // same data set, same messages, same statuses
}

TEST_CASE("broker-worker answers raw bytes on its channel and ignores what it must",
          "[broker-worker]") {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  std::string err_path = temp_path("raw-stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 3);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> argv = {bin_path("broker-worker"), "--latency", "0"};
  auto env = environment({"NODE_CHANNEL_FD"}, {"NODE_CHANNEL_FD=3"});
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pair[1]);

  std::string wire =
      "not json\n"
      "{\"id\":1,\"bucket\":\"users\",\"query\":1}\r\n"
      "\n"
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"id\":99}}\n"
      "{\"bucket\":\"users\",\"query\":3}\n"
      "[1,2]\n"
      "{\"id\":2,\"bucket\":\"users\"";  // the rest of this request comes in a second write
  REQUIRE(write(pair[0], wire.data(), wire.size()) == static_cast<ssize_t>(wire.size()));
  std::this_thread::sleep_for(20ms);
  std::string rest = ",\"query\":2}\n{\"id\":3,\"bucket\":\"users\",\"query\":\"x\"}\n{\"tail\":1}";
  REQUIRE(write(pair[0], rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  shutdown(pair[0], SHUT_WR);  // EOF: the worker answers what it has, then exits 0
  std::string replies = read_all(pair[0], Clock::now() + 10s);
  close(pair[0]);
  int exit_code = wait_exit(pid, 5s);
  std::string err = read_file(err_path);
  std::remove(err_path.c_str());
  INFO("replies:\n" << replies << "stderr:\n" << err);
  auto lines = lines_of(replies);
  REQUIRE(lines.size() == 3);
  REQUIRE(lines[0].starts_with(R"({"id":1,"result":{"id":1,)"));
  REQUIRE(lines[1].starts_with(R"({"id":2,"result":{"id":2,)"));
  REQUIRE(
      lines[2] ==
      R"({"id":3,"error":{"message":"a users query is a user id, not \"x\"","code":"EBADQUERY"}})");
  REQUIRE(err.find("not JSON") != std::string::npos);
  REQUIRE(err.find("cannot answer") != std::string::npos);
  REQUIRE(exit_code == 0);
}

TEST_CASE("broker-worker answers likes queries and refuses malformed ones", "[broker-worker]") {
  Ran ran = run({bin_path("broker-driver"), R"(likes={"posts":[2,4,1,2]})", R"(likes={"posts":[]})",
                 R"(likes={"posts":[1,"2"]})", R"(likes={"post":1})", "likes=3"});
  INFO(ran.out << ran.err);
  REQUIRE(ran.exit_code == 0);
  auto lines = lines_of(ran.out);
  REQUIRE(lines.size() == 5);
  // Post by post in the order asked, post 2 once, post 4 has no likes.
  REQUIRE(lines[0] == R"({"bucket":"likes","status":200,"result":[{"post":2,"liker":63},)"
                      R"({"post":2,"liker":80},{"post":1,"liker":32},{"post":1,"liker":49},)"
                      R"({"post":1,"liker":66}]})");
  REQUIRE(lines[1] == R"({"bucket":"likes","status":200,"result":[]})");
  for (size_t i = 2; i < lines.size(); ++i) {
    CHECK(lines[i].find(R"("status":400)") != std::string::npos);
    CHECK(lines[i].find(R"(a likes query is {\"posts\":[<post id>,…]}, not )") !=
          std::string::npos);
  }
}

TEST_CASE("broker-worker explains a missing or wrong channel and refuses advanced serialization",
          "[broker-worker]") {
  Ran no_channel = run({bin_path("broker-worker")}, {"NODE_CHANNEL_FD"});
  REQUIRE(no_channel.exit_code == 2);
  REQUIRE(no_channel.err.find("NODE_CHANNEL_FD is not set") != std::string::npos);

  Ran advanced =
      run({bin_path("broker-worker")}, {"NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"},
          {"NODE_CHANNEL_FD=3", "NODE_CHANNEL_SERIALIZATION_MODE=advanced"});
  REQUIRE(advanced.exit_code == 2);
  REQUIRE(advanced.err.find("'advanced'") != std::string::npos);
  REQUIRE(advanced.err.find("only 'json'") != std::string::npos);

  // fd 2 is a regular file here (the captured stderr), and fd 9 is not open: libuv would abort
  // on either when the loop first polls it, so the worker must refuse them up front.
  for (const char* fd : {"NODE_CHANNEL_FD=2", "NODE_CHANNEL_FD=9"}) {
    Ran not_a_pipe = run({bin_path("broker-worker")}, {"NODE_CHANNEL_FD"}, {fd});
    CAPTURE(fd, not_a_pipe.err);
    REQUIRE(not_a_pipe.exit_code == 1);
    REQUIRE(not_a_pipe.err.find("is not a pipe or a Unix socket") != std::string::npos);
  }

  Ran bad_flag = run({bin_path("broker-worker"), "--crash", "planets:3"});
  REQUIRE(bad_flag.exit_code == 2);
  REQUIRE(bad_flag.err.find("--crash wants BUCKET") != std::string::npos);
  for (const char* spec : {"posts", "posts:soon", "planets:300", "posts:-1"}) {
    Ran bad_slow = run({bin_path("broker-worker"), "--slow", spec});
    CAPTURE(spec, bad_slow.err);
    REQUIRE(bad_slow.exit_code == 2);
    REQUIRE(bad_slow.err.find("--slow wants BUCKET:MS") != std::string::npos);
  }
  for (const char* spec : {"users", "users:", "planets:42"}) {
    Ran bad_answer = run({bin_path("broker-worker"), "--answer", spec});
    CAPTURE(spec, bad_answer.err);
    REQUIRE(bad_answer.exit_code == 2);
    REQUIRE(bad_answer.err.find("--answer wants BUCKET:TEXT") != std::string::npos);
  }
  Ran help = run({bin_path("broker-worker"), "--help"});
  REQUIRE(help.exit_code == 0);
  REQUIRE(help.out.find("--slow BUCKET:MS") != std::string::npos);
  REQUIRE(help.out.find("--answer BUCKET:TEXT") != std::string::npos);
}

TEST_CASE("broker-worker --data: bad files are clear errors, good ones are served",
          "[broker-worker]") {
  std::string path = temp_path("data.json");
  auto with_data = [&](const std::string& content) {
    std::ofstream(path) << content;
    return run({bin_path("broker-worker"), "--data", path}, {"NODE_CHANNEL_FD"});
  };
  Ran missing = run({bin_path("broker-worker"), "--data", "/nonexistent/data.json"});
  REQUIRE(missing.exit_code == 2);
  REQUIRE(missing.err.find("/nonexistent/data.json: No such file or directory") !=
          std::string::npos);
  Ran not_json = with_data("{\"users\": [");
  REQUIRE(not_json.exit_code == 2);
  REQUIRE(not_json.err.find("invalid JSON at offset") != std::string::npos);
  Ran no_poster = with_data(R"({"users":[{"id":1}],"posts":[{"title":"x"}],"comments":[]})");
  REQUIRE(no_poster.exit_code == 2);
  REQUIRE(no_poster.err.find(R"(posts[0] needs a positive integer "poster")") != std::string::npos);
  Ran twice = with_data(R"({"users":[{"id":1},{"id":1}],"posts":[],"comments":[]})");
  REQUIRE(twice.exit_code == 2);
  REQUIRE(twice.err.find("appears twice") != std::string::npos);
  Ran bad_like = with_data(R"({"users":[],"posts":[],"comments":[],"likes":[{"post":1}]})");
  REQUIRE(bad_like.exit_code == 2);
  REQUIRE(bad_like.err.find(R"(likes[0] needs a positive integer "liker")") != std::string::npos);

  std::ofstream(path) << R"({"users":[{"id":7,"name":"Seven"}],"posts":[{"poster":7,"t":"p"}],)"
                      << R"("comments":[{"commenter":7,"t":"c"},{"commenter":8}],)"
                      << R"("likes":[{"post":5,"liker":7,"at":"noon"},{"post":6,"liker":7}]})";
  Ran served =
      run({bin_path("broker-driver"), "--worker", bin_path("broker-worker") + " --data " + path,
           "users=7", R"(posts={"poster":7})", R"(comments={"commenter":7})", "users=1",
           R"(likes={"posts":[5]})"});
  std::remove(path.c_str());
  INFO(served.out << served.err);
  REQUIRE(served.exit_code == 0);
  auto lines = lines_of(served.out);
  REQUIRE(lines.size() == 5);
  REQUIRE(lines[4] ==
          R"({"bucket":"likes","status":200,"result":[{"post":5,"liker":7,"at":"noon"}]})");
  REQUIRE(lines[0] == R"({"bucket":"users","status":200,"result":{"id":7,"name":"Seven"}})");
  REQUIRE(lines[1] == R"({"bucket":"posts","status":200,"result":[{"poster":7,"t":"p"}]})");
  REQUIRE(lines[2] == R"({"bucket":"comments","status":200,"result":[{"commenter":7,"t":"c"}]})");
  REQUIRE(lines[3].find(R"("status":404)") != std::string::npos);
}

TEST_CASE("the built-in data set has users 1-100, each with posts and comments",
          "[broker-worker]") {
  Ran dump = run({bin_path("broker-worker"), "--dump-data"});
  REQUIRE(dump.exit_code == 0);
  auto data = common::parse_json(dump.out);
  REQUIRE(data.has_value());
  const auto& users = (*data)["users"];
  REQUIRE(users.Size() == 100);
  for (rapidjson::SizeType i = 0; i < users.Size(); ++i) {
    int id = users[i]["id"].GetInt();
    REQUIRE(id == static_cast<int>(i) + 1);
    bool has_post = false;
    bool has_comment = false;
    for (const auto& post : (*data)["posts"].GetArray())
      has_post = has_post || post["poster"].GetInt() == id;
    for (const auto& c : (*data)["comments"].GetArray())
      has_comment = has_comment || c["commenter"].GetInt() == id;
    REQUIRE(has_post);
    REQUIRE(has_comment);
  }
  // 0–3 likes per post, by distinct users among 1–100; some posts have none, some have three.
  std::vector<std::vector<int>> likers((*data)["posts"].Size() + 1);
  for (const auto& like : (*data)["likes"].GetArray()) {
    int post = like["post"].GetInt();
    int liker = like["liker"].GetInt();
    REQUIRE(post >= 1);
    REQUIRE(static_cast<size_t>(post) < likers.size());
    REQUIRE(liker >= 1);
    REQUIRE(liker <= 100);
    REQUIRE(std::find(likers[post].begin(), likers[post].end(), liker) == likers[post].end());
    likers[post].push_back(liker);
  }
  size_t without = 0;
  size_t with_three = 0;
  for (size_t post = 1; post < likers.size(); ++post) {
    REQUIRE(likers[post].size() <= 3);
    without += likers[post].empty() ? 1 : 0;
    with_three += likers[post].size() == 3 ? 1 : 0;
  }
  CHECK(without > 0);
  CHECK(with_three > 0);
  REQUIRE(run({bin_path("broker-worker"), "--dump-data"}).out == dump.out);  // deterministic
}

TEST_CASE("a parent killed with SIGKILL leaves no worker behind", "[broker-worker]") {
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<std::string> argv = {bin_path("broker-driver"), "--hold", "--workers", "3"};
  auto c_argv = c_strings(argv);
  pid_t driver = -1;
  REQUIRE(posix_spawn(&driver, c_argv[0], &actions, nullptr, c_argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string first_line;
  auto deadline = Clock::now() + 15s;
  while (first_line.find('\n') == std::string::npos && Clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buffer[256];
    ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    first_line.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  std::vector<pid_t> workers;
  std::stringstream words(first_line);
  std::string word;
  words >> word;
  REQUIRE(word == "workers");
  for (pid_t pid; words >> pid;) workers.push_back(pid);
  REQUIRE(workers.size() == 3);
  REQUIRE(test_support::child_pids(driver).size() == 3);
  for (pid_t pid : workers) REQUIRE(test_support::process_alive(pid));

  REQUIRE(kill(driver, SIGKILL) == 0);
  REQUIRE(wait_exit(driver, 5s) == 128 + SIGKILL);
  // Each worker sees EOF on its channel and exits by itself.
  deadline = Clock::now() + 10s;
  auto any_alive = [&] {
    for (pid_t pid : workers)
      if (test_support::process_alive(pid)) return true;
    return false;
  };
  while (any_alive() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  REQUIRE_FALSE(any_alive());
}
