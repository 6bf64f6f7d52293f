// One hash function orders keys everywhere (memtable buckets, segment records, SCAN cursors), so
// changing it changes the on-disk format.
#include <xxhash.h>

#include "storage/engine.h"

namespace dynakv::storage {

std::uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace dynakv::storage
