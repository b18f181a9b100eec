#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tests/support/parse_number.h"

namespace test_support {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return std::string(text);
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n…" (without the blank line).
HttpResponse parse_head(std::string_view head) {
  HttpResponse response;
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  auto first_space = status_line.find(' ');
  if (first_space == std::string_view::npos)
    throw std::runtime_error("bad status line: " + std::string(status_line));
  response.version = std::string(status_line.substr(0, first_space));
  auto status = parse_number<int>(status_line.substr(first_space + 1, 3));
  if (!status) throw std::runtime_error("bad status code in: " + std::string(status_line));
  response.status = *status;
  if (status_line.size() > first_space + 5)
    response.reason = std::string(status_line.substr(first_space + 5));
  while (line_end != std::string_view::npos) {
    std::string_view rest = head.substr(line_end + 2);
    auto next_end = rest.find("\r\n");
    std::string_view line = rest.substr(0, next_end);
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
      response.headers.emplace_back(std::string(line.substr(0, colon)),
                                    trim(line.substr(colon + 1)));
    line_end = next_end == std::string_view::npos ? next_end : line_end + 2 + next_end;
  }
  return response;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

bool HttpResponse::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

RawClient::RawClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) +
                             " failed: " + std::strerror(error));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

bool RawClient::fill(Clock::time_point deadline) {
  if (eof_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[65536];
  ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

HttpResponse RawClient::read_response(bool head, std::chrono::milliseconds wait) {
  auto deadline = Clock::now() + wait;
  size_t head_end = 0;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline))
      throw std::runtime_error(eof_ ? "connection closed before a response"
                                    : "timed out waiting for a response");
  }
  HttpResponse response = parse_head(std::string_view(buffer_).substr(0, head_end));
  buffer_.erase(0, head_end + 4);
  bool no_body =
      head || response.status == 204 || response.status == 304 || response.status / 100 == 1;
  if (no_body) return response;
  if (response.has_header("Content-Length")) {
    size_t length = std::stoull(response.header("Content-Length"));
    while (buffer_.size() < length) {
      if (!fill(deadline))
        throw std::runtime_error("body cut short: " + std::to_string(buffer_.size()) + " of " +
                                 std::to_string(length));
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }
  while (fill(deadline)) {
  }
  response.body = std::move(buffer_);
  buffer_.clear();
  return response;
}

std::string RawClient::read_until_close(std::chrono::milliseconds wait) {
  auto deadline = Clock::now() + wait;
  while (fill(deadline)) {
  }
  return std::exchange(buffer_, std::string());
}

bool RawClient::wait_closed(std::chrono::milliseconds wait) {
  auto deadline = Clock::now() + wait;
  while (fill(deadline)) {
  }
  return eof_;
}

HttpResponse http_request(int port, std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body) {
  RawClient client(port);
  std::string request = std::string(method) + " " + std::string(target) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) {
    request += name;
    request += ": ";
    request += value;
    request += "\r\n";
  }
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n";
  request += body;
  client.send(request);
  return client.read_response(method == "HEAD");
}

HttpResponse http_get(int port, std::string_view target,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  return http_request(port, "GET", target, headers);
}

}  // namespace test_support
