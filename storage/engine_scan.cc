// SCAN and RANDOMKEY: walks in hash order over the memtable and the segments.
#include <algorithm>
#include <unordered_set>

#include "engine_impl.h"

namespace dynakv::storage {

namespace {

// What SCAN needs of a segment record, copied out of the iterator's block.
struct ScanRecord {
  std::uint64_t hash;
  std::string key;
  bool live;
};

}  // namespace

// Every source (memtable, each segment) is read from `cursor` for about `count` keys; the scan
// covers hash positions up to the smallest position any source reached, so within that range
// every source has been read completely and the newest version of each key is known.
// Only the database's namespace is returned. The others share the hash space, so a call walks
// past their keys too: each source stops after about 10 * count records (or buckets) of any
// namespace, at a hash boundary, as Redis bounds the empty buckets one call visits, scaled by how
// many keys there are for each of this database's, so that a small database beside a big one
// still comes back in a few calls. An empty database is done at once.
std::uint64_t EngineImpl::Scan(DbIndex db, std::uint64_t cursor, std::size_t count,
                               std::vector<std::string>* keys) {
  if (count == 0) count = 1;
  const std::uint64_t db_keys = db_counts_[db].keys;
  if (db_keys == 0) return 0;
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t share = std::max<std::uint64_t>(1, live_keys_ / db_keys);
  const std::size_t budget =
      static_cast<std::size_t>(std::min<std::uint64_t>(count * 10 * share, std::uint64_t{1} << 40));
  const std::int64_t now = Now();
  auto live = [now](bool tombstone, std::int64_t expire_at_ms) {
    return !tombstone && (expire_at_ms == 0 || expire_at_ms > now);
  };

  std::vector<const Memtable::Entry*> mem;
  // Redis bounds the empty buckets one call may visit in the same way.
  std::uint64_t end = memtable_.ScanBuckets(
      cursor, count, budget, [&](const Memtable::Entry& e) { mem.push_back(&e); }, ns);

  std::vector<std::vector<ScanRecord>> disk(segments_.size());
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    SegmentIterator it(segments_[i]);
    std::uint64_t last = UINT64_MAX;
    bool exhausted = true;
    std::size_t examined = 0;
    for (it.Seek(cursor); it.Valid(); it.Next()) {
      const SegmentRecord& rec = it.record();
      // Past `count` records, keep going only through keys sharing the last hash, so that
      // the range up to `last` is complete for this segment.
      if ((disk[i].size() >= count || examined >= budget) && rec.hash != last) {
        exhausted = false;
        break;
      }
      last = rec.hash;
      ++examined;
      if (rec.ns != ns) continue;
      disk[i].push_back({rec.hash, std::string(rec.key), live(rec.tombstone(), rec.expire_at_ms)});
    }
    if (!it.status().ok()) {
      ++stats_.io_errors;
      ++stats_.segment_read_errors;
      segment_read_error_ = it.status();
      read_error_ = it.status();
    }
    if (!exhausted) end = std::min(end, last);
  }
  // Every source is complete up to `end`, so any smaller end is valid too: stop at the count-th
  // position overall, or a scan over many segments would return count keys from each.
  std::vector<std::uint64_t> positions;
  for (const Memtable::Entry* e : mem) positions.push_back(e->hash);
  for (const auto& records : disk) {
    for (const ScanRecord& rec : records) positions.push_back(rec.hash);
  }
  if (positions.size() > count) {
    std::nth_element(positions.begin(), positions.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     positions.end());
    end = std::min(end, positions[count - 1]);
  }

  // Newest version first: the memtable, then segments from newest to oldest.
  std::unordered_set<std::string_view> decided;
  for (const Memtable::Entry* e : mem) {
    if (e->hash > end) continue;
    decided.insert(e->key());
    if (live(e->has(Memtable::kTombstone), e->expire_at_ms)) keys->emplace_back(e->key());
  }
  for (std::size_t i = disk.size(); i-- > 0;) {
    for (const ScanRecord& rec : disk[i]) {
      if (rec.hash > end) break;
      if (!decided.insert(rec.key).second) continue;
      if (rec.live) keys->push_back(rec.key);
    }
  }
  return end == UINT64_MAX ? 0 : end + 1;
}

std::optional<std::string> EngineImpl::RandomKey(DbIndex db) {
  if (db_counts_[db].keys == 0) return std::nullopt;
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t start = rng_();
  std::vector<std::string> keys;
  // From a random position to the end of hash space, then from 0 back to it.
  std::uint64_t cursor = start;
  bool wrapped = false;
  for (;;) {
    keys.clear();
    const std::uint64_t next = Scan(db, cursor, 16, &keys);
    for (const std::string& k : keys) {
      if (!wrapped || HashKey(k, ns) < start) return k;
    }
    if (wrapped && (next == 0 || next > start)) return std::nullopt;
    if (next == 0) wrapped = true;
    cursor = next;
  }
}

}  // namespace dynakv::storage
