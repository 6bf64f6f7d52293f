// The in-memory table: a chained hash table whose bucket index is the TOP bits of the key hash,
// so walking buckets in order visits keys in hash order. That lets a SCAN cursor be a plain
// position in hash space that stays valid across rehashing, and lets the table be merged with
// the hash-sorted segments.
//
// Each entry is one heap allocation: a header followed by the key bytes and the stored (maybe
// compressed) value bytes, which never change once written, except in place through
// MutableStored (a string patch of an entry no checkpoint reads). The table only stores; what the
// flags mean for durability is the engine's business.
//
// A string entry whose value is at least kSharedValueMin long, stored or raw (Entry::shared), keeps
// its stored bytes in a SharedValue (storage/shared_value.h) the entry references, not inline:
// replies send such a value by reference, so removing or replacing the entry never frees or
// changes what a reply still sends. Its raw length is in the SharedValue, so a compressed shared
// value may be swapped for its decompressed form (ReplaceShared) without a new entry.
//
// An object entry (kObject) holds a typed value (storage/object.h) instead of bytes: its stored
// bytes are an ObjectSlot, the owning pointer to the live object, which counts for its
// MemoryUsage(). The object changes in place; ObjectChanged() recounts it. A checkpoint never reads
// a live object (the engine serializes it when freezing), so frozen object entries may change.
//
// Every entry belongs to a namespace (a numbered database's physical namespace, engine.h): the same
// key in two namespaces is two entries, told apart by Find. An entry of namespace 0 is exactly
// what it was before namespaces; another's allocation holds its namespace (4 bytes, flag
// kNamespaced) in front of the key. Callers hash a key with its namespace (HashKey(key, ns)), so
// the namespaces of one key do not share a bucket chain.
//
// Frozen entries are being read by a background checkpoint: their key and value bytes must stay
// where they are until the engine thaws them. So when a frozen entry is replaced or removed, the
// table only unlinks it and keeps its allocation "retired" (still counted in bytes()) until
// ReleaseRetired(). The background thread reads nothing but those immutable bytes; headers
// belong to the owner thread alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "allocation_size.h"
#include "storage/object.h"
#include "storage/shared_value.h"

namespace dynakv::storage {

class Memtable {
 public:
  enum Flag : std::uint8_t {
    kTombstone = 1,   // the key was deleted; shadows older segment versions until checkpointed
    kDirty = 2,       // newer than every segment: only the commit log has it
    kCompressed = 4,  // stored bytes are an LZ4 block of raw_len bytes
    kOnDisk = 8,      // some segment holds a live version, so a delete needs a tombstone
    kFrozen = 16,     // part of a checkpoint in progress (see above)
    kRetired = 32,    // a frozen entry no longer in the table, kept alive until ReleaseRetired
    kObject = 64,     // holds a ValueObject (an ObjectSlot), not string bytes
    kNamespaced = 128,  // of a namespace other than 0, held in front of the key (set by Allocate)
  };

  // The stored bytes of an object entry: the owning pointer to the live object. What the object
  // counts for is its MemoryUsage() (O(1), a running count), read whenever the entry is
  // accounted; after a change in place ObjectChanged() is told what it counted before.
  struct ObjectSlot {
    ValueObject* object;  // owned by the entry
  };

  struct Entry;
  struct EntryDeleter {
    void operator()(Entry* e) const;
  };
  using EntryPtr = std::unique_ptr<Entry, EntryDeleter>;

  // 44 bytes, packed to 4-byte alignment so that the key starts right after the last field
  // instead of after 4 bytes of padding: with a 12-byte key and an object's 8-byte slot an entry
  // is 64 bytes, a jemalloc class, where 48 + 12 + 16 took the 80-byte class. The 8-byte fields
  // come first and an allocation is 16-byte aligned, so none of them is ever misaligned.
#pragma pack(push, 4)
  struct Entry {
    EntryPtr next;  // bucket chain
    std::uint64_t hash = 0;
    std::int64_t expire_at_ms = 0;  // 0: none
    std::uint32_t lru = 0;          // value of the table's access clock at the last touch
    // Keys are at most 512 MiB (the engine's kMaxKeySize, Redis's limit), 30 bits.
    std::uint32_t key_len : 30 = 0;
    // The caller's note about a string value, given with the write that made it (Engine::Put's
    // and PatchString's `hint`; the server keeps what Redis's OBJECT ENCODING of it depends on
    // besides its bytes). The table gives it no meaning. It is not logged: an entry made by
    // replay or read back from a segment starts at 0.
    std::uint32_t hint : 2 = 0;
    std::uint32_t stored_len = 0;
    // Position in the table's dirty list while kDirty (2^29 dirty entries would take 22 GB of
    // headers alone).
    std::uint32_t dirty_slot : 29 = 0;
    // allkeys-tinylfu: which of its lists holds the entry (Region; Memtable::SetRegion). Bits of
    // dirty_slot's word because the flags byte is full.
    std::uint32_t region : 2 = 0;
    // The stored bytes are in a SharedValue (see above); fixed when the entry is made.
    std::uint32_t shared : 1 = 0;
    std::uint8_t flags = 0;
    // The table's access clock (seconds, 24 bits, wrapping like Redis's LRU clock) at the last
    // touch: OBJECT IDLETIME. Three bytes of the word the flags byte starts.
    std::uint8_t accessed[3] = {};

    std::uint32_t accessed_at() const {
      return accessed[0] | (std::uint32_t{accessed[1]} << 8) | (std::uint32_t{accessed[2]} << 16);
    }
    void set_accessed_at(std::uint32_t clock) {
      accessed[0] = clock & 0xff;
      accessed[1] = (clock >> 8) & 0xff;
      accessed[2] = (clock >> 16) & 0xff;
    }

    // The namespace: 0, or (kNamespaced) the 4 bytes in front of the key.
    std::uint32_t ns() const {
      if (!has(kNamespaced)) return 0;
      std::uint32_t ns;
      std::memcpy(&ns, bytes(), sizeof(ns));
      return ns;
    }
    std::size_t key_offset() const { return has(kNamespaced) ? sizeof(std::uint32_t) : 0; }
    std::string_view key() const { return {bytes() + key_offset(), key_len}; }
    std::string_view stored() const {
      if (shared) return shared_value()->view();
      return {bytes() + stored_offset(), stored_len};
    }
    // The value's real length: a compressed value's is held in the 4 bytes in front of its
    // stored bytes (only a compressed value needs them) or in its SharedValue; a plain value's
    // is its stored length; an object entry's 0.
    std::uint32_t raw_len() const {
      if (has(kObject)) return 0;
      if (!has(kCompressed)) return stored_len;
      if (shared) return shared_value()->raw_len;
      std::uint32_t raw;
      std::memcpy(&raw, bytes() + stored_offset() - sizeof(raw), sizeof(raw));
      return raw;
    }
    bool has(Flag f) const { return (flags & f) != 0; }
    // What the entry costs in memory: its allocation's size class (allocation_size.h), plus a
    // shared value's block or an object's own memory.
    std::size_t alloc_size() const {
      if (shared) {
        return AllocationSize(sizeof(Entry) + stored_offset() + kSharedSlotBytes) +
               SharedBytes(stored_len);
      }
      return AllocationSize(sizeof(Entry) + stored_offset() + stored_len) +
             (has(kObject) ? slot().object->MemoryUsage() : 0);
    }
    // A shared entry's reference to its bytes (nullptr-free while the entry lives).
    const std::shared_ptr<SharedValue>& shared_value() const {
      return *std::launder(reinterpret_cast<const std::shared_ptr<SharedValue>*>(shared_slot()));
    }
    ObjectSlot slot() const {
      ObjectSlot s;
      std::memcpy(&s, bytes() + stored_offset(), sizeof(s));
      return s;
    }
    ValueObject* object() const { return has(kObject) ? slot().object : nullptr; }

   private:
    friend class Memtable;
    std::size_t stored_offset() const {
      return key_offset() + key_len + (has(kCompressed) && !shared ? sizeof(std::uint32_t) : 0);
    }
    // The shared_ptr sits at the first 8-byte boundary from stored_offset() (the header is 44
    // bytes and keys have any length); kSharedSlotBytes leaves room for the padding.
    const char* shared_slot() const {
      const char* at = bytes() + stored_offset();
      return at + ((8 - reinterpret_cast<std::uintptr_t>(at) % 8) % 8);
    }
    char* shared_slot() { return const_cast<char*>(std::as_const(*this).shared_slot()); }
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
  };
#pragma pack(pop)

  // allkeys-tinylfu's lists (tiny_lfu.h). Every other policy leaves entries kUnlisted.
  enum Region : std::uint8_t { kUnlisted = 0, kWindow = 1, kProbation = 2, kProtected = 3 };

  // Told of every entry that enters or leaves the table, so that a policy can keep its own order
  // of the entries (allkeys-tinylfu's lists). While one is set, each entry's `lru` field is the
  // observer's (Touch no longer writes it, Age means nothing) and an entry replaced by a new one
  // of the same key hands its `lru` and region to the new one before Replaced is called.
  class Observer {
   public:
    virtual ~Observer() = default;
    virtual void Added(Entry* e) = 0;                     // a key new to the table
    virtual void Replaced(Entry* old, Entry* fresh) = 0;  // old is unlinked, not yet freed
    virtual void Removed(Entry* e) = 0;                   // unlinked, not yet freed
    virtual void Touched(Entry* e) = 0;                   // Touch: an access
    virtual void Cleared() = 0;                           // every entry went at once
  };

  // What a shared entry holds in place of its bytes: the reference, and room to align it.
  static constexpr std::size_t kSharedSlotBytes = sizeof(std::shared_ptr<SharedValue>) + 7;

  // The largest namespace an entry may hold (one below UINT32_MAX, so that "the next one" fits).
  static constexpr std::uint32_t kMaxNamespace = UINT32_MAX - 1;

  // What the entry Upsert would make for these bytes costs (its alloc_size()), to tell whether
  // it fits before making it. An object entry's is EntrySize(ns, key_len, sizeof(ObjectSlot), 0,
  // false) plus the object's MemoryUsage().
  static std::size_t EntrySize(std::uint32_t ns, std::size_t key_len, std::size_t stored_len,
                               std::uint32_t raw_len, bool compressed);
  // What a SharedValue of `stored_len` bytes costs: its allocation's size class.
  static std::size_t SharedBytes(std::size_t stored_len);

  Memtable();
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  Entry* Find(std::uint64_t hash, std::string_view key, std::uint32_t ns = 0) const;
  // Cache hints for a Find of `hash` soon (bulk loads): the bucket slot, then, once that slot is
  // cached, the chain's first entry. Only read the table; any hash is fine.
  void PrefetchBucket(std::uint64_t hash) const { __builtin_prefetch(&buckets_[BucketOf(hash)]); }
  void PrefetchChain(std::uint64_t hash) const {
    if (const Entry* e = buckets_[BucketOf(hash)].get()) __builtin_prefetch(e);
  }
  // Grows the bucket array (never shrinks it) to hold `entries` entries without another
  // doubling: a bulk load that knows its size rehashes once, on an empty table.
  void Reserve(std::size_t entries);
  // Inserts, or replaces the entry with the same key (and namespace), and touches it. Returns the
  // new entry; pointers to other entries stay valid (rehashing moves only bucket links).
  Entry* Upsert(std::uint64_t hash, std::string_view key, std::string_view stored,
                std::uint32_t raw_len, std::uint8_t flags, std::int64_t expire_at_ms,
                std::uint32_t ns = 0);
  // The same for a typed value, which the entry then owns.
  Entry* UpsertObject(std::uint64_t hash, std::string_view key, std::unique_ptr<ValueObject> object,
                      std::uint8_t flags, std::int64_t expire_at_ms, std::uint32_t ns = 0);
  // The stored bytes of a string entry, for a change in place that keeps their length (a string
  // patch). Never of a frozen entry (a checkpoint reads its bytes), a compressed one, or a shared
  // one that anything besides the entry holds (a reply is sending it): MayChangeInPlace.
  char* MutableStored(Entry* e) {
    return e->shared ? e->shared_value()->data() : e->bytes() + e->stored_offset();
  }
  static bool MayChangeInPlace(const Entry& e) {
    return !e.has(kCompressed) && !e.has(kFrozen) && !e.has(kObject) &&
           (!e.shared || e.shared_value().use_count() == 1);
  }
  // Gives a shared entry (not frozen: a checkpoint may be reading its bytes) other stored bytes
  // for the same value: its decompressed form (`compressed` false) or the reverse. What the
  // entry counts for changes with them.
  void ReplaceShared(Entry* e, std::shared_ptr<SharedValue> value, bool compressed);
  // After an object entry's object changed in place: its memory is counted anew. `counted` is
  // the object's MemoryUsage() before the change (what the table had counted for it).
  void ObjectChanged(Entry* e, std::size_t counted);
  void Erase(Entry* e);
  void Clear();
  // Erases every entry of namespace `ns` (FLUSHDB): O(table).
  void EraseNamespace(std::uint32_t ns);

  // Under an LFU policy the 24 access bits hold Redis's LFU counter instead (lfu.h): a touch
  // decays and increments it, and a new entry starts at LFU_INIT_VAL.
  void Touch(Entry* e) {
    if (observer_ != nullptr) {
      observer_->Touched(e);
    } else {
      e->lru = ++clock_;
    }
    if (lfu_) {
      TouchLfu(e);
    } else {
      e->set_accessed_at(access_clock_);
    }
  }
  void SetLfu(bool on, int log_factor, int decay_time) {
    lfu_ = on;
    lfu_log_factor_ = log_factor;
    lfu_decay_time_ = decay_time;
  }
  bool lfu() const { return lfu_; }
  void SetLfuClock(std::uint32_t minutes) { lfu_minutes_ = minutes & 0xffff; }
  // The LFU counter of an entry as of now, decayed but not stored (LFUDecrAndReturn).
  std::uint8_t LfuCount(const Entry& e) const;
  // The entry's age on the touch sequence: larger is less recently used.
  std::uint32_t Age(const Entry& e) const { return clock_ - e.lru; }
  // The seconds clock touches record (the engine advances it on every tick; 24 bits kept).
  static constexpr std::uint32_t kAccessClockMax = (1u << 24) - 1;
  void SetAccessClock(std::uint32_t seconds) { access_clock_ = seconds & kAccessClockMax; }
  std::uint32_t access_clock() const { return access_clock_; }
  void SetExpire(Entry* e, std::int64_t expire_at_ms);
  // Not kCompressed, kObject or kNamespaced: they decide the allocation's layout, so they are
  // fixed when the entry is made (these ignore them).
  void SetFlag(Entry* e, Flag f, bool on) { SetFlags(e, on ? f : 0, on ? 0 : f); }
  void SetFlags(Entry* e, std::uint8_t set, std::uint8_t clear);
  // Sets (nullptr: removes) the observer. Removing it gives every entry back an `lru` of now and
  // the region kUnlisted.
  void SetObserver(Observer* observer);
  // Moves an entry to another of the observer's regions, whose bytes the table counts.
  void SetRegion(Entry* e, Region r) {
    const std::size_t size = e->alloc_size();
    region_bytes_[e->region] -= size;
    region_bytes_[r] += size;
    e->region = r;
  }
  std::size_t region_bytes(Region r) const { return region_bytes_[r]; }
  // Every entry (unordered), for an observer adopting the table's entries.
  void ForEach(const std::function<void(Entry&)>& fn);

  // Approximated LRU, as in Redis: looks at about `samples` entries accepted by `eligible`,
  // found at random buckets, and returns the least recently touched one (nullptr: none exists).
  Entry* SampleLru(std::mt19937_64& rng, const std::function<bool(const Entry&)>& eligible,
                   std::size_t samples = 16) const;
  // Passes about `samples` entries accepted by `eligible`, found as SampleLru finds them, to fn.
  void Sample(std::mt19937_64& rng, const std::function<bool(const Entry&)>& eligible,
              std::size_t samples, const std::function<void(Entry&)>& fn) const;
  // Any entry accepted by `eligible`, chosen at random (nullptr: none exists).
  Entry* SampleRandom(std::mt19937_64& rng,
                      const std::function<bool(const Entry&)>& eligible) const;

  // Visits whole buckets from the one holding hash `from` (entries below `from` skipped) until at
  // least `count` entries were passed to fn or `max_buckets` buckets were visited. Returns the
  // last hash covered by the visited buckets, UINT64_MAX when the table's end was reached.
  // Only entries of namespace `ns` are passed (and counted).
  std::uint64_t ScanBuckets(std::uint64_t from, std::size_t count, std::size_t max_buckets,
                            const std::function<void(const Entry&)>& fn,
                            std::uint32_t ns = 0) const;

  // A not yet expired entry the sweep looked at: its namespace and the milliseconds it has left
  // (the samples of Redis's avg_ttl estimate).
  struct TtlSample {
    std::uint32_t ns;
    std::int64_t ttl_ms;
  };
  // One step of the incremental expiry sweep: continues from where the last step stopped and
  // examines up to `max_entries` entries. Keys of entries expired at `now_ms` are appended to
  // *expired (and their namespaces to *expired_ns, when given), the other entries with an expiry
  // to *live (when given); returns how many examined entries had an expiry.
  std::size_t SweepExpired(std::int64_t now_ms, std::size_t max_entries,
                           std::vector<std::string>* expired,
                           std::vector<std::uint32_t>* expired_ns = nullptr,
                           std::vector<TtlSample>* live = nullptr);

  // Turns every dirty entry into a frozen, no longer dirty one and returns them (in no particular
  // order). Costs O(dirty entries), not O(table).
  std::vector<Entry*> FreezeDirty();
  // Only some of them, about `max_bytes` (all when that is as many): the most recently dirtied.
  std::vector<Entry*> FreezeDirty(std::size_t max_bytes);
  // Frees the retired entries; the caller's checkpoint no longer reads them.
  void ReleaseRetired();

  std::size_t size() const { return entries_; }
  // Entries taken out of the table (Erase, Clear) since it was made: replacing an entry is not
  // one, its key stays. A bulk load's segment lookups rely on none happening (engine_segments.cc).
  std::uint64_t removals() const { return removals_; }
  // The entries' memory as the allocator hands it out (retired ones count until released: they
  // still occupy memory) and the bucket array's.
  std::size_t bytes() const {
    return entry_bytes_ + retired_bytes_ + buckets_.size() * sizeof(EntryPtr);
  }
  // The arrays of the dirty and retired lists (a pointer a dirty or retired entry): memory the
  // table holds besides bytes(), which the limit counts with it.
  std::size_t list_bytes() const { return ArrayBytes(dirty_) + ArrayBytes(retired_); }
  std::size_t dirty_count() const { return dirty_.size(); }
  std::size_t dirty_bytes() const { return dirty_bytes_; }
  std::size_t frozen_count() const { return frozen_; }
  std::size_t tombstone_count() const { return tombstones_; }
  std::size_t expiring_count() const { return expiring_; }
  std::size_t compressed_count() const { return compressed_; }
  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  static constexpr unsigned kMinBits = 4;

  template <typename T>
  static std::size_t ArrayBytes(const std::vector<T>& v) {
    return v.capacity() == 0 ? 0 : AllocationSize(v.capacity() * sizeof(T));
  }

  std::size_t BucketOf(std::uint64_t hash) const {
    return static_cast<std::size_t>(hash >> shift_);
  }
  std::uint64_t BucketFirstHash(std::size_t b) const {
    return static_cast<std::uint64_t>(b) << shift_;
  }
  std::uint64_t BucketLastHash(std::size_t b) const {
    return BucketFirstHash(b) | (~std::uint64_t{0} >> bits_);
  }
  EntryPtr Allocate(std::uint64_t hash, std::string_view key, std::string_view stored,
                    std::uint32_t raw_len, std::uint8_t flags, std::int64_t expire_at_ms,
                    std::uint32_t ns);
  // Links a new entry in, replacing the entry with the same key.
  Entry* Insert(EntryPtr fresh);
  void Resize(unsigned bits);
  void Account(Entry& e, int sign) { Account(e, sign, e.alloc_size()); }
  // The same with the entry's size given (an object's before it changed).
  void Account(Entry& e, int sign, std::size_t size);
  // Unlinks `e` from its chain and returns ownership of it.
  EntryPtr Unlink(Entry* e);
  // Frees an unlinked (and unaccounted) entry, or retires it when it is frozen.
  void Dispose(EntryPtr e);

  std::vector<EntryPtr> buckets_;
  unsigned bits_ = kMinBits;
  unsigned shift_ = 64 - kMinBits;
  std::uint32_t clock_ = 0;
  std::uint32_t access_clock_ = 0;
  bool lfu_ = false;
  int lfu_log_factor_ = 10;
  int lfu_decay_time_ = 1;
  std::uint32_t lfu_minutes_ = 0;
  std::uint64_t lfu_rand_ = 0x9e3779b97f4a7c15ull;  // xorshift state for LFULogIncr
  void TouchLfu(Entry* e);
  std::uint64_t sweep_pos_ = 0;  // a hash position, so rehashing does not disturb the sweep
  std::size_t entries_ = 0;
  std::uint64_t removals_ = 0;
  std::size_t entry_bytes_ = 0;
  // The dirty entries, each knowing its slot: a checkpoint collects them without a table walk.
  std::vector<Entry*> dirty_;
  std::size_t dirty_bytes_ = 0;
  std::size_t frozen_ = 0;
  std::vector<EntryPtr> retired_;
  std::size_t retired_bytes_ = 0;
  std::size_t tombstones_ = 0;
  std::size_t expiring_ = 0;
  std::size_t compressed_ = 0;
  std::size_t region_bytes_[4] = {};  // by Entry::region
  Observer* observer_ = nullptr;
};

}  // namespace dynakv::storage
