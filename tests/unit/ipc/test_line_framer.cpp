// Tests for LineFramer (common/ipc/channel.h): reads are chunks, not messages.
#include <string>
#include <vector>

#include "common/ipc/channel.h"
#include "tests/support/catch.h"

namespace {

using Result = common::LineFramer::Result;

struct Collector {
  std::vector<std::string> lines;
  common::LineFramer::OnLine on_line() {
    return [this](std::string_view line) {
      lines.emplace_back(line);
      return true;
    };
  }
};

}  // namespace

TEST_CASE("several lines in one read are delivered one by one", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  REQUIRE(framer.feed("{\"a\":1}\n{\"b\":2}\n[3]\n", got.on_line()) == Result::ok);
  REQUIRE(got.lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "[3]"});
  REQUIRE(framer.buffered() == 0);
}

TEST_CASE("a message fed byte by byte comes out whole, once", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  std::string wire = "{\"id\":7,\"result\":\"x\"}\n{\"id\":8}\n";
  for (char c : wire) REQUIRE(framer.feed(std::string_view(&c, 1), got.on_line()) == Result::ok);
  REQUIRE(got.lines == std::vector<std::string>{"{\"id\":7,\"result\":\"x\"}", "{\"id\":8}"});
}

TEST_CASE("a multi-byte UTF-8 character split across reads arrives intact", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  std::string wire = "\"h\xC3\xA9llo \xE2\x98\x83\"\n";  // "héllo ☃"
  auto split = wire.find('\xA9');                        // between the two bytes of é
  REQUIRE(framer.feed(wire.substr(0, split), got.on_line()) == Result::ok);
  REQUIRE(got.lines.empty());
  REQUIRE(framer.feed(wire.substr(split, 3), got.on_line()) == Result::ok);
  REQUIRE(framer.feed(wire.substr(split + 3), got.on_line()) == Result::ok);
  REQUIRE(got.lines == std::vector<std::string>{"\"h\xC3\xA9llo \xE2\x98\x83\""});
}

TEST_CASE("CRLF line ends are accepted", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  REQUIRE(framer.feed("{\"crlf\":true}\r\n{\"n\":2}\r", got.on_line()) == Result::ok);
  REQUIRE(framer.feed("\n", got.on_line()) == Result::ok);
  REQUIRE(got.lines == std::vector<std::string>{"{\"crlf\":true}", "{\"n\":2}"});
}

TEST_CASE("an unterminated tail is kept until more comes, and dropped at EOF", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  REQUIRE(framer.feed("{\"done\":1}\n{\"noNewlineYet\":1}", got.on_line()) == Result::ok);
  REQUIRE(got.lines.size() == 1);
  REQUIRE(framer.buffered() == std::string_view("{\"noNewlineYet\":1}").size());
  framer.drop_tail();
  REQUIRE(framer.buffered() == 0);
  REQUIRE(framer.feed("\n", got.on_line()) == Result::ok);  // a fresh, empty line, not the tail
  REQUIRE(got.lines == std::vector<std::string>{"{\"done\":1}", ""});
}

TEST_CASE("a 1 MiB message read in 64 KiB chunks arrives whole", "[line_framer]") {
  common::LineFramer framer;
  Collector got;
  std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  std::string wire = "[1]\n" + big + "\n[2]\n";
  for (size_t at = 0; at < wire.size(); at += 65536)
    REQUIRE(framer.feed(std::string_view(wire).substr(at, 65536), got.on_line()) == Result::ok);
  REQUIRE(got.lines.size() == 3);
  REQUIRE(got.lines[1] == big);
  REQUIRE(got.lines[2] == "[2]");
}

TEST_CASE("a line over the limit is an overflow, whether it ends or not", "[line_framer]") {
  Collector got;
  SECTION("never terminated") {
    common::LineFramer framer(16);
    REQUIRE(framer.feed("0123456789", got.on_line()) == Result::ok);
    REQUIRE(framer.feed("0123456789", got.on_line()) == Result::overflow);
    REQUIRE(framer.buffered() == 0);
  }
  SECTION("terminated in the same read") {
    common::LineFramer framer(16);
    REQUIRE(framer.feed("[1]\n01234567890123456789\n", got.on_line()) == Result::overflow);
    REQUIRE(got.lines == std::vector<std::string>{"[1]"});
  }
  SECTION("exactly at the limit is fine") {
    common::LineFramer framer(4);
    REQUIRE(framer.feed("[12]\n", got.on_line()) == Result::ok);
    REQUIRE(got.lines == std::vector<std::string>{"[12]"});
  }
}

TEST_CASE("a callback returning false stops delivery of the rest of the read", "[line_framer]") {
  common::LineFramer framer;
  int calls = 0;
  auto stop_after_first = [&](std::string_view) { return ++calls < 1; };
  REQUIRE(framer.feed("[1]\n[2]\n[3", stop_after_first) == Result::stopped);
  REQUIRE(calls == 1);
  REQUIRE(framer.buffered() == 0);
}
