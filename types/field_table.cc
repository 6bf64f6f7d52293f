#include "field_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "storage/engine.h"  // HashKey
#include "types/ops.h"

namespace dynakv::types {

namespace {

constexpr unsigned kMinBits = 2;
// Old buckets moved per write while rehashing (non-empty ones; at most ten times as many empty
// ones are looked at, as in Redis's dictRehash). The new array has twice the buckets, so the
// old one is empty long before the table needs its next resize.
constexpr std::size_t kRehashBucketsPerWrite = 2;
// A snapshot's chunks: 1,024 for a large table, so a write that settles one serializes about a
// thousandth of the table (a 100,000-member set: some 100 members, a few microseconds).
constexpr unsigned kMaxChunkBits = 10;

}  // namespace

// 16 bytes before the field: the hash is not kept (it is recomputed when the table resizes, and
// chains are short enough to compare fields directly), which saves a jemalloc size class for
// most small members (a 14-byte set member: 30 bytes, class 32, instead of 48).
struct FieldTable::Node {
  NodePtr next;
  std::uint32_t field_len = 0;
  std::uint32_t value_len = 0;

  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  std::string_view field() const { return {bytes(), field_len}; }
  std::string_view value() const { return {bytes() + field_len, value_len}; }
};

void FieldTable::NodeDeleter::operator()(Node* n) const {
  std::destroy_at(n);
  std::free(n);
}

FieldTable::NodePtr FieldTable::MakeNode(std::string_view field, std::string_view value) {
  void* mem = std::malloc(sizeof(Node) + field.size() + value.size());
  if (mem == nullptr) throw std::bad_alloc();
  NodePtr n(std::construct_at(static_cast<Node*>(mem)));
  n->field_len = static_cast<std::uint32_t>(field.size());
  n->value_len = static_cast<std::uint32_t>(value.size());
  if (!field.empty()) std::memcpy(n->bytes(), field.data(), field.size());
  if (!value.empty()) std::memcpy(n->bytes() + field.size(), value.data(), value.size());
  return n;
}

std::size_t FieldTable::NodeBytes(const Node& n) {
  // malloc hands out 16-byte multiples (jemalloc's small classes are at least as fine).
  return (sizeof(Node) + n.field_len + n.value_len + 15) & ~std::size_t{15};
}

FieldTable::FieldTable()
    : buckets_(std::size_t{1} << kMinBits), bits_(kMinBits), shift_(64 - kMinBits) {}

FieldTable::~FieldTable() {
  FreeChains(&buckets_);
  FreeChains(&old_);
}

void FieldTable::FreeChains(std::vector<NodePtr>* buckets) {
  // Iteratively: a recursive unique_ptr chain could overflow the stack.
  for (NodePtr& bucket : *buckets) {
    while (bucket) bucket = std::move(bucket->next);
  }
}

void FieldTable::Reserve(std::size_t fields) {
  if (size_ != 0 || snapshot_ != nullptr) return;
  unsigned bits = kMinBits;
  while (bits < 40 && (std::size_t{1} << bits) < fields) ++bits;
  if (bits <= bits_) return;
  old_ = std::vector<NodePtr>();
  rehash_index_ = 0;
  buckets_ = std::vector<NodePtr>(std::size_t{1} << bits);
  bits_ = bits;
  shift_ = 64 - bits;
}

FieldTable::NodePtr& FieldTable::Slot(std::uint64_t hash) {
  if (!old_.empty()) {
    const auto ob = static_cast<std::size_t>(hash >> old_shift_);
    if (ob >= rehash_index_) return old_[ob];
  }
  return buckets_[static_cast<std::size_t>(hash >> shift_)];
}

const FieldTable::NodePtr& FieldTable::Slot(std::uint64_t hash) const {
  return const_cast<FieldTable*>(this)->Slot(hash);
}

FieldTable::Span FieldTable::SpanAt(std::uint64_t pos) const {
  // (b + 1) << shift wraps to 0 for the last bucket: the end of hash space.
  if (!old_.empty()) {
    const auto ob = static_cast<std::size_t>(pos >> old_shift_);
    if (ob >= rehash_index_) {
      return {&old_[ob], static_cast<std::uint64_t>(ob) << old_shift_,
              (static_cast<std::uint64_t>(ob) + 1) << old_shift_};
    }
  }
  const auto nb = static_cast<std::size_t>(pos >> shift_);
  Span span{&buckets_[nb], static_cast<std::uint64_t>(nb) << shift_,
            (static_cast<std::uint64_t>(nb) + 1) << shift_};
  if (!old_.empty()) {
    // After a shrink a new bucket spans two old ones; the second may not be moved yet, and then
    // the old array serves the rest of its range.
    const std::uint64_t moved = static_cast<std::uint64_t>(rehash_index_) << old_shift_;
    if (span.end == 0 || span.end > moved) span.end = moved;
  }
  return span;
}

template <typename Fn>
void FieldTable::Walk(std::uint64_t from, std::uint64_t to, Fn&& fn) const {
  std::uint64_t pos = from;
  do {
    const Span span = SpanAt(pos);
    for (const Node* n = span.bucket->get(); n != nullptr; n = n->next.get()) fn(*n);
    pos = span.end;
  } while (pos != to);
}

std::optional<std::string_view> FieldTable::Get(std::string_view field) const {
  for (const Node* n = Slot(storage::HashKey(field)).get(); n != nullptr; n = n->next.get()) {
    if (n->field() == field) return n->value();
  }
  return std::nullopt;
}

bool FieldTable::Set(std::string_view field, std::string_view value) {
  const std::uint64_t hash = storage::HashKey(field);
  if (snapshot_ != nullptr) snapshot_->Settle(hash);
  NodePtr& head = Slot(hash);
  NodePtr* link = &head;
  while (*link && (*link)->field() != field) link = &(*link)->next;
  bool added = false;
  if (*link && (*link)->value_len == value.size()) {
    if (!value.empty())
      std::memcpy((*link)->bytes() + (*link)->field_len, value.data(), value.size());
  } else {
    NodePtr fresh = MakeNode(field, value);
    node_bytes_ += NodeBytes(*fresh);
    payload_bytes_ += field.size() + value.size();
    if (*link) {
      NodePtr old = std::move(*link);
      node_bytes_ -= NodeBytes(*old);
      payload_bytes_ -= old->field_len + old->value_len;
      fresh->next = std::move(old->next);
      *link = std::move(fresh);
    } else {
      fresh->next = std::move(head);
      head = std::move(fresh);
      ++size_;
      added = true;
    }
  }
  MaybeResize();
  return added;
}

bool FieldTable::Remove(std::string_view field) {
  const std::uint64_t hash = storage::HashKey(field);
  if (snapshot_ != nullptr) snapshot_->Settle(hash);
  NodePtr* link = &Slot(hash);
  while (*link && (*link)->field() != field) link = &(*link)->next;
  if (!*link) return false;
  NodePtr old = std::move(*link);
  *link = std::move(old->next);
  node_bytes_ -= NodeBytes(*old);
  payload_bytes_ -= old->field_len + old->value_len;
  --size_;
  old.reset();
  MaybeResize();
  return true;
}

void FieldTable::MaybeResize() {
  if (snapshot_ != nullptr) return;  // nothing moves while a snapshot reads the buckets
  if (rehashing()) {
    RehashStep(kRehashBucketsPerWrite);
  } else if (size_ > buckets_.size()) {
    StartResize(bits_ + 1);
  } else if (bits_ > kMinBits && size_ < buckets_.size() / 8) {
    StartResize(bits_ - 1);
  }
}

void FieldTable::StartResize(unsigned bits) {
  old_ = std::move(buckets_);
  old_shift_ = shift_;
  rehash_index_ = 0;
  buckets_ = std::vector<NodePtr>(std::size_t{1} << bits);
  bits_ = bits;
  shift_ = 64 - bits;
}

void FieldTable::RehashStep(std::size_t buckets) {
  std::size_t empty_visits = buckets * 10;
  while (buckets > 0 && rehash_index_ < old_.size()) {
    NodePtr& bucket = old_[rehash_index_];
    if (!bucket) {
      ++rehash_index_;
      if (--empty_visits == 0) break;
      continue;
    }
    while (bucket) {
      NodePtr n = std::move(bucket);
      bucket = std::move(n->next);
      NodePtr& dst = buckets_[static_cast<std::size_t>(storage::HashKey(n->field()) >> shift_)];
      n->next = std::move(dst);
      dst = std::move(n);
    }
    ++rehash_index_;
    --buckets;
  }
  if (rehash_index_ == old_.size()) {
    old_ = std::vector<NodePtr>();
    rehash_index_ = 0;
  }
}

void FieldTable::ForEach(const Visitor& fn) const {
  Walk(0, 0, [&fn](const Node& n) { fn(n.field(), n.value()); });
}

void FieldTable::AppendPairs(std::string* out) const {
  // Two length prefixes per pair; most lengths fit a one-byte varint, so this rarely regrows.
  out->reserve(out->size() + payload_bytes_ + 2 * size_ + 16);
  Walk(0, 0, [out](const Node& n) {
    PutVarint(out, n.field_len);
    out->append(n.bytes(), n.field_len);
    PutVarint(out, n.value_len);
    out->append(n.bytes() + n.field_len, n.value_len);
  });
}

std::uint64_t FieldTable::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  std::size_t passed = 0;
  std::uint64_t pos = cursor;
  for (;;) {
    const Span span = SpanAt(pos);
    // A cursor is a bucket boundary unless the table shrank since it was handed out: only then
    // do the first bucket's fields below it need their hash to be skipped.
    const bool mid_bucket = span.start != pos;
    for (const Node* n = span.bucket->get(); n != nullptr; n = n->next.get()) {
      if (mid_bucket && storage::HashKey(n->field()) < pos) continue;
      fn(n->field(), n->value());
      ++passed;
    }
    if (span.end == 0) return 0;
    pos = span.end;
    if (passed >= count) return pos;
  }
}

std::pair<std::string_view, std::string_view> FieldTable::Random(std::mt19937_64& rng) const {
  // A random non-empty bucket, then a random node of its chain (chains are short: load <= 1).
  std::uint64_t pos = static_cast<std::uint64_t>(rng() & (buckets_.size() - 1)) << shift_;
  Span span = SpanAt(pos);
  while (!*span.bucket) span = SpanAt(span.end);
  std::size_t len = 0;
  for (const Node* node = span.bucket->get(); node != nullptr; node = node->next.get()) ++len;
  std::size_t pick = static_cast<std::size_t>(rng() % len);
  const Node* node = span.bucket->get();
  while (pick-- > 0) node = node->next.get();
  return {node->field(), node->value()};
}

// --- Snapshots ----------------------------------------------------------------------------------

std::unique_ptr<FieldTable::Snapshot> FieldTable::StartSnapshot(bool with_values) {
  // Chunk boundaries must be bucket boundaries of both arrays.
  unsigned bits = std::min(bits_, kMaxChunkBits);
  if (rehashing()) bits = std::min(bits, 64 - old_shift_);
  auto snapshot = std::make_unique<Snapshot>(*this, with_values, bits);
  snapshot_ = snapshot.get();
  return snapshot;
}

void FieldTable::EndSnapshot() { snapshot_ = nullptr; }

namespace {

class TableObjectSnapshot final : public storage::ObjectSnapshot {
 public:
  TableObjectSnapshot(std::string header, std::unique_ptr<FieldTable::Snapshot> table)
      : header_(std::move(header)), table_(std::move(table)) {}
  void Serialize(std::string* out) override {
    out->append(header_);
    table_->Serialize(out);
  }

 private:
  const std::string header_;
  const std::unique_ptr<FieldTable::Snapshot> table_;
};

}  // namespace

std::unique_ptr<storage::ObjectSnapshot> SnapshotTable(std::string_view prefix, FieldTable* table,
                                                       bool with_values) {
  std::unique_ptr<FieldTable::Snapshot> snapshot = table->StartSnapshot(with_values);
  std::string header(prefix);
  PutVarint(&header, snapshot->size());
  return std::make_unique<TableObjectSnapshot>(std::move(header), std::move(snapshot));
}

FieldTable::Snapshot::Snapshot(const FieldTable& table, bool with_values, unsigned chunk_bits)
    : table_(table),
      with_values_(with_values),
      chunk_shift_(64 - chunk_bits),
      size_(table.size()),
      chunks_(std::make_unique<Chunk[]>(std::size_t{1} << chunk_bits)),
      chunk_count_(std::size_t{1} << chunk_bits) {}

void FieldTable::Snapshot::Claim(std::size_t c) {
  Chunk& chunk = chunks_[c];
  int expected = kPending;
  if (chunk.state.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) {
    std::string* out = &chunk.bytes;
    const bool with_values = with_values_;
    table_.Walk(static_cast<std::uint64_t>(c) << chunk_shift_,
                (static_cast<std::uint64_t>(c) + 1) << chunk_shift_,
                [out, with_values](const Node& n) {
                  PutVarint(out, n.field_len);
                  out->append(n.bytes(), n.field_len);
                  if (!with_values) return;
                  PutVarint(out, n.value_len);
                  out->append(n.bytes() + n.field_len, n.value_len);
                });
    {
      std::lock_guard<std::mutex> lock(mu_);
      chunk.state.store(kDone, std::memory_order_release);
    }
    done_.notify_all();
    return;
  }
  if (expected == kDone) return;
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&chunk] { return chunk.state.load(std::memory_order_acquire) == kDone; });
}

void FieldTable::Snapshot::Serialize(std::string* out) {
  std::size_t total = 0;
  for (std::size_t c = 0; c < chunk_count_; ++c) {
    Claim(c);
    total += chunks_[c].bytes.size();
  }
  out->reserve(out->size() + total);
  for (std::size_t c = 0; c < chunk_count_; ++c) {
    out->append(chunks_[c].bytes);
    std::string().swap(chunks_[c].bytes);
  }
}

}  // namespace dynakv::types
