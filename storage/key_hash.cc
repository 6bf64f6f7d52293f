// One hash function orders keys everywhere (memtable buckets, segment records, SCAN cursors), so
// changing it changes the on-disk format.
#include <xxhash.h>

#include "storage/engine.h"

namespace dynakv::storage {

std::uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// XXH3 with seed 0 is plain XXH3 (namespace 0 is what it was); the branch spares it the seeded
// variant's setup.
std::uint64_t HashKey(std::string_view key, std::uint32_t ns) {
  if (ns == 0) return XXH3_64bits(key.data(), key.size());
  return XXH3_64bits_withSeed(key.data(), key.size(), ns);
}

}  // namespace dynakv::storage
