// file_site.h: a directory tree for the 01-file-server checks, made under $TMPDIR and removed
// when the check ends, and the server started on it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/exercises/exercise_support.h"
#include "tests/support/server_process.h"

namespace exercise {

struct FileSite {
  std::filesystem::path base;  // base/root is served; base/outside is not
  std::filesystem::path root;

  FileSite() {
    std::string pattern = test_support::temp_dir() + "/exercise-site-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    base = pattern;
    root = base / "root";
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(base / "outside");
    write("../outside/secret.txt", "secret\n");
  }
  ~FileSite() {
    std::error_code ignored;
    std::filesystem::remove_all(base, ignored);
  }
  FileSite(const FileSite&) = delete;
  FileSite& operator=(const FileSite&) = delete;

  // Writes root/relative (creating its directories).
  void write(const std::string& relative, std::string_view content) const {
    std::filesystem::path path = root / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  void directory(const std::string& relative) const {
    std::filesystem::create_directories(root / relative);
  }
  void link(const std::filesystem::path& target, const std::string& relative) const {
    std::filesystem::create_symlink(target, root / relative);
  }

  [[nodiscard]] test_support::ServerProcess start() const {
    return test_support::ServerProcess::start(program_path("01-file-server"), {"0", root.string()});
  }
};

}  // namespace exercise
