// flow/promise_error.h: what a rejected promise carries (a std::exception_ptr: a handler's throw
// becomes one, A+ 2.2.7.2), how to get a common::Error back out, so that a route can map
// "ENOTFOUND" to 404, and what becomes of a rejection nobody handles: a rejected promise
// destroyed without ever having had a handler is reported; chaining off it counts as handling.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
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
inline std::string describe(const std::exception_ptr& reason) {
  return error_of(reason).message;
}

// Called with the reason of each rejected promise destroyed without a handler.
using RejectionReporter = std::function<void(const std::exception_ptr& reason)>;
// Replaces this thread's reporter (nullptr = the default, a line on stderr); returns the old one.
RejectionReporter set_unhandled_rejection_reporter(RejectionReporter reporter);
// How many unhandled rejections this thread has reported so far.
std::size_t unhandled_rejection_count() noexcept;

}  // namespace common
