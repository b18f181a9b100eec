#include "common/files/response.h"

#include <memory>
#include <string>

#include "common/files/async_fs.h"
#include "common/uv/immediate.h"

namespace common::http {
namespace {

// The read-and-write path: one buffer per download, refilled only when the socket has taken
// the last one (should_pause / on_drain), so memory stays flat however big the file is.
struct ReadPump : std::enable_shared_from_this<ReadPump> {
  uv_loop_t* loop = nullptr;
  Response res;
  uv_file fd = -1;
  uint64_t offset = 0;
  uint64_t remaining = 0;
  std::function<void(int)> done;
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kStreamChunk);

  explicit ReadPump(Response r) : res(std::move(r)) {}

  void next() {
    if (!res.connected()) return finish(UV_ECANCELED);
    if (remaining == 0) {
      res.end();
      return finish(0);
    }
    if (res.should_pause()) return res.on_drain([self = shared_from_this()] { self->next(); });
    size_t want = remaining < kStreamChunk ? static_cast<size_t>(remaining) : kStreamChunk;
    fs::read(*loop, fd, buffer.get(), want, static_cast<int64_t>(offset),
             [self = shared_from_this()](ssize_t n) { self->on_read(n); });
  }

  void on_read(ssize_t n) {
    if (n <= 0) return abandon(n == 0 ? UV_EOF : static_cast<int>(n));  // shrank, or EIO
    offset += static_cast<uint64_t>(n);
    remaining -= static_cast<uint64_t>(n);
    res.write(std::string_view(buffer.get(), static_cast<size_t>(n)));
    next();
  }

  // The promised length can no longer be met; ending short makes the connection close.
  void abandon(int status) {
    res.end();
    finish(status);
  }

  void finish(int status) {
    if (auto callback = std::exchange(done, nullptr)) callback(status);
  }
};

}  // namespace

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
                      bool use_sendfile, std::function<void(int)> done) {
  if (plan.length == 0 || res.request().method == "HEAD") {  // no body to read
    if (plan.status == 304 || plan.status == 416) {
      send_planned_body(res, plan, "");
    } else {
      res.start(plan.status, plan.headers, plan.length);
      res.end();
    }
    return set_immediate(loop, [done = std::move(done)] { done(0); });
  }
  res.start(plan.status, plan.headers, plan.length);
  if (use_sendfile && res.send_file(fd, plan.offset, plan.length, done)) return;
  auto pump = std::make_shared<ReadPump>(res);
  pump->loop = &loop;
  pump->fd = fd;
  pump->offset = plan.offset;
  pump->remaining = plan.length;
  pump->done = std::move(done);
  set_immediate(loop, [pump] { pump->next(); });  // never complete inside this call
}

}  // namespace common::http
