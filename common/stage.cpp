#include "common/stage.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <utility>
#include <vector>

#include "common/flow/promise_error.h"

namespace common {
namespace {

struct Span {
  std::string bucket;
  QueryTiming timing;
};

// ?trace=1 (also ?trace, ?trace=true): add the measured timeline to the answer.
bool wants_trace(const http::Request& req) {
  auto value = req.query_param("trace");
  return value && (value->empty() || *value == "1" || *value == "true");
}

Json user_query(const char* field, const rapidjson::Value& user) {
  Json query(rapidjson::kObjectType);
  rapidjson::Value id;
  if (user.IsObject() && user.HasMember("id")) id.CopyFrom(user["id"], query.GetAllocator());
  query.AddMember(rapidjson::StringRef(field), id, query.GetAllocator());
  return query;
}

// Digits only, 1 … 2^53−1 (JavaScript's Number.MAX_SAFE_INTEGER); "007" is 7. An unsigned
// from_chars refuses a sign, and must reach the end: "1.5", "1e3" and 30 digits are refused.
std::optional<int64_t> parse_user_id(std::string_view text) {
  constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;
  uint64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id < 1 || id > kMaxSafeInteger)
    return std::nullopt;
  return static_cast<int64_t>(id);
}

}  // namespace

Json by_id(int64_t user_id) {
  Json query;
  query.SetInt64(user_id);
  return query;
}

Json by_poster(const rapidjson::Value& user) {
  return user_query("poster", user);
}
Json by_commenter(const rapidjson::Value& user) {
  return user_query("commenter", user);
}

MaybeError check_result(std::string_view bucket, const rapidjson::Value& result) {
  if (bucket == "users" && !get_int(result, "id"))
    return Error{"EWORKER", "the worker's users result is not an object with an integer \"id\""};
  if ((bucket == "posts" || bucket == "comments") && !result.IsArray())
    return Error{"EWORKER", "the worker's " + std::string(bucket) + " result is not an array"};
  return std::nullopt;
}

struct Answer::State {
  bool wants_trace;
  http::Response res;
  std::vector<Span> spans;  // in start order: posts and comments may finish in either order
  bool answered = false;    // by this Answer (the server may answer first: a 503 at a stop)

  // "users;dur=1000.4, posts;dur=1000.9" ("" when no query ran).
  [[nodiscard]] std::string server_timing() const {
    std::string header;
    for (const auto& span : spans) {
      char duration[32];
      std::snprintf(duration, sizeof duration, "%.1f", span.timing.duration_ms());
      header += (header.empty() ? "" : ", ") + span.bucket + ";dur=" + duration;
    }
    return header;
  }

  // [{"bucket":"users","start":0.0,"end":1000.4}, …]: ms since the request arrived, to 0.1 ms,
  // finer than anything a reader of the trace can act on.
  [[nodiscard]] rapidjson::Value trace(rapidjson::Document::AllocatorType& allocator) const {
    auto since_arrival = [arrived = res.request().arrived](auto at) {
      return std::round(std::chrono::duration<double, std::milli>(at - arrived).count() * 10) / 10;
    };
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& span : spans) {
      rapidjson::Value entry(rapidjson::kObjectType);
      entry.AddMember("bucket", rapidjson::Value(span.bucket.c_str(), allocator), allocator);
      entry.AddMember("start", since_arrival(span.timing.started), allocator);
      entry.AddMember("end", since_arrival(span.timing.finished), allocator);
      list.PushBack(entry, allocator);
    }
    return list;
  }
};

// A braced list runs in order: wants_trace reads the request before res moves away.
Answer::Answer(http::Response res)
    : state_(
          std::make_shared<State>(State{wants_trace(res.request()), std::move(res), {}, false})) {}

const http::Request& Answer::request() const noexcept {
  return state_->res.request();
}

bool Answer::connected() const noexcept {
  return state_->res.connected();
}

void Answer::note(std::string bucket, const QueryTiming& timing) const {
  std::vector<Span>& spans = state_->spans;
  auto later = std::find_if(spans.begin(), spans.end(),
                            [&](const Span& span) { return span.timing.started > timing.started; });
  spans.insert(later, Span{std::move(bucket), timing});
}

// A request gets one answer. A second one is a bug in the stage (03's lesson: forget the error
// flag and the last callback answers after the error did), so it is dropped *and* reported.
void Answer::send(int status, const std::string& body, const std::string& error) const {
  if (std::exchange(state_->answered, true)) {
    std::cerr << "warning: " << request().method << ' ' << request().path
              << " was already answered; a second answer (" << status
              << (error.empty() ? "" : " " + error) << ") is dropped\n";
    return;
  }
  if (state_->res.answered()) return;  // the server gave up on it: this answer is late, not wrong
  std::string timing = state_->server_timing();
  if (!timing.empty()) state_->res.set_header("Server-Timing", std::move(timing));
  state_->res.send(status, body, http::kJsonType);
}

void Answer::json(const rapidjson::Value& user, const rapidjson::Value& posts,
                  const rapidjson::Value& comments) const {
  // Written straight from the three results, which stay where they are: no document of copies.
  std::string body = R"({"user":)" + to_json(user) + R"(,"posts":)" + to_json(posts) +
                     R"(,"comments":)" + to_json(comments);
  if (state_->wants_trace) {
    Json scratch;  // owns the trace's nodes while it is written
    body += R"(,"trace":)" + to_json(state_->trace(scratch.GetAllocator()));
  }
  body += '}';
  send(200, body);
}

void Answer::json(Json body) const {
  if (state_->wants_trace && body.IsObject())
    body.AddMember("trace", state_->trace(body.GetAllocator()), body.GetAllocator());
  send(200, to_json(body));
}

void Answer::fail(const Error& error) const {
  send(http_status_for(error), error_body(error.message), error.message);
}

void Answer::fail(const std::exception_ptr& reason) const {
  try {
    if (reason) std::rethrow_exception(reason);
  } catch (const ErrorException& rejection) {
    return fail(rejection.error());
  } catch (...) {
  }
  std::string message = "internal error: " + describe(reason);
  send(500, error_body(message), message);
}

http::Handler user_route(std::function<void(Answer answer, int64_t user_id)> handle) {
  return [handle = std::move(handle)](const http::Request& req, http::Response res) {
    const std::string& text = req.params.at("userId");
    auto user_id = parse_user_id(text);
    if (!user_id) return res.error(400, "userId must be a positive integer, not '" + text + "'");
    return handle(Answer(std::move(res)), *user_id);
  };
}

http::Config http_config(const StageOptions& options) {
  http::Config config;
  config.access_log = !options.quiet;
  return config;
}

int report_failure(const char* program, const std::exception& error) {
  std::cerr << program << ": " << error.what() << "\n";
  return 1;
}

}  // namespace common
