// http-test-server: a tiny program on common::http for the integration tests (and valgrind).
//
//   http-test-server [PORT] [--header-timeout MS] [--idle-timeout MS] [--high-water BYTES]
//                    [--grace MS] [--log]
//
// Routes: /hello, /echo/:name (params and ?q=), /slow/:ms (answers after a timer),
// /big/:kib (streams with back-pressure; ?chunked=1 without Content-Length), /throw (500),
// /throw-late (throws while streaming), /answer-twice (a stage's Answer answered twice: the
// second answer is dropped with a warning),
// /stats (open connections), POST /echo/:name (so GET-only paths can be told from others).
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/http/server.h"
#include "common/http/shutdown.h"
#include "common/json.h"
#include "common/stage.h"
#include "common/uv/handle.h"
#include "common/uv/loop.h"
#include "tests/support/parse_number.h"

namespace {

using common::http::Request;
using common::http::Response;
using test_support::require_number;

struct Flags {
  int port = 0;
  common::http::Config config;
  std::chrono::milliseconds grace{5000};
};

// Throws std::invalid_argument when a number is not one (or is missing after its flag).
Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&] { return std::string_view(i + 1 < argc ? argv[++i] : ""); };
    auto ms = [&] { return std::chrono::milliseconds(require_number<int64_t>(next(), arg)); };
    if (arg == "--header-timeout")
      flags.config.header_timeout = ms();
    else if (arg == "--idle-timeout")
      flags.config.idle_timeout = ms();
    else if (arg == "--high-water")
      flags.config.write_high_water = require_number<size_t>(next(), arg);
    else if (arg == "--grace")
      flags.grace = ms();
    else if (arg == "--log")
      flags.config.access_log = true;
    else
      flags.port = require_number<int>(arg, "port");
  }
  return flags;
}

// A timer that answers later; it frees itself (and its timer, in the close callback) when done.
struct SlowAnswer {
  common::Handle<uv_timer_t> timer;
  Response res;
  int64_t ms;
  static void start(uv_loop_t& loop, Response res, int64_t ms) {
    auto* slow =
        new SlowAnswer{common::Handle<uv_timer_t>(loop, uv_timer_init), std::move(res), ms};
    slow->timer->data = slow;
    common::check(uv_timer_start(slow->timer.get(), on_fire, static_cast<uint64_t>(ms), 0),
                  "uv_timer_start");
  }
  static void on_fire(uv_timer_t* timer) {
    std::unique_ptr<SlowAnswer> slow(static_cast<SlowAnswer*>(timer->data));
    common::Json body(rapidjson::kObjectType);
    body.AddMember("slept", slow->ms, body.GetAllocator());
    slow->res.json(200, body);  // a no-op if the client left meanwhile
  }
};

// Writes 16 KiB chunks until told to pause, then waits for the drain.
void pump(Response res, const std::shared_ptr<uint64_t>& left) {
  static const std::string chunk(size_t{16} * 1024, 'x');
  while (*left > 0 && !res.should_pause()) {
    uint64_t n = std::min<uint64_t>(*left, chunk.size());
    res.write(std::string_view(chunk).substr(0, n));
    *left -= n;
  }
  if (*left == 0) return res.end();
  res.on_drain([res, left] {
    if (res.connected()) pump(res, left);
  });
}

void add_routes(common::http::Server& server) {
  server.get("/hello", [](const Request&, Response res) { res.send(200, "hello\n"); });
  server.get("/echo/:name", [](const Request& req, Response res) {
    common::Json body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("name", rapidjson::Value(req.params.at("name").c_str(), a), a);
    if (auto q = req.query_param("q")) body.AddMember("q", rapidjson::Value(q->c_str(), a), a);
    body.AddMember(
        "version",
        rapidjson::Value(std::to_string(req.http_major) + "." + std::to_string(req.http_minor), a),
        a);
    res.json(200, body);
  });
  server.route("POST", "/echo/:name",
               [](const Request&, Response res) { res.send(201, "posted\n"); });
  server.get("/slow/:ms", [&server](const Request& req, Response res) {
    SlowAnswer::start(server.loop(), std::move(res),
                      require_number<int64_t>(req.params.at("ms"), "ms"));
  });
  server.get("/big/:kib", [](const Request& req, Response res) {
    auto left =
        std::make_shared<uint64_t>(require_number<uint64_t>(req.params.at("kib"), "kib") * 1024);
    std::optional<uint64_t> length;
    if (!req.query_param("chunked")) length = *left;
    res.start(200, {{"Content-Type", "application/octet-stream"}}, length);
    pump(std::move(res), left);
  });
  server.get("/throw", [](const Request&, Response) { throw std::runtime_error("boom"); });
  server.get("/throw-late", [](const Request&, Response res) {
    res.start(200, {}, 100);
    res.write("partial");
    throw std::runtime_error("boom after the head");
  });
  server.get("/answer-twice", [](const Request&, Response res) {
    common::Answer answer(std::move(res));
    answer.json(common::Json(rapidjson::kObjectType));
    answer.fail(common::Error{"EFAIL", "too late"});
  });
  server.get("/stats", [&server](const Request&, Response res) {
    common::Json body(rapidjson::kObjectType);
    body.AddMember("connections", static_cast<uint64_t>(server.connection_count()),
                   body.GetAllocator());
    res.json(200, body);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  try {
    flags = parse_flags(argc, argv);
  } catch (const std::invalid_argument& bad) {
    std::cerr << "http-test-server: " << bad.what() << "\n";
    return 2;
  }
  common::Loop loop;
  common::http::Server server(loop, flags.config);
  add_routes(server);
  server.listen("127.0.0.1", flags.port);
  return common::http::serve_until_signal(loop, server, "listening on", {}, flags.grace);
}
