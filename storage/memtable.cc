#include "memtable.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "lfu.h"

namespace dynakv::storage {

// The per-key cost every key pays (memtable.h): the key bytes follow at offset 44.
static_assert(sizeof(void*) != 8 || sizeof(Memtable::Entry) == 44);

void Memtable::EntryDeleter::operator()(Entry* e) const {
  if (e->has(kObject)) std::unique_ptr<ValueObject> owned(e->slot().object);
  if (e->shared) {
    std::destroy_at(std::launder(reinterpret_cast<std::shared_ptr<SharedValue>*>(e->shared_slot())));
  }
  std::destroy_at(e);
  std::free(e);
}

namespace {

// The header and the key/value bytes share one allocation; this is the only place that makes one.
Memtable::EntryPtr AllocateEntry(std::size_t bytes) {
  void* mem = std::malloc(sizeof(Memtable::Entry) + bytes);
  if (mem == nullptr) throw std::bad_alloc();
  return Memtable::EntryPtr(std::construct_at(static_cast<Memtable::Entry*>(mem)));
}

// Large string values go to a SharedValue (memtable.h); objects never do. A compressed value
// counts by its raw size: that is what a reply sends, and what the hot-value rule may keep.
bool SharedLayout(std::uint8_t flags, std::size_t stored_len, std::uint32_t raw_len) {
  return (flags & Memtable::kObject) == 0 &&
         (stored_len >= kSharedValueMin ||
          ((flags & Memtable::kCompressed) != 0 && raw_len >= kSharedValueMin));
}

}  // namespace

// A SharedValue is one allocation (SharedValue::Make): its 16-byte header and the bytes rounded up
// to words, then std::make_shared_for_overwrite<T[]>'s control block, which libstdc++ 12 puts
// after the array: the vtable pointer, the use and weak counts, the allocator, the array length
// and the allocation's address, 40 bytes (measured against jemalloc: tests/unit/storage_jemalloc).
std::size_t Memtable::SharedBytes(std::size_t stored_len) {
  constexpr std::size_t kControlBytes = 40;
  const std::size_t words = (sizeof(SharedValue) + stored_len + 7) / 8;
  return AllocationSize(words * sizeof(std::uint64_t) + kControlBytes);
}

std::size_t Memtable::EntrySize(std::uint32_t ns, std::size_t key_len, std::size_t stored_len,
                                std::uint32_t raw_len, bool compressed) {
  const std::size_t head = sizeof(Entry) + (ns != 0 ? sizeof(ns) : 0) + key_len;
  if (SharedLayout(compressed ? kCompressed : 0, stored_len, raw_len)) {
    return AllocationSize(head + kSharedSlotBytes) + SharedBytes(stored_len);
  }
  return AllocationSize(head + (compressed ? sizeof(raw_len) : 0) + stored_len);
}

Memtable::Memtable() : buckets_(std::size_t{1} << kMinBits) {}

void Memtable::Account(Entry& e, int sign, std::size_t size) {
  auto add = [sign](std::size_t* counter, std::size_t n) {
    *counter = sign > 0 ? *counter + n : *counter - n;
  };
  add(&entries_, 1);
  add(&entry_bytes_, size);
  if (e.has(kDirty)) {
    add(&dirty_bytes_, size);
    if (sign > 0) {
      e.dirty_slot = static_cast<std::uint32_t>(dirty_.size());
      dirty_.push_back(&e);
    } else {
      Entry* last = dirty_.back();
      dirty_[e.dirty_slot] = last;
      last->dirty_slot = e.dirty_slot;
      dirty_.pop_back();
    }
  }
  if (e.has(kFrozen)) add(&frozen_, 1);
  if (e.has(kTombstone)) add(&tombstones_, 1);
  if (e.has(kCompressed)) add(&compressed_, 1);
  if (e.expire_at_ms != 0) add(&expiring_, 1);
  add(&region_bytes_[e.region], size);
}

Memtable::Entry* Memtable::Find(std::uint64_t hash, std::string_view key, std::uint32_t ns) const {
  for (Entry* e = buckets_[BucketOf(hash)].get(); e != nullptr; e = e->next.get()) {
    if (e->hash == hash && e->key() == key && e->ns() == ns) return e;
  }
  return nullptr;
}

Memtable::EntryPtr Memtable::Allocate(std::uint64_t hash, std::string_view key,
                                      std::string_view stored, std::uint32_t raw_len,
                                      std::uint8_t flags, std::int64_t expire_at_ms,
                                      std::uint32_t ns) {
  const std::size_t prefix = ns != 0 ? sizeof(ns) : 0;
  // Entry::key_len's 30 bits: the engine refuses longer keys before anything gets here.
  if (key.size() >= (std::size_t{1} << 30)) throw std::length_error("key too large");
  const bool shared = SharedLayout(flags, stored.size(), raw_len);
  // Only an inline compressed value keeps its raw length in the entry (Entry::raw_len).
  const std::size_t raw_bytes = (flags & kCompressed) != 0 && !shared ? sizeof(raw_len) : 0;
  EntryPtr fresh =
      AllocateEntry(prefix + key.size() + raw_bytes + (shared ? kSharedSlotBytes : stored.size()));
  fresh->hash = hash;
  fresh->expire_at_ms = expire_at_ms;
  fresh->key_len = static_cast<std::uint32_t>(key.size());
  fresh->stored_len = static_cast<std::uint32_t>(stored.size());
  fresh->flags = static_cast<std::uint8_t>((flags & ~kNamespaced) | (ns != 0 ? kNamespaced : 0));
  fresh->lru = ++clock_;
  fresh->set_accessed_at(lfu_ ? lfu::Pack(lfu_minutes_, lfu::kInitVal) : access_clock_);
  char* at = fresh->bytes();
  if (ns != 0) std::memcpy(at, &ns, sizeof(ns));
  at += prefix;
  if (!key.empty()) std::memcpy(at, key.data(), key.size());
  at += key.size();
  if (raw_bytes != 0) std::memcpy(at, &raw_len, sizeof(raw_len));
  at += raw_bytes;
  if (shared) {
    std::shared_ptr<SharedValue> value = SharedValue::Make(stored.size());
    std::memcpy(value->data(), stored.data(), stored.size());
    if ((flags & kCompressed) != 0) value->raw_len = raw_len;
    fresh->shared = 1;  // before shared_slot(), which depends on it
    std::construct_at(reinterpret_cast<std::shared_ptr<SharedValue>*>(fresh->shared_slot()),
                      std::move(value));
  } else if (!stored.empty()) {
    std::memcpy(at, stored.data(), stored.size());
  }
  return fresh;
}

Memtable::Entry* Memtable::Upsert(std::uint64_t hash, std::string_view key, std::string_view stored,
                                  std::uint32_t raw_len, std::uint8_t flags,
                                  std::int64_t expire_at_ms, std::uint32_t ns) {
  return Insert(Allocate(hash, key, stored, raw_len, static_cast<std::uint8_t>(flags & ~kObject),
                         expire_at_ms, ns));
}

Memtable::Entry* Memtable::UpsertObject(std::uint64_t hash, std::string_view key,
                                        std::unique_ptr<ValueObject> object, std::uint8_t flags,
                                        std::int64_t expire_at_ms, std::uint32_t ns) {
  const ObjectSlot slot{object.get()};
  const std::string_view stored(reinterpret_cast<const char*>(&slot), sizeof(slot));
  // Until it is allocated the entry does not own the object: a failed allocation still frees it.
  EntryPtr fresh =
      Allocate(hash, key, stored, 0, static_cast<std::uint8_t>((flags | kObject) & ~kCompressed),
               expire_at_ms, ns);
  object.release();  // now the entry's
  return Insert(std::move(fresh));
}

void Memtable::ReplaceShared(Entry* e, std::shared_ptr<SharedValue> value, bool compressed) {
  Account(*e, -1);
  auto* slot = std::launder(reinterpret_cast<std::shared_ptr<SharedValue>*>(e->shared_slot()));
  *slot = std::move(value);
  e->stored_len = static_cast<std::uint32_t>((*slot)->size());
  e->flags = static_cast<std::uint8_t>(compressed ? e->flags | kCompressed : e->flags & ~kCompressed);
  Account(*e, +1);
}

void Memtable::ObjectChanged(Entry* e, std::size_t counted) {
  const std::size_t now = e->object()->MemoryUsage();
  Account(*e, -1, e->alloc_size() - now + counted);
  Account(*e, +1);
}

Memtable::Entry* Memtable::Insert(EntryPtr fresh) {
  const std::uint64_t hash = fresh->hash;
  const std::string_view key = fresh->key();
  const std::uint32_t ns = fresh->ns();
  Entry* result = fresh.get();

  EntryPtr* link = &buckets_[BucketOf(hash)];
  while (*link && !((*link)->hash == hash && (*link)->key() == key && (*link)->ns() == ns)) {
    link = &(*link)->next;
  }
  // An overwritten key stays where the observer put it.
  if (*link && observer_ != nullptr) {
    result->lru = (*link)->lru;
    result->region = (*link)->region;
  }
  Account(*result, +1);
  if (*link) {
    EntryPtr old = std::move(*link);
    Account(*old, -1);
    // Redis's dbSetValue: an overwritten key keeps its access frequency.
    if (lfu_) std::memcpy(result->accessed, old->accessed, sizeof(old->accessed));
    fresh->next = std::move(old->next);
    *link = std::move(fresh);
    if (observer_ != nullptr) observer_->Replaced(old.get(), result);
    Dispose(std::move(old));
    return result;
  }
  fresh->next = std::move(buckets_[BucketOf(hash)]);
  buckets_[BucketOf(hash)] = std::move(fresh);
  if (entries_ > buckets_.size()) Resize(bits_ + 1);
  if (observer_ != nullptr) observer_->Added(result);
  return result;
}

Memtable::EntryPtr Memtable::Unlink(Entry* e) {
  EntryPtr* link = &buckets_[BucketOf(e->hash)];
  while (link->get() != e) link = &(*link)->next;
  EntryPtr owned = std::move(*link);
  *link = std::move(owned->next);
  return owned;
}

void Memtable::Dispose(EntryPtr e) {
  if (!e->has(kFrozen)) return;  // freed here
  e->flags |= kRetired;
  retired_bytes_ += e->alloc_size();
  retired_.push_back(std::move(e));
}

void Memtable::ReleaseRetired() {
  retired_.clear();
  retired_bytes_ = 0;
}

void Memtable::Erase(Entry* e) {
  ++removals_;
  EntryPtr owned = Unlink(e);
  Account(*owned, -1);
  if (observer_ != nullptr) observer_->Removed(owned.get());
  Dispose(std::move(owned));
  // Shrinking keeps random sampling and sweeps from wandering through empty buckets.
  if (bits_ > kMinBits && entries_ < buckets_.size() / 8) Resize(bits_ - 1);
}

void Memtable::Clear() {
  ++removals_;
  if (frozen_ > 0) {
    for (EntryPtr& bucket : buckets_) {
      while (bucket) {
        EntryPtr e = std::move(bucket);
        bucket = std::move(e->next);
        Dispose(std::move(e));
      }
    }
  }
  buckets_.clear();
  buckets_.resize(std::size_t{1} << kMinBits);
  bits_ = kMinBits;
  shift_ = 64 - kMinBits;
  sweep_pos_ = 0;
  dirty_.clear();
  entries_ = entry_bytes_ = dirty_bytes_ = frozen_ = tombstones_ = expiring_ = compressed_ = 0;
  for (std::size_t& bytes : region_bytes_) bytes = 0;
  if (observer_ != nullptr) observer_->Cleared();
}

void Memtable::SetObserver(Observer* observer) {
  if (observer == nullptr && observer_ != nullptr) {
    ForEach([&](Entry& e) {
      e.lru = clock_;
      e.region = kUnlisted;
    });
    for (std::size_t& bytes : region_bytes_) bytes = 0;
    region_bytes_[kUnlisted] = entry_bytes_;
  }
  observer_ = observer;
}

void Memtable::ForEach(const std::function<void(Entry&)>& fn) {
  for (EntryPtr& bucket : buckets_) {
    for (Entry* e = bucket.get(); e != nullptr; e = e->next.get()) fn(*e);
  }
}

void Memtable::EraseNamespace(std::uint32_t ns) {
  std::vector<Entry*> doomed;
  for (const EntryPtr& bucket : buckets_) {
    for (Entry* e = bucket.get(); e != nullptr; e = e->next.get()) {
      if (e->ns() == ns) doomed.push_back(e);
    }
  }
  for (Entry* e : doomed) Erase(e);
}

void Memtable::SetExpire(Entry* e, std::int64_t expire_at_ms) {
  Account(*e, -1);
  e->expire_at_ms = expire_at_ms;
  Account(*e, +1);
}

void Memtable::SetFlags(Entry* e, std::uint8_t set, std::uint8_t clear) {
  constexpr std::uint8_t kLayout = kCompressed | kObject | kNamespaced;
  set &= static_cast<std::uint8_t>(~kLayout);
  clear &= static_cast<std::uint8_t>(~kLayout);
  // The flags change no byte of the entry: its size (an object's MemoryUsage walk) is taken once.
  const std::size_t size = e->alloc_size();
  Account(*e, -1, size);
  e->flags = static_cast<std::uint8_t>((e->flags | set) & ~clear);
  Account(*e, +1, size);
}

void Memtable::Reserve(std::size_t entries) {
  unsigned bits = bits_;
  // Upsert doubles once entries pass the bucket count: a load factor of at most 1.
  while (bits < 40 && (std::size_t{1} << bits) < entries) ++bits;
  if (bits > bits_) Resize(bits);
}

void Memtable::Resize(unsigned bits) {
  std::vector<EntryPtr> fresh(std::size_t{1} << bits);
  const unsigned shift = 64 - bits;
  for (EntryPtr& bucket : buckets_) {
    while (bucket) {
      EntryPtr e = std::move(bucket);
      bucket = std::move(e->next);
      EntryPtr& dst = fresh[static_cast<std::size_t>(e->hash >> shift)];
      e->next = std::move(dst);
      dst = std::move(e);
    }
  }
  buckets_ = std::move(fresh);
  bits_ = bits;
  shift_ = shift;
}

void Memtable::TouchLfu(Entry* e) {
  lfu_rand_ ^= lfu_rand_ << 13;
  lfu_rand_ ^= lfu_rand_ >> 7;
  lfu_rand_ ^= lfu_rand_ << 17;
  const double r = static_cast<double>(lfu_rand_ >> 11) * 0x1.0p-53;
  const std::uint8_t counter = lfu::LogIncr(LfuCount(*e), lfu_log_factor_, r);
  e->set_accessed_at(lfu::Pack(lfu_minutes_, counter));
}

std::uint8_t Memtable::LfuCount(const Entry& e) const {
  return lfu::Decayed(e.accessed_at(), lfu_minutes_, lfu_decay_time_);
}

void Memtable::Sample(std::mt19937_64& rng, const std::function<bool(const Entry&)>& eligible,
                      std::size_t samples, const std::function<void(Entry&)>& fn) const {
  if (entries_ == 0) return;
  const std::size_t n = buckets_.size();
  std::size_t examined = 0;
  // Looks at the first bucket from b on (at most max_walk buckets) holding eligible entries.
  auto probe = [&](std::size_t b, std::size_t max_walk) {
    for (std::size_t walked = 0; walked < max_walk; ++walked, b = (b + 1) & (n - 1)) {
      bool hit = false;
      for (Entry* e = buckets_[b].get(); e != nullptr; e = e->next.get()) {
        if (!eligible(*e)) continue;
        hit = true;
        ++examined;
        fn(*e);
      }
      if (hit) return;
    }
  };
  // Many short probes at random places rather than one long walk: an eviction clears the old
  // entries around where it sampled, so neighbouring buckets are not independent samples.
  constexpr std::size_t kProbeWalk = 64;
  for (std::size_t i = 0; i < samples && examined < samples; ++i) {
    probe(static_cast<std::size_t>(rng() & (n - 1)), std::min(n, kProbeWalk));
  }
  // Eligible entries are rare: settle for any, wherever it is.
  if (examined == 0) probe(static_cast<std::size_t>(rng() & (n - 1)), n);
}

Memtable::Entry* Memtable::SampleLru(std::mt19937_64& rng,
                                     const std::function<bool(const Entry&)>& eligible,
                                     std::size_t samples) const {
  Entry* best = nullptr;
  Sample(rng, eligible, samples, [&](Entry& e) {
    // Unsigned subtraction keeps ages right across clock wrap-around.
    if (best == nullptr || Age(e) > Age(*best)) best = &e;
  });
  return best;
}

Memtable::Entry* Memtable::SampleRandom(std::mt19937_64& rng,
                                        const std::function<bool(const Entry&)>& eligible) const {
  Entry* chosen = nullptr;
  std::size_t seen = 0;
  // Reservoir over one probe's entries: any of them equally likely.
  Sample(rng, eligible, 1, [&](Entry& e) {
    if (rng() % ++seen == 0) chosen = &e;
  });
  return chosen;
}

std::uint64_t Memtable::ScanBuckets(std::uint64_t from, std::size_t count, std::size_t max_buckets,
                                    const std::function<void(const Entry&)>& fn,
                                    std::uint32_t ns) const {
  std::size_t passed = 0;
  std::size_t visited = 0;
  for (std::size_t b = BucketOf(from);; ++b) {
    for (const Entry* e = buckets_[b].get(); e != nullptr; e = e->next.get()) {
      if (e->hash < from || e->ns() != ns) continue;
      fn(*e);
      ++passed;
    }
    ++visited;
    if (b + 1 == buckets_.size()) return UINT64_MAX;
    if (passed >= count || visited >= max_buckets) return BucketLastHash(b);
  }
}

std::size_t Memtable::SweepExpired(std::int64_t now_ms, std::size_t max_entries,
                                   std::vector<std::string>* expired,
                                   std::vector<std::uint32_t>* expired_ns,
                                   std::vector<TtlSample>* live) {
  const std::size_t n = buckets_.size();
  std::size_t b = BucketOf(sweep_pos_);
  std::size_t examined = 0;
  std::size_t with_ttl = 0;
  for (std::size_t visited = 0; visited < n && examined < max_entries; ++visited) {
    for (const Entry* e = buckets_[b].get(); e != nullptr; e = e->next.get()) {
      ++examined;
      if (e->expire_at_ms == 0) continue;
      ++with_ttl;
      if (e->expire_at_ms <= now_ms) {
        expired->emplace_back(e->key());
        if (expired_ns != nullptr) expired_ns->push_back(e->ns());
      } else if (live != nullptr) {
        live->push_back({e->ns(), e->expire_at_ms - now_ms});
      }
    }
    b = (b + 1) & (n - 1);
  }
  sweep_pos_ = BucketFirstHash(b);
  return with_ttl;
}

std::vector<Memtable::Entry*> Memtable::FreezeDirty() {
  std::vector<Entry*> out;
  out.swap(dirty_);
  for (Entry* e : out) e->flags = static_cast<std::uint8_t>((e->flags & ~kDirty) | kFrozen);
  frozen_ += out.size();
  dirty_bytes_ = 0;
  return out;
}

std::vector<Memtable::Entry*> Memtable::FreezeDirty(std::size_t max_bytes) {
  if (max_bytes >= dirty_bytes_) return FreezeDirty();
  std::vector<Entry*> out;
  std::size_t bytes = 0;
  while (!dirty_.empty() && bytes < max_bytes) {
    Entry* e = dirty_.back();  // the others keep their slots
    dirty_.pop_back();
    const std::size_t size = e->alloc_size();  // what Account counted
    bytes += size;
    dirty_bytes_ -= size;
    e->flags = static_cast<std::uint8_t>((e->flags & ~kDirty) | kFrozen);
    out.push_back(e);
  }
  frozen_ += out.size();
  return out;
}

}  // namespace dynakv::storage
