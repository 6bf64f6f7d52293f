// allkeys-tinylfu: W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
// Admission Policy"; the policy behind Caffeine) over the memtable's entries, as Caffeine has it:
//  - a new key enters the admission window, an LRU list of 1% of maxmemory;
//  - the main region is a segmented LRU: probation (keys admitted but not read since) and
//    protected (keys read again while in probation, up to 80% of the main region; its overflow
//    goes back to probation's most recent end);
//  - when the window overflows, its least recently used key (the candidate) moves to probation
//    while the main region has room; else it competes with the main region's victim (probation's
//    least recently used key, protected's when probation is empty) on the frequency sketch
//    (frequency_sketch.h: count-min, 4-bit counters, aging, doorkeeper) and the loser is deleted.
//    A tie keeps the incumbent, so a one-pass scan cannot flush a frequently read working set;
//    a candidate of frequency 6 or more also wins 1 time in 128, as in Caffeine, so that nobody
//    can pin a victim with forged frequencies (hash flooding).
// Every access counts in the sketch (reads, hits and misses, and writes); a hit also moves its
// key in the lists. All of it is O(1): no sampling, no allocation but the node array's growth.
//
// The lists live outside the entries (whose header stays 44 bytes): one 16-byte node per key in
// a growing array, its index kept in the entry's `lru` field (Memtable::Observer), the list it is
// in in the entry's `region` bits, so that the memtable counts each list's bytes exactly.
// Tombstones are in no list (they are not cache entries; checkpoints remove them).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "allocation_size.h"
#include "frequency_sketch.h"
#include "memtable.h"

namespace dynakv::storage {

class WTinyLfu : public Memtable::Observer {
 public:
  using Entry = Memtable::Entry;
  explicit WTinyLfu(Memtable* table) : table_(table) { Reset(); }

  // Starts keeping the table's order: its present entries (but tombstones) go to probation in
  // no particular order, and the table reports every change from then on. Detach forgets it all.
  void Attach();
  void Detach();
  bool attached() const { return attached_; }
  // The limit the regions are shares of.
  void SetMaxMemory(std::size_t bytes) { max_memory_ = bytes; }

  // An access of the key with this hash (a read, hit or miss, or a write).
  void Count(std::uint64_t hash) { sketch_.Increment(hash); }
  // The next entry to delete to make room; never one `spared` accepts; nullptr when there is none.
  Entry* Victim(const std::function<bool(const Entry&)>& spared);

  // Memtable::Observer.
  void Added(Entry* e) override;
  void Replaced(Entry* old, Entry* fresh) override;
  void Removed(Entry* e) override;
  void Touched(Entry* e) override;
  void Cleared() override { Reset(); }

  // The policy's own memory (sketch, doorkeeper, nodes), what its keys cost beyond the entries.
  std::size_t bytes() const { return sketch_.bytes() + node_bytes(); }
  std::size_t node_bytes() const { return AllocationSize(nodes_.capacity() * sizeof(Node)); }
  std::size_t keys() const { return listed_; }
  std::uint64_t admitted() const { return admitted_; }
  std::uint64_t rejected() const { return rejected_; }
  void ResetCounters() { admitted_ = rejected_ = 0; }
  const FrequencySketch& sketch() const { return sketch_; }
  FrequencySketch& sketch() { return sketch_; }
  // The least recently used entries of a region first (tests and introspection).
  std::vector<const Entry*> Order(Memtable::Region r) const;

 private:
  // A list node; nodes 0..2 are the heads of the window, probation and protected lists
  // (circular, doubly linked by index). Free nodes are chained by `next`.
  struct Node {
    Entry* entry;
    std::uint32_t prev;
    std::uint32_t next;
  };
  static constexpr std::uint32_t kNone = UINT32_MAX;
  static std::uint32_t HeadOf(Memtable::Region r) { return r - 1u; }

  void Reset();
  // The bytes the listed entries may take: max_memory less what else counts against it (the
  // bucket array, tombstones, retired entries, this policy's own bytes). The regions' shares
  // are of this, so that they are shares of what the cache really holds.
  std::size_t Capacity() const;
  std::size_t WindowTarget() const { return std::max<std::size_t>(Capacity() / 100, 1); }
  std::size_t MainTarget() const {
    const std::size_t capacity = Capacity();
    return capacity - std::min(capacity, std::max<std::size_t>(capacity / 100, 1));
  }
  std::size_t ProtectedTarget() const { return MainTarget() / 10 * 8; }
  std::size_t MainBytes() const {
    return table_->region_bytes(Memtable::kProbation) + table_->region_bytes(Memtable::kProtected);
  }
  std::uint32_t NewNode(Entry* e);
  void Link(std::uint32_t n, Memtable::Region r);  // at the region's most recent end
  void Unlink(std::uint32_t n);
  void FreeNode(std::uint32_t n);             // unlinks it too
  void MoveTo(Entry* e, Memtable::Region r);  // to r's most recent end
  // The least recently used entry of r that `spared` does not accept (looks at a few).
  Entry* Oldest(Memtable::Region r, const std::function<bool(const Entry&)>* spared) const;
  // While the window is over its share and the main region has room for its oldest key, moves
  // that key to probation.
  void DrainWindow();
  void DemoteProtected();
  bool Admit(const Entry& candidate, const Entry& victim);

  Memtable* table_;
  FrequencySketch sketch_;
  std::vector<Node> nodes_;
  std::uint32_t free_ = kNone;
  std::size_t listed_ = 0;
  std::size_t max_memory_ = 0;
  bool attached_ = false;
  // The window candidate that won against a victim and waits for the room it freed.
  const Entry* contender_ = nullptr;
  std::uint64_t admitted_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t rand_ = 0x9E3779B97F4A7C15ull;  // xorshift, for the 1-in-128 admission
};

}  // namespace dynakv::storage
