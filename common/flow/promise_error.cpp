#include "common/flow/promise_error.h"

#include <cstdio>
#include <utility>

namespace common {

Error error_of(const std::exception_ptr& reason) {
  if (!reason) return Error{"EUNKNOWN", "unknown error"};
  try {
    std::rethrow_exception(reason);
  } catch (const ErrorException& error) {
    return error.error();
  } catch (const UvError& error) {
    return Error{uv_err_name(error.code()), error.what()};
  } catch (const TypeError& error) {
    return Error{"ETYPE", error.what()};
  } catch (const std::exception& error) {
    return Error{"EINTERNAL", error.what()};
  } catch (...) {
    return Error{"EUNKNOWN", "unknown error"};
  }
}

namespace {

thread_local RejectionReporter reporter;
thread_local std::size_t reported = 0;

}  // namespace

RejectionReporter set_unhandled_rejection_reporter(RejectionReporter replacement) {
  return std::exchange(reporter, std::move(replacement));
}

std::size_t unhandled_rejection_count() noexcept {
  return reported;
}

void promise_detail::report_unhandled(const std::exception_ptr& reason) noexcept {
  ++reported;
  try {
    if (reporter) return reporter(reason);
    std::fprintf(stderr, "common::Promise: unhandled rejection: %s\n", describe(reason).c_str());
  } catch (...) {
    std::fputs("common::Promise: the unhandled-rejection reporter threw\n", stderr);
  }
}

}  // namespace common
