// broker-driver: a tiny parent for the broker, used by the integration tests.
//
//   broker-driver [--workers N] [--latency MS] [--worker 'CMD ARGS'] [--fork-per-query]
//                 [--hold] [BUCKET=QUERY_JSON ...]
//
// Asks every query at once and prints one JSON line per query, in the order given:
//   {"bucket":"users","status":200,"result":{…}}   or   {"bucket":…,"status":404,"error":{…}}
// then closes the broker and exits 0 (3 if the loop did not close cleanly). With --hold it
// prints "workers PID PID…" and runs until killed: a test SIGKILLs it and checks that the
// workers exit by themselves.
#include <csignal>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipc/broker.h"
#include "common/uv/loop.h"

namespace {

struct Job {
  std::string bucket;
  common::Json query;
  std::string line;  // the printed outcome
};

std::string outcome_line(const std::string& bucket, const std::optional<common::Error>& error,
                         const common::Json& result) {
  common::Json out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("bucket", rapidjson::Value(bucket.c_str(), a), a);
  out.AddMember("status", error ? common::http_status_for(*error) : 200, a);
  if (error) {
    rapidjson::Value detail(rapidjson::kObjectType);
    detail.AddMember("code", rapidjson::Value(error->code.c_str(), a), a);
    detail.AddMember("message", rapidjson::Value(error->message.c_str(), a), a);
    out.AddMember("error", detail, a);
  } else {
    out.AddMember("result", rapidjson::Value(result, a), a);
  }
  return common::to_json(out);
}

int usage(const std::string& problem) {
  std::cerr << "broker-driver: " << problem << "\n";
  return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a write to a worker that died must fail with EPIPE, not kill us
  common::BrokerOptions options;
  options.latency_ms = 0;
  bool hold = false;
  std::vector<Job> jobs;
  // NOLINTBEGIN(clang-analyzer-cplusplus.NewDelete): false positive, llvm-project#119415
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--workers" && has_value) {
      options.workers = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--latency" && has_value) {
      options.latency_ms = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--worker" && has_value) {
      options.worker_command = common::split_command(argv[++i]);
    } else if (arg == "--fork-per-query") {
      options.fork_per_query = true;
    } else if (arg == "--hold") {
      hold = true;
    } else if (auto equals = arg.find('='); equals != std::string_view::npos) {
      auto query = common::parse_json(arg.substr(equals + 1));
      if (!query) return usage("not JSON: " + std::string(arg));
      jobs.push_back(Job{std::string(arg.substr(0, equals)), std::move(*query), {}});
    } else {
      return usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  // NOLINTEND(clang-analyzer-cplusplus.NewDelete)
  common::Loop loop;
  common::Broker broker(loop, options);
  if (hold) {
    std::cout << "workers";
    for (int pid : broker.worker_pids()) std::cout << " " << pid;
    std::cout << std::endl;
    common::run_loop(loop);  // the workers' channels keep it running until we are killed
    return 1;
  }
  size_t left = jobs.size();
  for (auto& job : jobs) {
    broker.query(job.bucket, job.query,
                 [&](const std::optional<common::Error>& error, const common::Json& result) {
                   job.line = outcome_line(job.bucket, error, result);
                   if (--left == 0) broker.close([] {});
                 });
  }
  if (jobs.empty()) broker.close([] {});
  common::run_loop(loop);
  for (const auto& job : jobs) std::cout << job.line << "\n";
  return loop.close() == 0 ? 0 : 3;
}
