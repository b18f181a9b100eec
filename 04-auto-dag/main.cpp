// 04-auto-dag: placeholder until its issue lands; parses the shared command line only.
#include <iostream>
#include <variant>

#include "common/options.h"

int main(int argc, char** argv) {
  auto parsed = common::parse_stage_options(argc, argv, "04-auto-dag (under construction)");
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  std::cerr << "04-auto-dag: this stage is not written yet\n";
  return 1;
}
