// data_set.h: the worker's "database" — users, their posts, their comments and the posts' likes.
//
// The shape (the built-in set, and any file given with --data; `broker-worker --dump-data`
// prints the built-in one):
//
//   {"users":    [{"id":1, "name":"…", "email":"…"}, …],
//    "posts":    [{"id":1, "poster":1, "title":"…", "body":"…"}, …],
//    "comments": [{"id":1, "commenter":1, "post":7, "text":"…"}, …],
//    "likes":    [{"post":1, "liker":42}, …]}            (optional)
//
// Only the keys the queries use are required: users[].id, posts[].poster,
// comments[].commenter, likes[].post and likes[].liker, each a positive integer; any other field
// is passed through as is.
// Answers are serialised once, at load time: a query is a map lookup, never JSON encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/json.h"

namespace worker {

class DataSet {
 public:
  // Users 1–100 with 1–3 posts and 1–3 comments each, 0–3 likes per post, the same on every run.
  static DataSet built_in();
  static common::Json built_in_json();
  // Returns nullopt and a message naming the problem for a file that is not of the shape above.
  static std::optional<DataSet> load(const std::string& path, std::string& error);
  static std::optional<DataSet> from_json(const rapidjson::Value& root, std::string& error);

  // The user as compact JSON, or nullptr if there is none with that id.
  [[nodiscard]] const std::string* user(int64_t id) const;
  // The user's posts / comments as a compact JSON array ("[]" if none).
  [[nodiscard]] std::string_view posts_of(int64_t id) const;
  [[nodiscard]] std::string_view comments_of(int64_t id) const;
  // The likes of these posts as a compact JSON array: post by post in the order asked (a post
  // asked twice counts once), each post's likes in data-set order.
  [[nodiscard]] std::string likes_of(const std::vector<int64_t>& posts) const;
  [[nodiscard]] size_t user_count() const noexcept { return users_.size(); }

 private:
  std::unordered_map<int64_t, std::string> users_;
  std::unordered_map<int64_t, std::string> posts_;
  std::unordered_map<int64_t, std::string> comments_;
  std::unordered_map<int64_t, std::string> likes_;  // post id → its likes, comma-separated
};

}  // namespace worker
