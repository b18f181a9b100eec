#include "common/json.h"

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace common {
namespace {

// A document that refuses to nest more than kMaxJsonDepth arrays and objects. RapidJSON's reader
// is a template on its handler, so it calls these, which hide the document's own; a handler
// returning false stops it with kParseErrorTermination.
class DepthLimitedDocument : public Json {
 public:
  // NOLINTBEGIN(readability-identifier-naming): RapidJSON's names
  bool StartObject() { return ++depth_ <= kMaxJsonDepth && Json::StartObject(); }
  bool StartArray() { return ++depth_ <= kMaxJsonDepth && Json::StartArray(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return Json::EndObject(members);
  }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return Json::EndArray(elements);
  }
  // NOLINTEND(readability-identifier-naming)

 private:
  int depth_ = 0;
};

// The length of the longest prefix of `text` that is valid UTF-8.
size_t utf8_prefix(std::string_view text) {
  struct Discard {
    void Put(char) {}
  } discard;
  rapidjson::MemoryStream in(text.data(), text.size());
  size_t valid = 0;
  while (valid < text.size() && rapidjson::UTF8<>::Validate(in, discard)) valid = in.Tell();
  return valid;
}

}  // namespace

bool JsonWriter::String(const char* text, rapidjson::SizeType length, bool copy) {
  std::string_view view(text, length);
  if (is_utf8(view)) return Writer::String(text, length, copy);
  std::string valid = to_utf8(view);
  return Writer::String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()), true);
}

// Raw control characters are refused first: RapidJSON takes a NUL for the end of the text (it
// would accept `{}<NUL>anything`) and calls the others an "invalid escape". Without
// kParseStopWhenDoneFlag, trailing garbage after the value is an error, as in JSON.parse.
std::optional<Json> parse_json(std::string_view text, std::string* error) {
  auto fail = [error](size_t offset, const std::string& why) {
    if (error != nullptr) *error = "invalid JSON at offset " + std::to_string(offset) + ": " + why;
    return std::nullopt;
  };
  auto raw_control = std::find_if(text.begin(), text.end(), [](unsigned char byte) {
    return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r';
  });
  if (raw_control != text.end()) {
    auto byte = static_cast<unsigned char>(*raw_control);
    char why[48] = "a NUL byte.";
    if (byte != 0) std::snprintf(why, sizeof why, "an unescaped control character 0x%02X.", byte);
    return fail(static_cast<size_t>(raw_control - text.begin()), why);
  }
  // Document::Parse without the depth limit; Populate lets our own reader fill the document.
  DepthLimitedDocument document;
  rapidjson::ParseResult result;
  auto parse = [&](Json& /*the document itself*/) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    result = rapidjson::Reader().Parse<rapidjson::kParseValidateEncodingFlag>(stream, document);
    return !result.IsError();
  };
  document.Populate(parse);
  if (!result.IsError()) return Json(std::move(document));
  if (result.Code() != rapidjson::kParseErrorTermination)
    return fail(result.Offset(), rapidjson::GetParseError_En(result.Code()));
  return fail(result.Offset(),
              "more than " + std::to_string(kMaxJsonDepth) + " arrays and objects nested.");
}

Json copy_json(const rapidjson::Value& value) {
  Json copy;
  copy.CopyFrom(value, copy.GetAllocator());
  return copy;
}

std::optional<Json> read_json_file(const std::string& path, std::string* error) {
  std::error_code code;
  std::string problem = std::filesystem::is_regular_file(path, code)
                            ? std::string()
                            : (code ? code.message() : "not a regular file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (problem.empty() && !(text << in.rdbuf())) problem = "cannot be read";
  std::optional<Json> json;
  if (problem.empty() && !(json = parse_json(text.str(), &problem)))
    problem.insert(0, "not JSON: ");
  if (!problem.empty() && error != nullptr) *error = std::move(problem);
  return json;
}

std::string error_body(std::string_view message) {
  Json body(rapidjson::kObjectType);
  body.AddMember("error", rapidjson::StringRef(message.data(), message.size()),
                 body.GetAllocator());
  return to_json(body);
}

bool is_utf8(std::string_view text) {
  return utf8_prefix(text) == text.size();
}

std::string to_utf8(std::string_view text) {
  std::string valid;
  for (size_t length = utf8_prefix(text); length < text.size(); length = utf8_prefix(text)) {
    valid.append(text.substr(0, length)) += "\xEF\xBF\xBD";  // U+FFFD for text[length]
    text.remove_prefix(length + 1);
  }
  return valid.append(text);
}

const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto member = object.FindMember(name);
  return member == object.MemberEnd() ? nullptr : &member->value;
}

}  // namespace common
