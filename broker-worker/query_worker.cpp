#include "broker-worker/query_worker.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/uv/loop.h"

namespace worker {
namespace {

using common::Error;

// The user id a query is about, if the query has the shape its bucket wants.
std::optional<int64_t> user_id_of(std::string_view bucket, const rapidjson::Value& query) {
  if (bucket == "users")
    return query.IsInt64() ? std::optional<int64_t>(query.GetInt64()) : std::nullopt;
  if (bucket == "posts") return common::get_int(query, "poster");
  if (bucket == "comments") return common::get_int(query, "commenter");
  return std::nullopt;
}

Error bad_query(std::string_view bucket, const rapidjson::Value& query) {
  if (bucket == "users")
    return Error{"EBADQUERY", "a users query is a user id, not " + common::to_json(query)};
  if (bucket == "posts")
    return Error{"EBADQUERY",
                 R"(a posts query is {"poster":<user id>}, not )" + common::to_json(query)};
  if (bucket == "comments")
    return Error{"EBADQUERY",
                 R"(a comments query is {"commenter":<user id>}, not )" + common::to_json(query)};
  if (bucket == "likes")
    return Error{"EBADQUERY",
                 R"(a likes query is {"posts":[<post id>,…]}, not )" + common::to_json(query)};
  return Error{"EBADQUERY", "unknown bucket '" + std::string(bucket) +
                                "' (there are users, posts, comments and likes)"};
}

// The post ids of a likes query {"posts":[1,2,…]}, if it has that shape.
std::optional<std::vector<int64_t>> post_ids_of(const rapidjson::Value& query) {
  if (!query.IsObject()) return std::nullopt;
  auto posts = query.FindMember("posts");
  if (posts == query.MemberEnd() || !posts->value.IsArray()) return std::nullopt;
  std::vector<int64_t> ids;
  for (const auto& id : posts->value.GetArray()) {
    if (!id.IsInt64()) return std::nullopt;
    ids.push_back(id.GetInt64());
  }
  return ids;
}

[[noreturn]] void crash_on_purpose() {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // a test hook should not leave core files behind
  std::abort();
}

int64_t epoch_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

QueryWorker::QueryWorker(uv_loop_t& loop, const WorkerOptions& options, const DataSet& data,
                         int channel_fd)
    : options_(options), data_(data), channel_(loop) {
  channel_.open(channel_fd);
  channel_.start([this](const common::Json& message) { on_message(message); },
                 [this](std::optional<Error> error) { on_end(std::move(error)); });
}

void QueryWorker::on_message(const common::Json& message) {
  if (hanging_) return;
  auto decoded = common::decode_request(message);
  if (auto* bad = std::get_if<common::BadQueryRequest>(&decoded)) {
    if (bad->id == nullptr) {
      std::cerr << "broker-worker: cannot answer " << common::to_json(message) << ": "
                << bad->error.message << "\n";
      return;
    }
    channel_.send(common::error_line(*bad->id, bad->error));
    return;
  }
  answer_request(std::get<common::QueryRequest>(decoded));
}

// The parent closed the channel (or died): nothing more to do, and with the channel closed
// nothing keeps the loop running.
void QueryWorker::on_end(std::optional<Error> error) {
  if (!error) return;
  std::cerr << "broker-worker: " << error->message << "\n";
  exit_code_ = 1;
}

void QueryWorker::answer_request(const common::QueryRequest& request) {
  if (request.bucket == "likes") return answer_likes(request);
  std::optional<int64_t> user_id = user_id_of(request.bucket, *request.query);
  if (!user_id) {
    channel_.send(common::error_line(*request.id, bad_query(request.bucket, *request.query)));
    return;
  }
  log(": query started", request.bucket, *request.query);
  block(request.bucket);
  if (apply_hook(request, user_id)) return;
  if (request.bucket == "users") {
    const std::string* user = data_.user(*user_id);
    if (user == nullptr) {
      channel_.send(common::error_line(
          *request.id, Error{"ENOTFOUND", "no user with id " + std::to_string(*user_id)}));
    } else {
      channel_.send(common::result_line(*request.id, *user));
    }
  } else if (request.bucket == "posts") {
    channel_.send(common::result_line(*request.id, data_.posts_of(*user_id)));
  } else {
    channel_.send(common::result_line(*request.id, data_.comments_of(*user_id)));
  }
  log(" query finished", request.bucket, *request.query);
}

// Like answer_request, for the one bucket whose query is about posts, not a user: so only hooks
// without an ID apply to it.
void QueryWorker::answer_likes(const common::QueryRequest& request) {
  auto posts = post_ids_of(*request.query);
  if (!posts) {
    channel_.send(common::error_line(*request.id, bad_query(request.bucket, *request.query)));
    return;
  }
  log(": query started", request.bucket, *request.query);
  block(request.bucket);
  if (apply_hook(request, std::nullopt)) return;
  channel_.send(common::result_line(*request.id, data_.likes_of(*posts)));
  log(" query finished", request.bucket, *request.query);
}

// The test hooks: true when a hook has answered (or will never answer) this request.
bool QueryWorker::apply_hook(const common::QueryRequest& request, std::optional<int64_t> user_id) {
  const Hook* hook = hook_for(request.bucket, user_id);
  if (hook == nullptr) return false;
  switch (hook->action) {
    case Hook::Action::crash:
      crash_on_purpose();
    case Hook::Action::hang:
      hanging_ = true;
      return true;
    case Hook::Action::answer:
      channel_.send(common::result_line(*request.id, hook->result));
      break;
    case Hook::Action::fail:
      channel_.send(common::error_line(
          *request.id, Error{"EFAIL", "failing on purpose (--fail " + hook->bucket + ")"}));
      break;
  }
  log(" query finished", request.bucket, *request.query);
  return true;
}

const Hook* QueryWorker::hook_for(std::string_view bucket, std::optional<int64_t> user_id) const {
  for (const Hook& hook : options_.hooks) {
    if (hook.bucket != bucket) continue;
    if (!hook.user_id || hook.user_id == user_id) return &hook;
  }
  return nullptr;
}

// The "blocking query" of the tutorial: spin burns the CPU like db.js; sleep waits like IO.
// --latency, plus what --slow adds for this bucket.
void QueryWorker::block(std::string_view bucket) const {
  unsigned total_ms = options_.latency_ms;
  for (const Slowdown& slowdown : options_.slowdowns)
    if (slowdown.bucket == bucket) total_ms += slowdown.extra_ms;
  if (total_ms == 0) return;
  auto duration = std::chrono::milliseconds(total_ms);
  if (!options_.spin) {
    std::this_thread::sleep_for(duration);
    return;
  }
  auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// "1381334176812: query started users 1" — the tutorial's log line, written in one piece.
// (The tutorial puts a colon after the time on "started" lines only; so do we.)
void QueryWorker::log(std::string_view event, std::string_view bucket,
                      const rapidjson::Value& query) const {
  if (options_.quiet) return;
  std::string line = std::to_string(epoch_ms());
  line += event;
  line += ' ';
  line += bucket;
  line += ' ';
  line += common::to_json(query);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace worker
