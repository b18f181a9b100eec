// http_client.h: a deliberately plain, blocking HTTP/1.1 client over a raw socket, for tests.
//
// Tests need to send exactly the bytes they choose (pipelined requests, malformed lines,
// half-sent headers) and see exactly what comes back, so this client does no magic: it writes
// what it is given and parses responses by Content-Length (or until close). Every read has a
// deadline, so a server that hangs makes the test fail instead of hang.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace test_support {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The value of the first header with this name (case-insensitive), or "" if absent.
  [[nodiscard]] std::string header(std::string_view name) const;
  [[nodiscard]] bool has_header(std::string_view name) const;
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error on failure.
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(std::string_view bytes);
  // Reads one response. For a response to HEAD pass head = true (no body is read).
  // Throws std::runtime_error if none arrives before the deadline or the peer closes first.
  HttpResponse read_response(bool head = false,
                             std::chrono::milliseconds wait = std::chrono::seconds(20));
  // Reads whatever arrives until the peer closes (or the deadline passes).
  std::string read_until_close(std::chrono::milliseconds wait = std::chrono::seconds(20));
  // True if the peer closed the connection within `wait` (bytes that arrive first are kept).
  bool wait_closed(std::chrono::milliseconds wait);
  // Bytes received but not yet consumed by read_response.
  [[nodiscard]] const std::string& pending() const { return buffer_; }
  void close();
  [[nodiscard]] int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false on EOF or timeout
  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

// One request on a fresh connection with "Connection: close".
HttpResponse http_get(int port, std::string_view target,
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
HttpResponse http_request(int port, std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {});

}  // namespace test_support
