#include "serve_file.h"

#include <cstddef>
#include <exception>
#include <iostream>
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

std::string error_head(Response res, const std::string& name, const Error& error) {
  std::string body = common::error_body("cannot read '" + name + "': " + error.message);
  res.start(common::http_status_for_file(error),
            {{"Content-Type", std::string(common::http::kJsonType)}}, body.size());
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

}  // namespace

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
