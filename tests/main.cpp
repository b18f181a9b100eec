// The Catch2 runner, written once for Catch2 2.x (Debian 12) and 3.x (newer distributions).
#include <csignal>

#if __has_include(<catch2/catch_session.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a test writing to a server that just closed must not die
  return Catch::Session().run(argc, argv);
}
