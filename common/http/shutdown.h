// http/shutdown.h: stopping on SIGINT/SIGTERM the way docs/http.md §11 says, so a stage's main()
// ends in one line:
//
//   return common::http::serve_until_signal(loop, server, "listening on", [&] { broker.close(); });
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "common/uv/loop.h"

namespace common::http {

class Server;

// Ignores SIGPIPE (a write to a client that has gone must fail with EPIPE, not kill us), watches
// the signals, prints the URL line (Server::announce) and runs the loop. The first signal stops
// `server` within `grace` (docs/http.md §11), then on_stopping() runs (close the broker there).
// Returns 0; 1 if an exception escaped a callback (printed) or a handle was left open.
int serve_until_signal(Loop& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping = {},
                       std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace common::http
