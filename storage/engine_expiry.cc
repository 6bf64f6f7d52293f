// Active expiry: like Redis's expire cycle, reaps expired keys that nobody touches, so they stop
// counting and their space comes back. Both the memtable and the segments are swept, a bounded
// slice per tick within a small time budget, so the event loop stays responsive.
#include <string>

#include "engine_impl.h"
#include "merging_iterator.h"

namespace dynakv::storage {

namespace {

// Per tick; each sweep still takes at least one step, so neither can starve the other.
constexpr auto kBudget = std::chrono::milliseconds(1);
constexpr std::size_t kEntriesPerStep = 200;  // memtable entries
constexpr std::size_t kRecordsPerStep = 200;  // segment records

// Like Redis: another step pays off while more than a quarter of the keys with a TTL that the
// last one looked at had expired.
bool WorthAnotherStep(std::size_t with_ttl, std::size_t expired) { return expired * 4 > with_ttl; }

}  // namespace

void EngineImpl::ActiveExpireCycle() {
  if (removal_paused_ || !active_expire_) return;
  const auto started = LatencyStart();
  const SteadyTime start = std::chrono::steady_clock::now();
  const SteadyTime deadline = start + kBudget;
  // Redis forgets a database's estimate once it has no key with a TTL left.
  for (DbCounts& counts : db_counts_) {
    if (counts.expiring == 0) counts.avg_ttl_ms = 0;
  }
  ExpireMemtable(deadline);
  ExpireSegments(deadline);
  stats_.expire_cycle_us += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  LatencyEnd("expire-cycle", started);
}

void EngineImpl::ExpireMemtable(SteadyTime deadline) {
  std::vector<std::string> expired;
  std::vector<std::uint32_t> expired_ns;
  std::vector<Memtable::TtlSample> live;
  std::size_t sampled = 0;  // keys with a TTL the sweeps looked at, and how many had expired
  std::size_t stale = 0;
  while (memtable_.expiring_count() > 0) {
    expired.clear();
    expired_ns.clear();
    live.clear();
    const std::int64_t now = Now();
    const std::size_t with_ttl =
        memtable_.SweepExpired(now, kEntriesPerStep, &expired, &expired_ns, &live);
    NoteTtlSamples(live);
    for (std::size_t i = 0; i < expired.size(); ++i) {
      const std::string& key = expired[i];
      const std::uint32_t ns = expired_ns[i];
      const std::uint64_t hash = HashKey(key, ns);
      const KeyState st = StateOf(hash, ns, key);
      if (st.exists && st.expired) Reap(hash, ns, key, st);
    }
    sampled += with_ttl;
    stale += expired.size();
    if (with_ttl == 0 || !WorthAnotherStep(with_ttl, expired.size())) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ++stats_.expire_time_cap_reached;
      break;
    }
  }
  // Redis's stat_expired_stale_perc: 5% of this cycle's share, 95% of the average so far.
  if (sampled > 0) {
    const double share = static_cast<double>(stale) / static_cast<double>(sampled);
    stats_.expired_stale_ratio = share * 0.05 + stats_.expired_stale_ratio * 0.95;
  }
}

void EngineImpl::ExpireSegments(SteadyTime deadline) {
  // With no live key carrying a TTL, every value with one on disk is dead already; this also
  // makes the sweep free for data sets without expiries.
  while (keys_with_expiry_ > 0) {
    const std::int64_t now = Now();
    const std::vector<std::shared_ptr<SegmentReader>> due = disk_sweep_.Due(segments_, now);
    if (due.empty()) return;
    const SweepStep step = ExpireSegmentsStep(due, now);
    NoteTtlSamples(step.live);
    if (!step.more) return;
    // A step over values without TTLs only has to be got through.
    if (step.with_ttl > 0 && !WorthAnotherStep(step.with_ttl, step.expired)) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      ++stats_.expire_time_cap_reached;
      return;
    }
  }
}

// The walk merges the due segments, so each key is looked at once, in its newest version among
// them. A value that has expired is only a candidate: the memtable or a segment not walked may
// hold a newer version, so the key's state is resolved in full before it is reaped, exactly as a
// read would reap it.
EngineImpl::SweepStep EngineImpl::ExpireSegmentsStep(
    const std::vector<std::shared_ptr<SegmentReader>>& due, std::int64_t now) {
  SweepStep step;
  MergingIterator it(due);
  it.Seek(disk_sweep_.cursor());
  std::size_t examined = 0;
  std::uint64_t last = 0;
  for (; it.Valid(); it.Next()) {
    const SegmentRecord& rec = it.record();
    // Stop only where the hash changes: the cursor, a hash, then resumes exactly here, and a run
    // of keys sharing a hash cannot hold the sweep in place.
    if (examined >= kRecordsPerStep && rec.hash != last) {
      disk_sweep_.set_cursor(rec.hash);
      return step;
    }
    ++examined;
    ++stats_.disk_expire_scanned;
    last = rec.hash;
    // The garbage of a FLUSHDB is no key anybody can reach; compaction drops it.
    if (rec.tombstone() || rec.expire_at_ms == 0 || !LiveNamespace(rec.ns)) continue;
    ++step.with_ttl;
    if (rec.expire_at_ms > now) {
      disk_sweep_.NotePending(due[it.source()]->seq(), rec.expire_at_ms);
      step.live.push_back({rec.ns, rec.expire_at_ms - now});
      continue;
    }
    // Before resolving the key: making room may checkpoint or drop memtable entries.
    if (!RoomForTombstone()) {
      disk_sweep_.set_cursor(rec.hash);  // keys of this hash already looked at are dead now
      step.more = false;
      return step;
    }
    const std::uint64_t hash = rec.hash;
    const std::uint32_t ns = rec.ns;
    const std::string key(rec.key);
    const KeyState st = StateOf(hash, ns, key);
    if (st.exists && st.expired) {
      Reap(hash, ns, key, st);
      ++step.expired;
    }
  }
  if (!it.status().ok()) {
    // Counted like a failed read; the other segments carry on without this one until the pass
    // ends, and the next pass tries it again.
    ++stats_.io_errors;
    disk_sweep_.Skip(due[it.failed_source()]->seq());
    if (examined > 0) disk_sweep_.set_cursor(last);
    return step;
  }
  disk_sweep_.FinishPass();
  step.more = false;
  return step;
}

// Redis's activeExpireCycle: the mean TTL left of a step's samples of a database weighs 2%, the
// estimate so far 98% (the first sample mean is taken as it is). Integer arithmetic, as Redis's,
// so INFO shows the same kind of number.
void EngineImpl::NoteTtlSamples(const std::vector<Memtable::TtlSample>& live) {
  if (live.empty()) return;
  struct Sum {
    std::int64_t ttl = 0;
    std::int64_t samples = 0;
  };
  std::vector<Sum> sums(db_counts_.size());
  for (const Memtable::TtlSample& sample : live) {
    const DbIndex db = DbOf(sample.ns);
    if (db == kNoDb || db >= sums.size()) continue;
    sums[db].ttl += sample.ttl_ms;
    ++sums[db].samples;
  }
  for (std::size_t db = 0; db < sums.size(); ++db) {
    if (sums[db].samples == 0) continue;
    const std::int64_t avg = sums[db].ttl / sums[db].samples;
    std::int64_t& estimate = db_counts_[db].avg_ttl_ms;
    if (estimate == 0) estimate = avg;
    estimate = (estimate / 50) * 49 + (avg / 50);
  }
}

bool EngineImpl::RoomForTombstone() {
  // Reaping a key found only on disk adds a tombstone to the memtable. Like a DEL, it gets room
  // from the eviction policy; tombstones themselves leave memory through a checkpoint.
  if (options_.max_memory == 0 || CountedBytes() <= options_.max_memory) return true;
  EnforceMemoryLimit(nullptr);
  return CountedBytes() <= options_.max_memory;
}

}  // namespace dynakv::storage
