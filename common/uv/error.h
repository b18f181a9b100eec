// uv/error.h: libuv's negative return codes turned into errors a person can act on.
//
// Two shapes, following the tutorial's third commandment ("always check errors"):
//  - setup code (main, constructors) calls check(rc, "uv_listen"), which throws UvError;
//  - callbacks never throw: they pass an Error value on, Node style: callback(error, result).
#pragma once

#include <uv.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace common {

// "uv_listen: EADDRINUSE (address already in use)"
inline std::string describe_uv(int rc, std::string_view what) {
  return std::string(what) + ": " + uv_err_name(rc) + " (" + uv_strerror(rc) + ")";
}

class UvError : public std::runtime_error {
 public:
  UvError(int code, std::string_view what)
      : std::runtime_error(describe_uv(code, what)), code_(code) {}
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

// Returns rc when it is not an error; throws UvError naming the call otherwise.
inline int check(int rc, std::string_view what) {
  if (rc < 0) throw UvError(rc, what);
  return rc;
}

// The error value handed to Node-style callbacks: a short machine-readable code
// ("ENOTFOUND", "ETIMEDOUT", "EWORKER", …) and a sentence for people.
struct Error {
  std::string code;
  std::string message;
};

// An Error for a failed libuv call, e.g. {"ECONNRESET", "write: ECONNRESET (connection reset by
// peer)"}.
inline Error uv_failure(int rc, std::string_view what) {
  return Error{uv_err_name(rc), describe_uv(rc, what)};
}

}  // namespace common
