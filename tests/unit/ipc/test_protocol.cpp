// Tests for common/ipc/protocol.h and Node's internal messages (common/ipc/channel.h): the bytes
// on the wire are those of the IPC contract, docs/ipc.md §2 and §4.
#include <string>

#include "common/ipc/channel.h"
#include "common/ipc/protocol.h"
#include "tests/support/catch.h"

namespace {

common::Json parse(std::string_view text) {
  auto doc = common::parse_json(text);
  REQUIRE(doc.has_value());
  return std::move(*doc);
}

}  // namespace

TEST_CASE("requests are one compact JSON line", "[protocol]") {
  REQUIRE(common::request_line(7, "users", parse("1")) ==
          "{\"id\":7,\"bucket\":\"users\",\"query\":1}");
  REQUIRE(common::request_line(8, "posts", parse(R"({ "poster" : 1 })")) ==
          "{\"id\":8,\"bucket\":\"posts\",\"query\":{\"poster\":1}}");
  REQUIRE(common::request_line(9, "we\"ird", parse(R"("\u00e9")")) ==
          "{\"id\":9,\"bucket\":\"we\\\"ird\",\"query\":\"\xC3\xA9\"}");
}

TEST_CASE("replies are one compact JSON line with the request's id", "[protocol]") {
  REQUIRE(common::result_line(parse("7"), R"({"id":1})") == "{\"id\":7,\"result\":{\"id\":1}}");
  REQUIRE(
      common::error_line(parse(R"("seven")"), common::Error{"ENOTFOUND", "no user with id 9"}) ==
      "{\"id\":\"seven\",\"error\":{\"message\":\"no user with id 9\",\"code\":\"ENOTFOUND\"}}");
}

TEST_CASE("decode_request accepts the contract and explains the rest", "[protocol]") {
  auto good = parse(R"({"id":3,"bucket":"posts","query":{"poster":2}})");
  auto request = std::get<common::QueryRequest>(common::decode_request(good));
  REQUIRE(request.id->GetInt() == 3);
  REQUIRE(request.bucket == "posts");
  REQUIRE(request.query->IsObject());

  auto no_id = parse(R"({"bucket":"users","query":1})");
  auto bad = std::get<common::BadQueryRequest>(common::decode_request(no_id));
  REQUIRE(bad.id == nullptr);
  REQUIRE(bad.error.code == "EINVAL");

  auto no_bucket = parse(R"({"id":4,"query":1})");
  bad = std::get<common::BadQueryRequest>(common::decode_request(no_bucket));
  REQUIRE(bad.id != nullptr);
  REQUIRE(bad.error.message.find("bucket") != std::string::npos);

  auto no_query = parse(R"({"id":4,"bucket":"users"})");
  REQUIRE(std::holds_alternative<common::BadQueryRequest>(common::decode_request(no_query)));
  auto not_object = parse("[1,2]");
  REQUIRE(std::get<common::BadQueryRequest>(common::decode_request(not_object)).id == nullptr);
}

TEST_CASE("decode_reply moves the result to the root without copying", "[protocol]") {
  auto message = parse(R"({"id":12,"result":{"id":1,"name":"Ada"}})");
  const void* allocator_before = &message.GetAllocator();
  auto reply = common::decode_reply(message);
  REQUIRE(reply.has_value());
  REQUIRE(reply->id == 12);
  REQUIRE_FALSE(reply->error.has_value());
  REQUIRE(common::to_json(message) == R"({"id":1,"name":"Ada"})");
  REQUIRE(&message.GetAllocator() == allocator_before);
}

TEST_CASE("decode_reply passes error codes through and fills in what is missing", "[protocol]") {
  auto with_code = parse(R"({"id":1,"error":{"message":"no user with id 9","code":"ENOTFOUND"}})");
  auto reply = common::decode_reply(with_code);
  REQUIRE(reply->error->code == "ENOTFOUND");
  REQUIRE(reply->error->message == "no user with id 9");
  REQUIRE(with_code.IsNull());

  auto bare = parse(R"({"id":2,"error":{}})");
  reply = common::decode_reply(bare);
  REQUIRE(reply->error->code == "EWORKER");

  auto text = parse(R"({"id":3,"error":"boom"})");
  REQUIRE(common::decode_reply(text)->error->message == "boom");
}

TEST_CASE("decode_reply makes a reply with neither result nor error an EWORKER error",
          "[protocol]") {
  auto neither = parse(R"({"id":7})");  // JSON.stringify({id: 7, result: undefined})
  auto reply = common::decode_reply(neither);
  REQUIRE(reply.has_value());
  CHECK(reply->id == 7);
  REQUIRE(reply->error.has_value());
  CHECK(reply->error->code == "EWORKER");
  CHECK(reply->error->message ==
        R"(the worker answered query 7 with neither a "result" nor an "error")");
  CHECK(neither.IsNull());
}

TEST_CASE("decode_reply refuses what is not a reply to one of our ids", "[protocol]") {
  std::string why;
  auto text_id = parse(R"({"id":"x","result":1})");
  REQUIRE_FALSE(common::decode_reply(text_id, &why).has_value());
  REQUIRE(why.find("id") != std::string::npos);
  auto scalar = parse("42");
  REQUIRE_FALSE(common::decode_reply(scalar).has_value());
}

TEST_CASE("NODE_ commands are internal exactly as Node decides", "[protocol]") {
  REQUIRE(common::is_internal_message(parse(R"({"cmd":"NODE_HANDLE_ACK"})")));
  REQUIRE(common::is_internal_message(parse(R"({"cmd":"NODE_CUSTOM","x":1})")));
  REQUIRE_FALSE(common::is_internal_message(parse(R"({"cmd":"NODE_"})")));  // 5 chars: not internal
  REQUIRE_FALSE(common::is_internal_message(parse(R"({"cmd":"node_handle"})")));
  REQUIRE_FALSE(common::is_internal_message(parse(R"({"cmd":7})")));
  REQUIRE_FALSE(common::is_internal_message(parse(R"("NODE_HANDLE")")));
  REQUIRE_FALSE(common::is_internal_message(parse("42")));
}
