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
  bool ended = false;
  std::optional<common::Error> end_error;

  void start(common::IpcChannel& channel) {
    channel.start(
        [this](common::Json& message) { messages.push_back(common::to_json(message)); },
        [this](std::optional<common::Error> error) {
          ended = true;
          end_error = std::move(error);
        },
        [this](std::string_view line, const std::string&) { invalid.emplace_back(line); });
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

TEST_CASE("blank lines, NODE_ commands and invalid lines are skipped; the tail is dropped at EOF",
          "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel receiver(loop);
    receiver.open(pair.fds[1]);
    got.start(receiver);
    write_all(pair.fds[0],
              "{\"a\":1}\n\n{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\"}\nnot json\n"
              "{\"cmd\":\"NODE_\"}\r\n\"h\xC3\xA9\"\n{\"noNewlineYet\":1}");
    ::close(pair.fds[0]);
    common::run_loop(loop);  // ends once the receiver closed itself at EOF
    REQUIRE(got.messages ==
            std::vector<std::string>{"{\"a\":1}", "{\"cmd\":\"NODE_\"}", "\"h\xC3\xA9\""});
    REQUIRE(got.invalid == std::vector<std::string>{"not json"});
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

// Either way of writing (at the end of the turn, or Write::now at once): the failure reaches the
// end handler from the loop, never from inside the call that wrote.
TEST_CASE("writing to a peer that is gone ends the channel from the loop", "[ipc_channel]") {
  auto when = GENERATE(common::IpcChannel::Write::soon, common::IpcChannel::Write::now);
  CAPTURE(when == common::IpcChannel::Write::now);
  common::Loop loop;
  SocketPair pair;
  Received got;
  {
    common::IpcChannel sender(loop);
    sender.open(pair.fds[0]);
    got.start(sender);
    ::close(pair.fds[1]);
    sender.outbox().append("{\"to\":\"nobody\"}\n");
    sender.schedule_flush(when);  // Write::now meets EPIPE here and keeps it for the loop
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

TEST_CASE("a few messages wait for the end of the loop turn; a full outbox is written at once",
          "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  {
    common::IpcChannel sender(loop);
    sender.open(pair.fds[0]);
    sender.send("{\"n\":0}");
    REQUIRE(readable_now(pair.fds[1]) == 0);  // batched: nothing written yet
    std::string filler(200, 'f');
    for (int i = 0; i < 40; ++i) sender.send("\"" + filler + "\"");  // 8 KiB
    REQUIRE(readable_now(pair.fds[1]) >= 2048);  // written before the loop even ran
    uv_run(&loop.get(), UV_RUN_NOWAIT);          // the end of the turn writes the rest
    REQUIRE(readable_now(pair.fds[1]) == 8 + 40 * 203);
  }
  ::close(pair.fds[1]);
  REQUIRE(loop.close() == 0);
}

TEST_CASE("Write::now sends even one short line before the loop runs", "[ipc_channel]") {
  common::Loop loop;
  SocketPair pair;
  {
    common::IpcChannel sender(loop);
    sender.open(pair.fds[0]);
    sender.outbox().append("{\"n\":1}\n");
    sender.schedule_flush(common::IpcChannel::Write::now);
    REQUIRE(readable_now(pair.fds[1]) == 8);  // as the broker does for an idle worker
    sender.outbox().append("{\"n\":2}\n");
    sender.schedule_flush();  // Write::soon: waits for the end of the turn
    REQUIRE(readable_now(pair.fds[1]) == 8);
    uv_run(&loop.get(), UV_RUN_NOWAIT);
    REQUIRE(readable_now(pair.fds[1]) == 16);
  }
  ::close(pair.fds[1]);
  REQUIRE(loop.close() == 0);
}

// Counts loop iterations (a check handle runs once per turn) at two moments: while the channel
// polls, the loop turns many times without any event; once the window has passed, it sleeps.
TEST_CASE("after a write the loop polls for the configured window, then sleeps", "[ipc_channel]") {
  for (bool polling : {true, false}) {
    CAPTURE(polling);
    common::Loop loop;
    SocketPair pair;
    struct Counts {
      uint64_t turns = 0;
      uint64_t at_window_end = 0;  // 80 ms: well after the 30 ms window
      uint64_t at_stop = 0;        // 160 ms
      int ticks = 0;
    } counts;
    {
      common::IpcChannel sender(loop);
      sender.open(pair.fds[0]);
      if (polling) sender.poll_after_write(std::chrono::milliseconds(30));
      common::Handle<uv_check_t> counter(loop.get(), uv_check_init);
      counter->data = &counts;
      REQUIRE(uv_check_start(counter.get(), [](uv_check_t* check) {
                ++static_cast<Counts*>(check->data)->turns;
              }) == 0);
      // One timer, every 80 ms: the first tick notes the count, the second notes it and stops.
      common::Handle<uv_timer_t> ticks(loop.get(), uv_timer_init);
      ticks->data = &counts;
      REQUIRE(uv_timer_start(
                  ticks.get(),
                  [](uv_timer_t* timer) {
                    auto* c = static_cast<Counts*>(timer->data);
                    if (++c->ticks == 1) {
                      c->at_window_end = c->turns;
                      return;
                    }
                    c->at_stop = c->turns;
                    uv_stop(timer->loop);
                  },
                  80, 80) == 0);
      sender.send("{\"ping\":1}");
      uv_run(&loop.get(), UV_RUN_DEFAULT);
    }
    if (polling) {
      CHECK(counts.at_window_end > 100);  // thousands in practice: the loop never slept
    } else {
      CHECK(counts.at_window_end < 10);  // a few turns: the write, then sleep until the timer
    }
    CHECK(counts.at_stop - counts.at_window_end <= 3);  // asleep after the window either way
    ::close(pair.fds[1]);
    REQUIRE(loop.close() == 0);
  }
}
