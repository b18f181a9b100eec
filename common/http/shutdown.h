// http/shutdown.h: stopping on SIGINT/SIGTERM the way docs/http.md §11 says — stop accepting,
// finish what is in flight (bounded), close every handle, exit 0 — so a stage's main() ends in one
// line:
//
//   return common::http::serve_until_signal(loop, server, "listening on", [&] { broker.close(); });
//
// libuv turns a signal into a callback on the loop, where it is safe to do anything (a raw
// signal handler could not touch our data structures).
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "common/uv/loop.h"

namespace common::http {

class Server;

// First sets SIGPIPE to SIG_IGN for the whole process, so that writing to a client that has gone
// fails with EPIPE instead of killing it. Then runs the loop until SIGINT/SIGTERM has stopped
// `server` gracefully: no new connections, the answers in flight are finished for at most
// `grace` (then their connections are closed), then on_stopping() runs (close the broker there)
// and the loop runs until every handle is closed. A second signal cuts the grace short. Returns
// 0, or 1 if an exception escaped a callback (it is printed) or a handle was left open. After an
// escaped exception the loop is left to the destructors.
// The URL line ("<announcement> http://HOST:PORT/", Server::announce) is printed only once the
// signals are watched: a supervisor that sends SIGTERM as soon as it has read the URL must get a
// graceful stop, not the default action of a signal nobody handles yet.
int serve_until_signal(Loop& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping = {},
                       std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace common::http
