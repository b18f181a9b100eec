// files/cache.h: small files kept in memory, so a busy page costs no disk round trip.
//
// Every uncached request costs several trips through libuv's thread pool (open, realpath,
// fstat, read, close). The cache stays correct the simple way: an entry is trusted for
// `fresh_ms` after it was read, then the next request goes to the disk again (checking the path,
// symlinks and all), so a changed or deleted file is noticed within fresh_ms. It is bounded in
// entries, bytes and file size, and forgets the least recently used entry first.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/http/conditional.h"

namespace common {

struct CachedFile {
  std::string body;
  http::Validators validators;
  std::string_view content_type;  // from the static MIME table
  uint64_t loaded_ms = 0;         // loop time (uv_now) when it was read
};

class FileCache {
 public:
  struct Limits {
    size_t max_file_bytes = size_t{64} * 1024;  // bigger files are streamed, never cached
    size_t max_total_bytes = size_t{4} * 1024 * 1024;
    size_t max_entries = 1024;
    uint64_t fresh_ms = 1000;  // how long an entry is trusted without looking at the disk
  };

  explicit FileCache(Limits limits) : limits_(limits) {}
  FileCache() : FileCache(Limits{}) {}

  // The entry for `key` if it is fresh at `now_ms`; a stale one is dropped. The pointer is
  // valid until the cache is next changed.
  [[nodiscard]] const CachedFile* find(const std::string& key, uint64_t now_ms) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    const CachedFile& file = found->second->second;
    if (now_ms - file.loaded_ms >= limits_.fresh_ms || now_ms < file.loaded_ms) {
      erase(key);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, found->second);  // now the most recently used
    return &file;
  }

  [[nodiscard]] bool fits(uint64_t size) const noexcept { return size <= limits_.max_file_bytes; }

  // Adds or replaces an entry (ignored if it does not fit), evicting the least recently used.
  void store(const std::string& key, CachedFile file) {
    erase(key);
    const size_t size = file.body.size();
    if (!fits(size) || size > limits_.max_total_bytes || limits_.max_entries == 0) return;
    while (index_.size() >= limits_.max_entries || bytes_ + size > limits_.max_total_bytes)
      erase(lru_.back().first);  // the least recently used
    lru_.emplace_front(key, std::move(file));
    index_.emplace(key, lru_.begin());
    bytes_ += size;
  }

  void erase(const std::string& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return;
    bytes_ -= found->second->second.body.size();
    lru_.erase(found->second);
    index_.erase(found);
  }

  [[nodiscard]] size_t entries() const noexcept { return index_.size(); }
  [[nodiscard]] size_t bytes() const noexcept { return bytes_; }

 private:
  using Entry = std::pair<std::string, CachedFile>;

  Limits limits_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace common
