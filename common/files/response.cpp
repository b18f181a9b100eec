#include "common/files/response.h"

#include <charconv>
#include <limits>
#include <optional>
#include <utility>

#include "common/uv/immediate.h"

namespace common::http {
namespace {

// Digits only (no sign, no spaces); a number too big for 64 bits reads as "huge".
std::optional<uint64_t> parse_digits(std::string_view text) noexcept {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size()) return std::nullopt;
  return error == std::errc::result_out_of_range ? std::numeric_limits<uint64_t>::max() : value;
}

ByteRange partial(uint64_t first, uint64_t last) noexcept {
  return {ByteRange::Kind::partial, first, last - first + 1};
}

}  // namespace

ByteRange parse_range(std::string_view header, uint64_t size) noexcept {
  const ByteRange whole{};
  const ByteRange unsatisfiable{ByteRange::Kind::unsatisfiable};
  size_t equals = header.find('=');
  if (equals == std::string_view::npos || !iequals(trim(header.substr(0, equals)), "bytes"))
    return whole;
  std::string_view spec = trim(header.substr(equals + 1));
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return whole;
  std::string_view first_text = trim(spec.substr(0, dash));
  std::optional<uint64_t> first = parse_digits(first_text);
  if (!first && !first_text.empty()) return whole;
  std::string_view last_text = trim(spec.substr(dash + 1));
  std::optional<uint64_t> last = parse_digits(last_text);
  if (!first) {  // suffix form "-N": the last N bytes
    if (!last) return whole;
    if (*last == 0 || size == 0) return unsatisfiable;
    return partial(*last >= size ? 0 : size - *last, size - 1);
  }
  if (!last_text.empty() && (!last || *last < *first)) return whole;  // invalid: ignored
  if (*first >= size) return unsatisfiable;
  return partial(*first, last && *last < size ? *last : size - 1);
}

std::string content_range(const ByteRange& range, uint64_t size) {
  if (range.kind != ByteRange::Kind::partial) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(range.first) + "-" +
         std::to_string(range.first + range.length - 1) + "/" + std::to_string(size);
}

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
  res.end();  // a connection that cannot send files (a test's fake): the answer ends short
  set_immediate(loop, [done = std::move(done)] { done(UV_ENOTSUP); });
}

}  // namespace common::http
