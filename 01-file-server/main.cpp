// 01-file-server: placeholder until its issue lands; parses the command line only.
#include <iostream>
#include <variant>

#include "common/options.h"

int main(int argc, char** argv) {
  auto parsed = common::parse_file_server_options(argc, argv, "static file server (under construction)");
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  std::cerr << "01-file-server: this stage is not written yet\n";
  return 1;
}
