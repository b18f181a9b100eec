// file_site.h: a directory tree for the 01-file-server checks, made under $TMPDIR and removed
// when the check ends, and the server started on it.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/exercises/exercise_support.h"
#include "tests/support/server_process.h"

namespace exercise {

struct FileSite {
  test_support::ScratchDir scratch{"exercise-site"};
  std::filesystem::path base = scratch.path();  // base/root is served; base/outside is not
  std::filesystem::path root = base / "root";

  FileSite() {
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(base / "outside");
    write("../outside/secret.txt", "secret\n");
  }

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
