#include "common/stage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <utility>

#include "common/flow/promise_error.h"

namespace common {
namespace {

double ms_between(std::chrono::steady_clock::time_point from,
                  std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// 0.1 ms is finer than anything a reader of the trace can act on, and keeps the JSON short.
double tenths(double ms) {
  return std::round(ms * 10.0) / 10.0;
}

void append_one_decimal(std::string& out, double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", ms);
  out += text;
}

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

}  // namespace

std::optional<int64_t> parse_user_id(std::string_view text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;  // overflow
  if (id < 1 || id > kMaxUserId) return std::nullopt;
  return id;
}

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

// ---------------------------------------------------------------- Trace

void Trace::add(std::string bucket, const QueryTiming& timing) {
  Span span{std::move(bucket), ms_between(arrived_, timing.started),
            ms_between(arrived_, timing.finished)};
  if (spans_.empty()) spans_.reserve(4);  // three queries (four with likes): one allocation
  // Kept in start order: posts and comments of one request may finish in either order.
  auto later = std::upper_bound(spans_.begin(), spans_.end(), span.start_ms,
                                [](double start, const Span& s) { return start < s.start_ms; });
  spans_.insert(later, std::move(span));
}

std::string Trace::server_timing() const {
  std::string header;
  header.reserve(24 * spans_.size());  // "comments;dur=1000.4, " fits
  for (const auto& span : spans_) {
    if (!header.empty()) header += ", ";
    header += span.bucket;
    header += ";dur=";
    append_one_decimal(header, span.end_ms - span.start_ms);
  }
  return header;
}

rapidjson::Value Trace::to_json(rapidjson::Document::AllocatorType& allocator) const {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& span : spans_) {
    rapidjson::Value entry(rapidjson::kObjectType);
    entry.AddMember("bucket", rapidjson::Value(span.bucket.c_str(), allocator), allocator);
    entry.AddMember("start", tenths(span.start_ms), allocator);
    entry.AddMember("end", tenths(span.end_ms), allocator);
    list.PushBack(entry, allocator);
  }
  return list;
}

// ---------------------------------------------------------------- Answer

Answer::Answer(http::Response res) {
  Trace trace(res.request().arrived);
  const bool traced = wants_trace(res.request());  // both read before res moves away
  state_ = std::make_shared<State>(State{std::move(res), std::move(trace), traced});
}

void Answer::add_server_timing() const {
  std::string timing = state_->trace.server_timing();
  if (!timing.empty()) state_->res.set_header("Server-Timing", std::move(timing));
}

// A request gets one answer. A second one is a bug in the stage (03's lesson: forget the error
// flag and the last callback answers after the error did), so it is dropped *and* reported.
bool Answer::answered_before(std::string_view second) const {
  if (!answered()) return false;
  const http::Request& request = state_->res.request();
  std::cerr << "warning: " << request.method << ' ' << request.path
            << " was already answered; a second answer (" << second << ") is dropped\n";
  return true;
}

void Answer::json(const rapidjson::Value& user, const rapidjson::Value& posts,
                  const rapidjson::Value& comments) const {
  if (answered_before("200")) return;
  // Written straight from the three results, which stay where they are: no document of copies.
  std::string body;
  body.append(R"({"user":)");
  append_json(body, user);
  body.append(R"(,"posts":)");
  append_json(body, posts);
  body.append(R"(,"comments":)");
  append_json(body, comments);
  if (state_->wants_trace) {
    Json scratch;  // owns the trace's nodes while it is written
    body.append(R"(,"trace":)");
    append_json(body, state_->trace.to_json(scratch.GetAllocator()));
  }
  body.push_back('}');
  add_server_timing();
  state_->res.send(200, body, http::kJsonType);
}

void Answer::json(Json body) const {
  if (answered_before("200")) return;
  if (state_->wants_trace && body.IsObject())
    body.AddMember("trace", state_->trace.to_json(body.GetAllocator()), body.GetAllocator());
  add_server_timing();
  state_->res.json(200, body);
}

void Answer::fail(const Error& error) const {
  if (answered_before(std::to_string(http_status_for(error)) + " " + error.message)) return;
  add_server_timing();
  state_->res.error(http_status_for(error), error.message);
}

void Answer::fail(const std::exception_ptr& reason) const {
  try {
    if (reason) std::rethrow_exception(reason);
  } catch (const ErrorException& rejection) {
    return fail(rejection.error());
  } catch (...) {
  }
  if (answered_before("500 " + describe(reason))) return;
  add_server_timing();
  state_->res.error(500, "internal error: " + describe(reason));
}

// ---------------------------------------------------------------- routes and the program

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
