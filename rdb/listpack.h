// Redis's listpack (listpack.c), the blob of RDB_TYPE_*_LISTPACK and quicklist-2 nodes: a 6-byte
// header (total bytes, element count, little-endian), entries, and 0xFF. Each entry is its
// encoding byte(s), its data, and its own length backwards (so it can be walked from the end).
// A string that is a canonical integer is stored as an integer, in the smallest form that holds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace dynakv::rdb {

class ListpackWriter {
 public:
  ListpackWriter();
  void Append(std::string_view element);
  std::size_t count() const { return count_; }
  // The listpack's size were it finished now (header and terminator included).
  std::size_t bytes() const { return buf_.size() + 1; }
  // The finished listpack; the writer is spent.
  std::string Finish();

 private:
  std::string buf_;
  std::size_t count_ = 0;
};

// Each element as text (an integer entry as its decimal form); `fn` returns false to stop (the
// parse then fails). False when the blob is not a well-formed listpack: sizes, encodings,
// back-lengths, count and terminator are all checked, as Redis's deep integrity check does.
using ElementVisitor = std::function<bool(std::string_view element)>;
bool ParseListpack(std::string_view blob, const ElementVisitor& fn);

// Redis 6's ziplist (ziplist.c), the blob of RDB_TYPE_*_ZIPLIST and quicklist nodes, checked as
// strictly: header sizes, the tail offset, every entry's previous-length, the count, terminator.
bool ParseZiplist(std::string_view blob, const ElementVisitor& fn);

// Redis 2.x's zipmap (zipmap.c), the blob of RDB_TYPE_HASH_ZIPMAP: a count byte, then per pair
// the key's length and bytes, the value's length, a count of free bytes, the value and the free
// bytes; 0xFF ends it. Elements come out key, value, key, value...
bool ParseZipmap(std::string_view blob, const ElementVisitor& fn);

// Redis's intset (intset.c): 4-byte element width (2, 4 or 8), 4-byte count, sorted little-endian
// integers. MakeIntset picks the narrowest width that holds every value, as intsetAdd does.
std::string MakeIntset(const std::vector<std::int64_t>& ascending);
// Strictly ascending values of a valid width are required, as Redis's validation does.
bool ParseIntset(std::string_view blob, const std::function<bool(std::int64_t)>& fn);

}  // namespace dynakv::rdb
