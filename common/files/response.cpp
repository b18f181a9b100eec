#include "common/files/response.h"

#include <utility>

#include "common/uv/immediate.h"

namespace common::http {

FilePlan plan_file_response(const Request& request, const FileMeta& file) {
  FilePlan plan;
  plan.headers = {{"ETag", file.validators.etag}, {"Last-Modified", file.validators.last_modified}};
  if (not_modified(request, file.validators)) {
    plan.status = 304;
    return plan;
  }
  plan.headers.emplace_back("Content-Type", std::string(file.content_type));
  ByteRange range;
  std::string_view wanted = request.header("Range");
  if (!wanted.empty() && if_range_allows(request.header("If-Range"), file.validators))
    range = parse_range(wanted, file.size);
  if (range.kind == ByteRange::Kind::unsatisfiable) {
    plan.status = 416;
    plan.headers.back().second = std::string(kTextType);
    plan.headers.emplace_back("Content-Range", content_range(range, file.size));
    return plan;
  }
  plan.headers.emplace_back("Accept-Ranges", "bytes");
  plan.length = file.size;
  if (range.kind == ByteRange::Kind::partial) {
    plan.status = 206;
    plan.offset = range.first;
    plan.length = range.length;
    plan.headers.emplace_back("Content-Range", content_range(range, file.size));
  }
  return plan;
}

void send_planned_body(Response& res, const FilePlan& plan, std::string_view whole) {
  for (const auto& [name, value] : plan.headers) res.set_header(name, value);
  if (plan.status == 304) return res.send(304, "", "");
  if (plan.status == 416) return res.send(416, "416 Range Not Satisfiable\n");
  res.send(plan.status, whole.substr(plan.offset, plan.length), "");
}

void stream_file_body(uv_loop_t& loop, Response& res, const FilePlan& plan, uv_file fd,
                      std::function<void(int)> done) {
  if (plan.status == 304 || plan.status == 416) {  // nothing of the file goes out
    send_planned_body(res, plan, "");
    return set_immediate(loop, [done = std::move(done)] { done(0); });
  }
  res.start(plan.status, plan.headers, plan.length);
  if (res.send_file(fd, plan.offset, plan.length, done)) return;
  // Only a connection that cannot send files (a test's fake) gets here: the answer ends short,
  // which closes that connection, and `done` hears why.
  res.end();
  set_immediate(loop, [done = std::move(done)] { done(UV_ENOTSUP); });
}

}  // namespace common::http
