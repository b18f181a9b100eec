// Tests for common/ipc/channel.h over a socketpair — the kind of channel uv_spawn creates.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/ipc/channel.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"

namespace {

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
};

struct Received {
  std::vector<std::string> messages;
  std::vector<std::string> invalid;
  std::vector<std::string> why_invalid;
  bool ended = false;
  std::optional<common::Error> end_error;

  void start(common::IpcChannel& channel) {
    channel.start([this](common::Json& message) { messages.push_back(common::to_json(message)); },
                  [this](std::optional<common::Error> error) {
                    ended = true;
                    end_error = std::move(error);
                  },
                  [this](std::string_view line, const std::string& why) {
                    invalid.emplace_back(line);
                    why_invalid.push_back(why);
                  });
  }
};

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("a burst of messages and a 1 MiB message cross the channel in order", "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel sender(loop);
    common::IpcChannel receiver(loop);
    sender.open(pair.fds[0]);
    receiver.open(pair.fds[1]);
    got.start(receiver);
    sender.start([](common::Json&) {}, [](const std::optional<common::Error>&) {});
    for (int i = 0; i < 100; ++i) sender.send("{\"n\":" + std::to_string(i) + "}");
    std::string big = "\"" + std::string(1 << 20, 'y') + "\"";
    sender.send(big);
    sender.send("{\"last\":true}");
    REQUIRE(sender.pending_bytes() > 0);
    // Run until everything arrived, then close the sender: the receiver sees EOF.
    for (int turn = 0; turn < 10000 && got.messages.size() < 102; ++turn)
      uv_run(&loop.get(), UV_RUN_ONCE);
    REQUIRE(got.messages.size() == 102);
    REQUIRE(got.messages[0] == "{\"n\":0}");
    REQUIRE(got.messages[99] == "{\"n\":99}");
    REQUIRE(got.messages[100] == big);
    REQUIRE(got.messages[101] == "{\"last\":true}");
    sender.close();
    for (int turn = 0; turn < 1000 && !got.ended; ++turn) uv_run(&loop.get(), UV_RUN_ONCE);
    REQUIRE(got.ended);
    REQUIRE_FALSE(got.end_error.has_value());
    REQUIRE_FALSE(receiver.is_open());
  }
  REQUIRE(loop.close() == 0);
}

TEST_CASE("blank lines, NODE_ commands and invalid lines are skipped, the tail is dropped at EOF",
          "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel receiver(loop);
    receiver.open(pair.fds[1]);
    got.start(receiver);
    write_all(pair.fds[0],
              "{\"a\":1}\n\n  \r\n{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\"}\nnot json\n"
              "{\"a\":1} trailing\n{\"cmd\":\"NODE_\"}\r\n42\n\"h\xC3\xA9\"\n{\"noNewlineYet\":1}");
    ::close(pair.fds[0]);
    common::run_loop(loop);  // ends once the receiver closed itself at EOF
    REQUIRE(got.messages ==
            std::vector<std::string>{"{\"a\":1}", "{\"cmd\":\"NODE_\"}", "42", "\"h\xC3\xA9\""});
    REQUIRE(got.invalid == std::vector<std::string>{"not json", "{\"a\":1} trailing"});
    REQUIRE(got.why_invalid[0].starts_with("invalid JSON at offset"));
    REQUIRE(got.ended);
    REQUIRE_FALSE(got.end_error.has_value());
  }
  REQUIRE(loop.close() == 0);
}

TEST_CASE("a peer that never sends a newline ends the channel with EMSGSIZE", "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel receiver(loop, 1024);
    receiver.open(pair.fds[1]);
    got.start(receiver);
    write_all(pair.fds[0], std::string(4000, 'x'));
    common::run_loop(loop);
    REQUIRE(got.ended);
    REQUIRE(got.end_error.has_value());
    REQUIRE(got.end_error->code == "EMSGSIZE");
    REQUIRE(got.messages.empty());
  }
  ::close(pair.fds[0]);
  REQUIRE(loop.close() == 0);
}

TEST_CASE("a handler that closes the channel stops delivery at once", "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  int delivered = 0;
  bool ended = false;
  {
    common::IpcChannel receiver(loop);
    receiver.open(pair.fds[1]);
    receiver.start(
        [&](common::Json&) {
          ++delivered;
          receiver.close();
        },
        [&](const std::optional<common::Error>&) { ended = true; });
    write_all(pair.fds[0], "[1]\n[2]\n[3]\n");
    common::run_loop(loop);
  }
  ::close(pair.fds[0]);
  REQUIRE(delivered == 1);
  REQUIRE_FALSE(ended);  // close() is not an end reported to ourselves
  REQUIRE(loop.close() == 0);
}

// The failure reaches the end handler from the loop, never from inside send().
TEST_CASE("writing to a peer that is gone ends the channel from the loop", "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel sender(loop);
    sender.open(pair.fds[0]);
    got.start(sender);
    ::close(pair.fds[1]);
    sender.send("{\"to\":\"nobody\"}");  // meets EPIPE here and keeps it for the loop
    REQUIRE_FALSE(got.ended);
    common::run_loop(loop);
    REQUIRE(got.ended);  // EPIPE, or the EOF libuv notices first
  }
  REQUIRE(loop.close() == 0);
}

namespace {

// Bytes the peer could read right now, without waiting.
size_t readable_now(int fd) {
  char buffer[65536];
  ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT | MSG_PEEK);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace

TEST_CASE("send() writes at once, and what is sent meanwhile follows in one write",
          "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  {
    common::IpcChannel sender(loop);
    sender.open(pair.fds[0]);
    sender.send("{\"n\":1}");
    REQUIRE(readable_now(pair.fds[1]) == 8);  // before the loop even ran: uv_write wrote it
    sender.send("{\"n\":2}");
    sender.send("{\"n\":3}");
    REQUIRE(readable_now(pair.fds[1]) == 8);  // the first write has not called back yet
    REQUIRE(sender.pending_bytes() == 16);
    for (int turn = 0; turn < 10 && readable_now(pair.fds[1]) < 24; ++turn)
      uv_run(&loop.get(), UV_RUN_NOWAIT);
    REQUIRE(readable_now(pair.fds[1]) == 24);  // both, in order, once the first is done
    REQUIRE(sender.pending_bytes() == 0);
  }
  ::close(pair.fds[1]);
  REQUIRE(loop.close() == 0);
}
