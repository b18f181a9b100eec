#include "broker-worker/data_set.h"

#include <array>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace worker {
namespace {

using rapidjson::Value;

constexpr std::array kFirstNames = {"Ada",    "Alan",     "Barbara", "Brian", "Claude", "Dennis",
                                    "Donald", "Edsger",   "Frances", "Grace", "John",   "Ken",
                                    "Leslie", "Margaret", "Niklaus", "Radia", "Robin",  "Tony"};
constexpr std::array kLastNames = {"Allen",    "Backus",  "Cerf",     "Dijkstra",  "Floyd",
                                   "Hamilton", "Hoare",   "Hopper",   "Kernighan", "Knuth",
                                   "Lamport",  "Liskov",  "Lovelace", "McCarthy",  "Milner",
                                   "Perlman",  "Ritchie", "Shannon",  "Thompson",  "Wirth"};
constexpr std::array kTopics = {"callbacks",    "event loops", "promises", "back pressure",
                                "worker pools", "timeouts",    "pipes",    "file descriptors"};

Value text(const std::string& value, common::Json::AllocatorType& allocator) {
  return Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), allocator);
}

// One allocation for the whole text, where `a + b + c` would make a temporary per `+`.
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string text;
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  text.reserve(size);
  for (std::string_view part : parts) text += part;
  return text;
}

std::string lower(std::string value) {
  for (char& c : value)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return value;
}

// Deterministic: everything follows from the user id.
void add_user(common::Json& doc, int id, int& next_post, int& next_comment, int total_posts) {
  auto& a = doc.GetAllocator();
  std::string first = kFirstNames[static_cast<size_t>(id - 1) % kFirstNames.size()];
  std::string last = kLastNames[static_cast<size_t>(id * 7) % kLastNames.size()];
  Value user(rapidjson::kObjectType);
  user.AddMember("id", id, a);
  user.AddMember("name", text(first + " " + last, a), a);
  user.AddMember(
      "email", text(lower(first) + "." + lower(last) + std::to_string(id) + "@example.com", a), a);
  doc["users"].PushBack(user, a);
  for (int k = 0; k < 1 + id % 3; ++k) {
    std::string topic = kTopics[static_cast<size_t>(id + k) % kTopics.size()];
    Value post(rapidjson::kObjectType);
    post.AddMember("id", next_post++, a);
    post.AddMember("poster", id, a);
    post.AddMember("title", text(joined({"On ", topic, ", part ", std::to_string(k + 1)}), a), a);
    post.AddMember("body", text(joined({first, " writes about ", topic, "."}), a), a);
    doc["posts"].PushBack(post, a);
  }
  for (int k = 0; k < 1 + (id * 2) % 3; ++k) {
    Value comment(rapidjson::kObjectType);
    comment.AddMember("id", next_comment++, a);
    comment.AddMember("commenter", id, a);
    comment.AddMember("post", (id * 13 + k * 17) % total_posts + 1, a);
    comment.AddMember("text",
                      text(joined({"Thanks, that helped with ",
                                   kTopics[static_cast<size_t>(k + id / 3) % kTopics.size()], "."}),
                           a),
                      a);
    doc["comments"].PushBack(comment, a);
  }
}

// 0–3 likes per post, by likers that follow from the post id (distinct: 17 and 34 are not
// multiples of 100).
void add_likes(common::Json& doc, int total_posts, int users) {
  auto& a = doc.GetAllocator();
  for (int post = 1; post <= total_posts; ++post) {
    for (int k = 0; k < (post * 7) % 4; ++k) {
      Value like(rapidjson::kObjectType);
      like.AddMember("post", post, a);
      like.AddMember("liker", (post * 31 + k * 17) % users + 1, a);
      doc["likes"].PushBack(like, a);
    }
  }
}

// Checks that `root[section]` is an array whose entries have a positive integer `key`.
bool check_section(const Value& root, const char* section, const char* key, std::string& error) {
  auto member = root.FindMember(section);
  if (member == root.MemberEnd() || !member->value.IsArray()) {
    error = std::string("\"") + section + "\" must be an array";
    return false;
  }
  rapidjson::SizeType index = 0;
  for (const Value& entry : member->value.GetArray()) {
    auto id = common::get_int(entry, key);
    if (!id || *id <= 0) {
      error = std::string(section) + "[" + std::to_string(index) + "] needs a positive integer \"" +
              key + "\"";
      return false;
    }
    ++index;
  }
  return true;
}

// Groups the entries of a section by their owner and serialises each group: as an array, or
// (bare) as the comma-separated entries, for answers that join several groups.
std::unordered_map<int64_t, std::string> group_by(const Value& entries, const char* key,
                                                  bool bare = false) {
  std::unordered_map<int64_t, std::vector<const Value*>> groups;
  for (const Value& entry : entries.GetArray())
    groups[*common::get_int(entry, key)].push_back(&entry);
  std::unordered_map<int64_t, std::string> serialised;
  for (const auto& [owner, members] : groups) {
    std::string json;
    for (const Value* entry : members) {
      if (!json.empty()) json += ',';
      json += common::to_json(*entry);
    }
    if (!bare) {
      json.insert(json.begin(), '[');
      json += ']';
    }
    serialised.emplace(owner, std::move(json));
  }
  return serialised;
}

}  // namespace

common::Json DataSet::built_in_json() {
  constexpr int kUsers = 100;
  int total_posts = 0;
  for (int id = 1; id <= kUsers; ++id) total_posts += 1 + id % 3;
  common::Json doc(rapidjson::kObjectType);
  doc.AddMember("users", Value(rapidjson::kArrayType), doc.GetAllocator());
  doc.AddMember("posts", Value(rapidjson::kArrayType), doc.GetAllocator());
  doc.AddMember("comments", Value(rapidjson::kArrayType), doc.GetAllocator());
  doc.AddMember("likes", Value(rapidjson::kArrayType), doc.GetAllocator());
  int next_post = 1;
  int next_comment = 1;
  for (int id = 1; id <= kUsers; ++id) add_user(doc, id, next_post, next_comment, total_posts);
  add_likes(doc, total_posts, kUsers);
  return doc;
}

DataSet DataSet::built_in() {
  std::string error;
  auto data = from_json(built_in_json(), error);
  return std::move(*data);  // the built-in set is valid by construction (a unit test checks it)
}

std::optional<DataSet> DataSet::load(const std::string& path, std::string& error) {
  std::string problem;
  auto doc = common::read_json_file(path, &problem);
  if (!doc) {
    error = path + ": " + problem;
    return std::nullopt;
  }
  auto data = from_json(*doc, error);
  if (!data) error = path + ": " + error;
  return data;
}

std::optional<DataSet> DataSet::from_json(const rapidjson::Value& root, std::string& error) {
  if (!root.IsObject()) {
    error = "the data set must be a JSON object with \"users\", \"posts\" and \"comments\"";
    return std::nullopt;
  }
  if (!check_section(root, "users", "id", error) ||
      !check_section(root, "posts", "poster", error) ||
      !check_section(root, "comments", "commenter", error))
    return std::nullopt;
  bool has_likes = root.HasMember("likes");  // optional: files written before likes existed
  if (has_likes && (!check_section(root, "likes", "post", error) ||
                    !check_section(root, "likes", "liker", error)))
    return std::nullopt;
  DataSet data;
  for (const Value& user : root["users"].GetArray()) {
    int64_t id = *common::get_int(user, "id");
    if (!data.users_.emplace(id, common::to_json(user)).second) {
      error = "users: the id " + std::to_string(id) + " appears twice";
      return std::nullopt;
    }
  }
  data.posts_ = group_by(root["posts"], "poster");
  data.comments_ = group_by(root["comments"], "commenter");
  if (has_likes) data.likes_ = group_by(root["likes"], "post", true);
  return data;
}

const std::string* DataSet::user(int64_t id) const {
  auto found = users_.find(id);
  return found == users_.end() ? nullptr : &found->second;
}

std::string_view DataSet::posts_of(int64_t id) const {
  auto found = posts_.find(id);
  return found == posts_.end() ? std::string_view("[]") : std::string_view(found->second);
}

std::string_view DataSet::comments_of(int64_t id) const {
  auto found = comments_.find(id);
  return found == comments_.end() ? std::string_view("[]") : std::string_view(found->second);
}

std::string DataSet::likes_of(const std::vector<int64_t>& posts) const {
  std::string json = "[";
  std::unordered_set<int64_t> seen;
  for (int64_t post : posts) {
    if (!seen.insert(post).second) continue;  // asked before
    auto found = likes_.find(post);
    if (found == likes_.end()) continue;
    if (json.size() > 1) json += ',';
    json += found->second;
  }
  return json + ']';
}

}  // namespace worker
