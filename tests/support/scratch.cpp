#include "tests/support/scratch.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace test_support {
namespace {

std::string template_for(std::string_view prefix) {
  return temp_dir() + "/" + std::string(prefix) + "-XXXXXX";  // mkstemp/mkdtemp fill in XXXXXX
}

}  // namespace

std::string temp_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

std::string make_temp_file(std::string_view prefix) {
  std::string path = template_for(prefix);
  int fd = mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed for " + path);
  close(fd);
  return path;
}

ScratchDir::ScratchDir(std::string_view prefix) {
  std::string path = template_for(prefix);
  if (mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + path);
  path_ = path;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace test_support
