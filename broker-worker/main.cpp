// broker-worker: placeholder until the broker issue lands.
#include <iostream>

int main() {
  std::cerr << "broker-worker: not written yet\n";
  return 1;
}
