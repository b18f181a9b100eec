// scratch.h: scratch files and directories for tests, under $TMPDIR (or /tmp when it is unset).
//
// Every name is made unique by mkdtemp/mkstemp (the XXXXXX of their templates), so tests that run
// in parallel never share a scratch file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace test_support {

// Where tests put scratch files: $TMPDIR, or /tmp when it is unset.
std::string temp_dir();

// Creates an empty file $TMPDIR/<prefix>-XXXXXX and returns its path; the caller removes it.
// Throws std::runtime_error when it cannot.
std::string make_temp_file(std::string_view prefix);

// A fresh empty directory $TMPDIR/<prefix>-XXXXXX, removed with all it holds when this goes.
// Throws std::runtime_error when it cannot be made.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace test_support
