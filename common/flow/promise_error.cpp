#include "common/flow/promise_error.h"

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

std::string describe(const std::exception_ptr& reason) {
  if (!reason) return "unknown error";
  try {
    std::rethrow_exception(reason);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace common
