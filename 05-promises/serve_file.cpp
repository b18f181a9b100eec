#include "serve_file.h"

#include <cstddef>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <utility>

#include "common/files/mime.h"
#include "common/files/read_file.h"
#include "common/flow/promise.h"
#include "common/json.h"

namespace {

using common::Error;
using common::partial;
using common::http::Response;

constexpr std::size_t kMaxFileBytes = 8 << 20;  // larger files get 413

// The tutorial's setHeader(200 | 500, res, data): start the answer, pass the body on.
std::string send_head(Response res, const std::string& name, std::string data) {
  res.start(200, {{"Content-Type", std::string(common::http::content_type_for(name))}},
            data.size());
  return data;
}

// What a client may know of a failure: the status in words. The system call and errno that
// failed stay in the server's log.
std::string client_message(const std::string& name, int status) {
  switch (status) {
    case 404:
      return "no file named '" + name + "'";
    case 403:
      return "'" + name + "' is not a file that can be served";
    case 413:
      return "'" + name + "' is larger than 8 MiB";
    default:
      return "cannot read '" + name + "'";
  }
}

std::string error_head(Response res, const std::string& name, const Error& error) {
  const int status = common::http_status_for_file(error);
  if (status == 500) std::cerr << "05-promises: " << name << ": " << error.message << "\n";
  std::string body = common::error_body(client_message(name, status));
  res.start(status, {{"Content-Type", std::string(common::http::kJsonType)}}, body.size());
  return body;
}

void write_body(Response res, const std::string& body) {
  res.write(body);
}
void log_failure(const std::exception_ptr& reason) {
  std::cerr << "05-promises: " << common::describe(reason) << "\n";
}
void end_response(Response res) {  // whatever happened, the client gets an answer
  if (!res.answered()) return res.error(500, "internal error");
  return res.end();
}

// The same read with callbacks, as the tutorial writes it before promises: on_result decides,
// send_data and report_error start the answer, finish ends it. Each function has to be told
// where to go next; with promises, the chain says it instead.
void finish(Response res, const std::string& body) {
  res.write(body);
  res.end();
}
void send_data(Response res, const std::string& name, std::string data) {
  finish(res, send_head(res, name, std::move(data)));
}
void report_error(Response res, const std::string& name, const Error& error) {
  finish(res, error_head(res, name, error));
}
void on_result(Response res, const std::string& name, std::optional<Error> error,
               std::string data) {
  if (error) return report_error(std::move(res), name, *error);
  return send_data(std::move(res), name, std::move(data));
}

}  // namespace

void serve_file_with_callbacks(uv_loop_t& loop, const std::string& dir,
                               const common::http::Request& req, Response res) {
  const std::string& name = req.params.at("name");
  if (!common::is_plain_file_name(name))
    return report_error(std::move(res), name, Error{"ENOENT", "not a plain file name"});
  auto callback = std::bind_front(on_result, std::move(res), name);  // _.partial(onResult, res)
  common::read_file(&loop, kMaxFileBytes, dir + "/" + name, std::move(callback));
}

void serve_file(uv_loop_t& loop, const std::string& dir, const common::http::Request& req,
                Response res) {
  const std::string& name = req.params.at("name");
  auto read_file = common::nfbind(common::read_file, &loop, kMaxFileBytes);
  auto data = common::is_plain_file_name(name)
                  ? read_file(dir + "/" + name)
                  : common::rejected<std::string>(Error{"ENOENT", "not a plain file name"});
  data.then(partial(send_head, res, name), partial(error_head, res, name))
      .then(partial(write_body, res), log_failure)
      .fin(partial(end_response, std::move(res)));  // its last use: the chain holds it now
}
