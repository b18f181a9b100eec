// Tests for common/files/cache: freshness, LRU eviction and every bound.
#include "common/files/cache.h"
#include "tests/support/catch.h"

using common::CachedFile;
using common::FileCache;

namespace {

CachedFile file(size_t size, uint64_t loaded_ms = 0) {
  CachedFile f;
  f.body.assign(size, 'x');
  f.loaded_ms = loaded_ms;
  return f;
}

}  // namespace

TEST_CASE("an entry is served while fresh and dropped once stale", "[file_cache]") {
  FileCache cache(FileCache::Limits{64, 1024, 8, 1000});
  cache.store("/a", file(10, 5000));
  REQUIRE(cache.find("/a", 5000) != nullptr);
  CHECK(cache.find("/a", 5999)->body.size() == 10);
  CHECK(cache.find("/a", 6000) == nullptr);  // fresh_ms elapsed: the disk decides again
  CHECK(cache.entries() == 0);
  CHECK(cache.bytes() == 0);
  CHECK(cache.find("/missing", 0) == nullptr);
}

TEST_CASE("files over the size limit are not kept, replacing updates the byte count",
          "[file_cache]") {
  FileCache cache(FileCache::Limits{64, 1024, 8, 1000});
  CHECK(cache.fits(64));
  CHECK_FALSE(cache.fits(65));
  cache.store("/big", file(65));
  CHECK(cache.entries() == 0);
  cache.store("/a", file(10));
  cache.store("/a", file(20));
  CHECK(cache.entries() == 1);
  CHECK(cache.bytes() == 20);
  cache.erase("/a");
  CHECK(cache.bytes() == 0);
}

TEST_CASE("the least recently used entry goes first, by count and by bytes", "[file_cache]") {
  FileCache cache(FileCache::Limits{64, 100, 3, 1000});
  cache.store("/1", file(10));
  cache.store("/2", file(10));
  cache.store("/3", file(10));
  CHECK(cache.find("/1", 1) != nullptr);  // /1 is now the most recent
  cache.store("/4", file(10));            // over 3 entries: /2 goes
  CHECK(cache.find("/2", 1) == nullptr);
  CHECK(cache.entries() == 3);
  cache.store("/5", file(64));  // 30 + 64 > 100: the oldest (/3) goes
  CHECK(cache.find("/3", 1) == nullptr);
  CHECK(cache.find("/1", 1) != nullptr);
  CHECK(cache.bytes() <= 100);
  CHECK(cache.entries() <= 3);
}
