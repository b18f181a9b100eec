// tour: placeholder until the tour issue lands; lists the stages.
#include <iostream>

int main() {
  std::cout << "Concurrent libuv: the stages are built in build/bin:\n"
               "  01-file-server  02-sync-callbacks  03-homebrew-counter  04-auto-dag  05-promises\n";
  return 0;
}
