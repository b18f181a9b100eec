#include "common/files/cache.h"

namespace common {

const CachedFile* FileCache::find(const std::string& key, uint64_t now_ms) {
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

void FileCache::store(const std::string& key, CachedFile file) {
  erase(key);
  const size_t size = file.body.size();
  if (!fits(size) || size > limits_.max_total_bytes || limits_.max_entries == 0) return;
  while (index_.size() >= limits_.max_entries || bytes_ + size > limits_.max_total_bytes)
    erase(lru_.back().first);  // the least recently used
  lru_.emplace_front(key, std::move(file));
  index_.emplace(key, lru_.begin());
  bytes_ += size;
}

void FileCache::erase(const std::string& key) {
  auto found = index_.find(key);
  if (found == index_.end()) return;
  bytes_ -= found->second->second.body.size();
  lru_.erase(found->second);
  index_.erase(found);
}

}  // namespace common
