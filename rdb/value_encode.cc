// rdbSaveObjectType + rdbSaveObject for the values of this store, as Redis 7.0 writes them.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "listpack.h"
#include "rdb/primitives.h"
#include "rdb/value.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::rdb {

namespace {

void PutType(std::string* out, ObjectType type) { out->push_back(static_cast<char>(type)); }

// Redis's d2string, how a listpack sorted set stores a score: an integral value within
// +-LLONG_MAX/2 as an integer (double2ll; the listpack then holds it as one), else "%.17g"; inf,
// -inf, and "-0".
std::string ScoreText(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  if (score == 0) return std::signbit(score) ? "-0" : "0";
  char buf[32];
  constexpr double kLimit = static_cast<double>(std::numeric_limits<long long>::max() / 2);
  if (score >= -kLimit && score <= kLimit &&
      static_cast<double>(static_cast<long long>(score)) == score) {
    const std::to_chars_result r =
        std::to_chars(buf, buf + sizeof(buf), static_cast<long long>(score));
    return std::string(buf, r.ptr);
  }
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, static_cast<std::size_t>(n));
}

// quicklist.c's _quicklistNodeAllowInsert (7.0): whether a tail push of a `sz`-byte element
// stays in a node of `node_bytes` bytes and `count` entries, for list-max-listpack-size `fill`.
// Redis estimates an entry's overhead as 8 bytes, and gives an element of 1 GB or more a node of
// its own.
bool NodeAllowsInsert(std::size_t node_bytes, std::size_t count, std::size_t sz, long long fill) {
  constexpr std::size_t kSizeSafetyLimit = 8192;
  constexpr std::size_t kSizeEstimateOverhead = 8;
  constexpr std::size_t kPackedThreshold = std::size_t{1} << 30;
  static constexpr std::size_t kLevels[] = {4096, 8192, 16384, 32768, 65536};
  if (sz >= kPackedThreshold) return false;
  const std::size_t new_sz = node_bytes + sz + kSizeEstimateOverhead;
  if (fill < 0 && -fill - 1 < 5) {
    if (new_sz <= kLevels[-fill - 1]) return true;
  }
  if (new_sz > kSizeSafetyLimit) return false;
  return fill >= 0 && static_cast<long long>(count) < fill;
}

void EncodeHash(const types::Hash& hash, const EncodeOptions& options, std::string* out) {
  if (hash.encoding() == types::Hash::Encoding::kListpack) {
    PutType(out, ObjectType::kHashListpack);
    ListpackWriter lp;
    hash.ForEach([&](std::string_view field, std::string_view value) {
      lp.Append(field);
      lp.Append(value);
    });
    PutString(out, lp.Finish(), options.compress);
    return;
  }
  PutType(out, ObjectType::kHash);
  PutLength(out, hash.size());
  hash.ForEach([&](std::string_view field, std::string_view value) {
    PutString(out, field, options.compress);
    PutString(out, value, options.compress);
  });
}

void EncodeSet(const types::Set& set, const EncodeOptions& options, std::string* out) {
  if (set.encoding() == types::Set::Encoding::kIntset) {
    PutType(out, ObjectType::kSetIntset);
    std::vector<std::int64_t> ints;
    ints.reserve(set.size());
    set.ForEach([&](std::string_view member) {
      std::int64_t v = 0;
      types::Set::AsInteger(member, &v);
      ints.push_back(v);
    });
    PutString(out, MakeIntset(ints), options.compress);
    return;
  }
  PutType(out, ObjectType::kSet);
  PutLength(out, set.size());
  set.ForEach([&](std::string_view member) { PutString(out, member, options.compress); });
}

// The list's quicklist nodes as listpacks, and how many elements each holds.
std::vector<std::string> ListListpacks(const types::List& list, long long list_max_listpack_size,
                                       std::vector<std::size_t>* counts) {
  std::vector<std::string> nodes;
  ListpackWriter node;
  auto finish = [&] {
    if (counts != nullptr) counts->push_back(node.count());
    nodes.push_back(node.Finish());
  };
  list.ForRange(0, list.size(), [&](std::string_view element) {
    if (node.count() > 0 &&
        !NodeAllowsInsert(node.bytes(), node.count(), element.size(), list_max_listpack_size)) {
      finish();
      node = ListpackWriter();
    }
    node.Append(element);
    return true;
  });
  if (node.count() > 0) finish();
  return nodes;
}

void EncodeList(const types::List& list, const EncodeOptions& options, std::string* out) {
  PutType(out, ObjectType::kListQuicklist2);
  constexpr int kContainerPacked = 2;
  const std::vector<std::string> nodes =
      ListListpacks(list, options.list_max_listpack_size, nullptr);
  PutLength(out, nodes.size());
  for (const std::string& blob : nodes) {
    PutLength(out, kContainerPacked);
    PutString(out, blob, options.compress);
  }
}

void EncodeSortedSet(const types::SortedSet& zset, const EncodeOptions& options, std::string* out) {
  if (zset.encoding() == types::SortedSet::Encoding::kListpack) {
    PutType(out, ObjectType::kZsetListpack);
    ListpackWriter lp;
    zset.Walk(0, false, [&](std::string_view member, double score) {
      lp.Append(member);
      lp.Append(ScoreText(score));
      return true;
    });
    PutString(out, lp.Finish(), options.compress);
    return;
  }
  // Redis writes a skiplist from its tail (highest first), so loading inserts at the head.
  PutType(out, ObjectType::kZset2);
  PutLength(out, zset.size());
  if (zset.size() == 0) return;
  zset.Walk(zset.size() - 1, true, [&](std::string_view member, double score) {
    PutString(out, member, options.compress);
    PutBinaryDouble(out, score);
    return true;
  });
}

}  // namespace

void EncodeString(std::string_view bytes, const EncodeOptions& options, std::string* out) {
  PutType(out, ObjectType::kString);
  PutString(out, bytes, options.compress);
}

void EncodeObject(const storage::ValueObject& object, const EncodeOptions& options,
                  std::string* out) {
  if (const auto* hash = dynamic_cast<const types::Hash*>(&object)) {
    EncodeHash(*hash, options, out);
  } else if (const auto* set = dynamic_cast<const types::Set*>(&object)) {
    EncodeSet(*set, options, out);
  } else if (const auto* list = dynamic_cast<const types::List*>(&object)) {
    EncodeList(*list, options, out);
  } else if (const auto* zset = dynamic_cast<const types::SortedSet*>(&object)) {
    EncodeSortedSet(*zset, options, out);
  }
}

std::vector<ListNode> ListNodes(const types::List& list, long long list_max_listpack_size) {
  std::vector<std::size_t> counts;
  const std::vector<std::string> blobs = ListListpacks(list, list_max_listpack_size, &counts);
  std::vector<ListNode> nodes;
  for (std::size_t i = 0; i < blobs.size(); ++i) nodes.push_back({counts[i], blobs[i].size()});
  return nodes;
}

}  // namespace dynakv::rdb
