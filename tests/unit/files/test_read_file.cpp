// Tests for common/files/read_file (Node's fs.readFile): what it reads, what it refuses and with
// which error code, that it never answers from inside the call, and that it leaves nothing open.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/files/read_file.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"
#include "tests/support/scratch.h"

namespace {

namespace stdfs = std::filesystem;

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
struct TempDir {
  test_support::ScratchDir scratch{"read_file"};
  stdfs::path path = scratch.path();
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

struct Outcome {
  bool called = false;
  std::optional<common::Error> error;
  std::string contents;
};

// Runs read_file to the end on a fresh loop; checks the callback came later and only once.
Outcome read_now(const std::string& path, std::size_t max_bytes = 1 << 20) {
  common::Loop loop;
  Outcome outcome;
  int calls = 0;
  common::read_file(&loop.get(), max_bytes, path,
                    [&](std::optional<common::Error> error, std::string contents) {
                      ++calls;
                      outcome.called = true;
                      outcome.error = std::move(error);
                      outcome.contents = std::move(contents);
                    });
  CHECK_FALSE(outcome.called);  // never from inside read_file
  common::run_loop(loop);
  CHECK(calls == 1);
  CHECK(loop.close() == 0);
  return outcome;
}

}  // namespace

TEST_CASE("read_file reads a whole file, an empty one too", "[read_file]") {
  TempDir dir;
  std::string big(100'000, 'x');
  Outcome text = read_now(dir.write("a.txt", "hello\n"));
  CHECK_FALSE(text.error);
  CHECK(text.contents == "hello\n");
  Outcome empty = read_now(dir.write("empty", ""));
  CHECK_FALSE(empty.error);
  CHECK(empty.contents.empty());
  Outcome large = read_now(dir.write("big", big));
  CHECK_FALSE(large.error);
  CHECK(large.contents == big);
}

TEST_CASE("read_file names the failed step and libuv's code, never the path", "[read_file]") {
  TempDir dir;
  Outcome missing = read_now((dir.path / "nope.txt").string());
  REQUIRE(missing.error);
  CHECK(missing.error->code == "ENOENT");
  CHECK(missing.error->message.rfind("open: ", 0) == 0);
  CHECK(missing.error->message.find("nope") == std::string::npos);
  CHECK(common::http_status_for_file(*missing.error) == 404);
}

TEST_CASE("read_file refuses links, directories, FIFOs and files over the limit", "[read_file]") {
  TempDir dir;
  std::string target = dir.write("target.txt", "0123456789");
  stdfs::create_symlink(target, dir.path / "link.txt");
  stdfs::create_directory(dir.path / "sub");
  REQUIRE(mkfifo((dir.path / "fifo").c_str(), 0600) == 0);

  Outcome link = read_now((dir.path / "link.txt").string());
  REQUIRE(link.error);
  CHECK(link.error->code == "ELOOP");
  Outcome directory = read_now((dir.path / "sub").string());
  REQUIRE(directory.error);
  CHECK(directory.error->code == "ENOTREG");
  Outcome fifo = read_now((dir.path / "fifo").string());  // O_NONBLOCK: no writer, no wait
  REQUIRE(fifo.error);
  CHECK(fifo.error->code == "ENOTREG");
  Outcome too_big = read_now(target, 9);
  REQUIRE(too_big.error);
  CHECK(too_big.error->code == "EFBIG");
  CHECK(common::http_status_for_file(*too_big.error) == 413);
  Outcome at_limit = read_now(target, 10);
  CHECK_FALSE(at_limit.error);
  CHECK(at_limit.contents == "0123456789");
}

TEST_CASE("is_plain_file_name keeps names inside their directory", "[read_file]") {
  CHECK(common::is_plain_file_name("a.txt"));
  CHECK_FALSE(common::is_plain_file_name(""));
  CHECK_FALSE(common::is_plain_file_name(".."));
  CHECK_FALSE(common::is_plain_file_name(".hidden"));
  CHECK_FALSE(common::is_plain_file_name("a/b"));
  CHECK_FALSE(common::is_plain_file_name("a\\b"));
  CHECK_FALSE(common::is_plain_file_name(std::string_view("a\0b", 3)));
}
