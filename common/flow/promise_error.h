// flow/promise_error.h: what a rejected promise carries, and how to get a common::Error back out.
//
// A rejection reason is a std::exception_ptr (a handler's throw becomes one, A+ 2.2.7.2). To
// reject with a libuv-style common::Error{code, message} — so a route can map "ENOTFOUND" to 404 —
// wrap it in ErrorException; error_of() turns any reason back into an Error.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include "common/uv/error.h"

namespace common {

// A common::Error travelling as an exception (what() is its message).
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error error)
      : std::runtime_error(error.message), error_(std::move(error)) {}
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// JavaScript's TypeError: what a promise resolved with itself is rejected with (A+ 2.3.1).
class TypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The Error inside a rejection reason: an ErrorException's own Error; {uv_err_name, what()} for a
// UvError; {"ETYPE", what()} for a TypeError; {"EINTERNAL", what()} for any other std::exception;
// {"EUNKNOWN", "unknown error"} for anything else (and for a null reason).
Error error_of(const std::exception_ptr& reason);

// what() of the reason, or "unknown error".
std::string describe(const std::exception_ptr& reason);

}  // namespace common
