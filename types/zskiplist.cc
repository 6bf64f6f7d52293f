#include "zskiplist.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "storage/engine.h"  // HashKey

namespace dynakv::types {

namespace {
constexpr int kMaxLevel = 32;  // Redis's ZSKIPLIST_MAXLEVEL
constexpr unsigned kP = 4;     // a level is promoted with probability 1/4 (ZSKIPLIST_P)
constexpr unsigned kMinBits = 2;
// Old index buckets moved per index change while a resize runs (as field_table.cc).
constexpr std::size_t kRehashBucketsPerWrite = 2;
}  // namespace

// Followed in the same allocation by: Node* forward[levels]; std::uint32_t span[levels - 1]
// (levels 1 and up: a forward link on level 0 always spans 1); the member bytes.
struct ZSkiplist::Node {
  double score = 0;
  Node* backward = nullptr;
  Node* hnext = nullptr;  // the next node in this one's index bucket
  std::uint32_t member_len = 0;
  std::uint8_t levels = 0;

  Node** forward() { return reinterpret_cast<Node**>(this + 1); }
  Node* const* forward() const { return reinterpret_cast<Node* const*>(this + 1); }
  std::uint32_t* spans() { return reinterpret_cast<std::uint32_t*>(forward() + levels); }
  const std::uint32_t* spans() const {
    return reinterpret_cast<const std::uint32_t*>(forward() + levels);
  }
  Node* next(int i) const { return forward()[i]; }
  std::size_t span(int i) const { return i == 0 ? 1 : spans()[i - 1]; }
  void set_span(int i, std::size_t v) {
    if (i > 0) spans()[i - 1] = static_cast<std::uint32_t>(v);
  }
  std::string_view member() const {
    return {reinterpret_cast<const char*>(spans() + (levels - 1)), member_len};
  }
};

namespace {

// Redis's order: score, then member bytes. Whether node x comes before (score, member).
// Called at every step of every walk down the list: always inlined (a profile of ZADD showed 7%
// of the server's time in its call), members compared only on equal scores.
template <typename N>
[[gnu::always_inline]] inline bool Before(const N* x, double score, std::string_view member) {
  if (x->score != score) return x->score < score;
  return x->member() < member;
}

}  // namespace

void ZSkiplist::NodeDeleter::operator()(Node* n) const {
  std::destroy_at(n);
  std::free(n);
}

ZSkiplist::NodePtr ZSkiplist::MakeNode(int levels, std::string_view member, double score) {
  const std::size_t size =
      sizeof(Node) + levels * sizeof(Node*) + (levels - 1) * sizeof(std::uint32_t) + member.size();
  void* mem = std::malloc(size);
  if (mem == nullptr) throw std::bad_alloc();
  NodePtr n(std::construct_at(static_cast<Node*>(mem)));
  n->score = score;
  n->member_len = static_cast<std::uint32_t>(member.size());
  n->levels = static_cast<std::uint8_t>(levels);
  std::memset(n->forward(), 0, levels * sizeof(Node*) + (levels - 1) * sizeof(std::uint32_t));
  if (!member.empty()) {
    std::memcpy(reinterpret_cast<char*>(n->spans() + (levels - 1)), member.data(), member.size());
  }
  return n;
}

std::size_t ZSkiplist::NodeBytes(const Node& n) {
  // malloc hands out 16-byte multiples (jemalloc's small classes are at least as fine).
  const std::size_t size = sizeof(Node) + n.levels * sizeof(Node*) +
                           (n.levels - 1) * sizeof(std::uint32_t) + n.member_len;
  return (size + 15) & ~std::size_t{15};
}

ZSkiplist::ZSkiplist()
    : header_(MakeNode(kMaxLevel, {}, 0)),
      buckets_(std::size_t{1} << kMinBits),
      bits_(kMinBits),
      shift_(64 - kMinBits),
      rng_(0x5eed) {}

ZSkiplist::~ZSkiplist() {
  // Iteratively along level 0, which owns the nodes.
  Node* x = header_->next(0);
  while (x != nullptr) {
    Node* next = x->next(0);
    NodeDeleter()(x);
    x = next;
  }
}

int ZSkiplist::RandomLevel() {
  int level = 1;
  while (level < kMaxLevel && rng_() % kP == 0) ++level;
  return level;
}

ZSkiplist::Node* ZSkiplist::Find(std::string_view member) const {
  for (Node* n = Slot(storage::HashKey(member)); n != nullptr; n = n->hnext) {
    if (n->member() == member) return n;
  }
  return nullptr;
}

void ZSkiplist::Link(Node* n) {
  Node* update[kMaxLevel];
  std::size_t rank[kMaxLevel];
  Node* x = header_.get();
  const std::string_view member = n->member();
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (x->next(i) != nullptr && Before(x->next(i), n->score, member)) {
      rank[i] += x->span(i);
      x = x->next(i);
    }
    update[i] = x;
  }
  const int level = n->levels;
  if (level > level_) {
    for (int i = level_; i < level; ++i) {
      rank[i] = 0;
      update[i] = header_.get();
      update[i]->set_span(i, size_);
    }
    level_ = level;
  }
  for (int i = 0; i < level; ++i) {
    n->forward()[i] = update[i]->next(i);
    update[i]->forward()[i] = n;
    n->set_span(i, update[i]->span(i) - (rank[0] - rank[i]));
    update[i]->set_span(i, (rank[0] - rank[i]) + 1);
  }
  for (int i = level; i < level_; ++i) update[i]->set_span(i, update[i]->span(i) + 1);
  n->backward = update[0] == header_.get() ? nullptr : update[0];
  if (n->next(0) != nullptr) {
    n->next(0)->backward = n;
  } else {
    tail_ = n;
  }
  ++size_;
}

void ZSkiplist::Unlink(Node* n) {
  Node* update[kMaxLevel];
  Node* x = header_.get();
  const std::string_view member = n->member();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && Before(x->next(i), n->score, member)) x = x->next(i);
    update[i] = x;
  }
  for (int i = 0; i < level_; ++i) {
    if (update[i]->next(i) == n) {
      update[i]->set_span(i, update[i]->span(i) + n->span(i) - 1);
      update[i]->forward()[i] = n->next(i);
    } else {
      update[i]->set_span(i, update[i]->span(i) - 1);
    }
  }
  if (n->next(0) != nullptr) {
    n->next(0)->backward = n->backward;
  } else {
    tail_ = n->backward;
  }
  while (level_ > 1 && header_->next(level_ - 1) == nullptr) --level_;
  --size_;
}

std::optional<double> ZSkiplist::Score(std::string_view member) const {
  const Node* n = Find(member);
  if (n == nullptr) return std::nullopt;
  return n->score;
}

bool ZSkiplist::Add(std::string_view member, double score) {
  if (Node* n = Find(member)) {
    if (n->score == score) return false;
    // Where the new score keeps the node between its neighbours it changes in place (Redis's
    // zslUpdateScore); otherwise the same node moves.
    const Node* next = n->next(0);
    if ((n->backward == nullptr || Before(n->backward, score, member)) &&
        (next == nullptr || !Before(next, score, member))) {
      n->score = score;
      return false;
    }
    Unlink(n);
    n->score = score;
    Link(n);
    return false;
  }
  NodePtr fresh = MakeNode(RandomLevel(), member, score);
  node_bytes_ += NodeBytes(*fresh);
  Node* n = fresh.release();  // owned along level 0 from here on
  Link(n);
  IndexInsert(n);
  return true;
}

bool ZSkiplist::Remove(std::string_view member) {
  Node* n = Find(member);
  if (n == nullptr) return false;
  Unlink(n);
  IndexRemove(n);
  node_bytes_ -= NodeBytes(*n);
  NodePtr owned(n);
  return true;
}

std::optional<std::size_t> ZSkiplist::Rank(std::string_view member) const {
  const Node* n = Find(member);
  if (n == nullptr) return std::nullopt;
  std::size_t rank = 0;
  const Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && (x->next(i) == n || Before(x->next(i), n->score, member))) {
      rank += x->span(i);
      x = x->next(i);
    }
    if (x == n) return rank - 1;
  }
  return rank - 1;  // not reached: n is in the list
}

std::size_t ZSkiplist::CountLeading(const Pred& before) const {
  std::size_t rank = 0;
  const Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && before(x->next(i)->member(), x->next(i)->score)) {
      rank += x->span(i);
      x = x->next(i);
    }
  }
  return rank;
}

ZSkiplist::Node* ZSkiplist::ByRank(std::size_t rank) const {
  const std::size_t target = rank + 1;  // spans count from the header
  std::size_t traversed = 0;
  Node* x = header_.get();
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && traversed + x->span(i) <= target) {
      traversed += x->span(i);
      x = x->next(i);
    }
    if (traversed == target) return x;
  }
  return nullptr;
}

void ZSkiplist::Walk(std::size_t rank, bool reverse, const Visitor& fn) const {
  if (rank >= size_) return;
  for (const Node* x = ByRank(rank); x != nullptr; x = reverse ? x->backward : x->next(0)) {
    if (!fn(x->member(), x->score)) return;
  }
}

ZSkiplist::Node*& ZSkiplist::Slot(std::uint64_t hash) {
  if (!old_.empty()) {
    const auto ob = static_cast<std::size_t>(hash >> old_shift_);
    if (ob >= rehash_index_) return old_[ob];
  }
  return buckets_[static_cast<std::size_t>(hash >> shift_)];
}

ZSkiplist::Node* const& ZSkiplist::Slot(std::uint64_t hash) const {
  return const_cast<ZSkiplist*>(this)->Slot(hash);
}

ZSkiplist::Span ZSkiplist::SpanAt(std::uint64_t pos) const {
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
    // After a shrink a new bucket spans two old ones, the second perhaps not moved yet.
    const std::uint64_t moved = static_cast<std::uint64_t>(rehash_index_) << old_shift_;
    if (span.end == 0 || span.end > moved) span.end = moved;
  }
  return span;
}

void ZSkiplist::IndexInsert(Node* n) {
  Node*& bucket = Slot(storage::HashKey(n->member()));
  n->hnext = bucket;
  bucket = n;
  MaybeResize();
}

void ZSkiplist::IndexRemove(Node* n) {
  Node** link = &Slot(storage::HashKey(n->member()));
  while (*link != n) link = &(*link)->hnext;
  *link = n->hnext;
  n->hnext = nullptr;
  MaybeResize();
}

void ZSkiplist::MaybeResize() {
  if (!old_.empty()) {
    RehashStep(kRehashBucketsPerWrite);
  } else if (size_ > buckets_.size()) {
    StartResize(bits_ + 1);
  } else if (bits_ > kMinBits && size_ < buckets_.size() / 8) {
    StartResize(bits_ - 1);
  }
}

void ZSkiplist::StartResize(unsigned bits) {
  old_ = std::move(buckets_);
  old_shift_ = shift_;
  rehash_index_ = 0;
  buckets_ = std::vector<Node*>(std::size_t{1} << bits, nullptr);
  bits_ = bits;
  shift_ = 64 - bits;
}

void ZSkiplist::RehashStep(std::size_t buckets) {
  std::size_t empty_visits = buckets * 10;
  while (buckets > 0 && rehash_index_ < old_.size()) {
    Node*& bucket = old_[rehash_index_];
    if (bucket == nullptr) {
      ++rehash_index_;
      if (--empty_visits == 0) break;
      continue;
    }
    while (bucket != nullptr) {
      Node* n = bucket;
      bucket = n->hnext;
      Node*& dst = buckets_[static_cast<std::size_t>(storage::HashKey(n->member()) >> shift_)];
      n->hnext = dst;
      dst = n;
    }
    ++rehash_index_;
    --buckets;
  }
  if (rehash_index_ == old_.size()) {
    old_ = std::vector<Node*>();
    rehash_index_ = 0;
  }
}

std::uint64_t ZSkiplist::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  std::size_t passed = 0;
  std::uint64_t pos = cursor;
  for (;;) {
    const Span span = SpanAt(pos);
    // A cursor is a bucket boundary unless the index shrank since it was handed out: only then
    // do the first bucket's members below it need their hash to be skipped.
    const bool mid_bucket = span.start != pos;
    for (const Node* n = *span.bucket; n != nullptr; n = n->hnext) {
      if (mid_bucket && storage::HashKey(n->member()) < pos) continue;
      fn(n->member(), n->score);
      ++passed;
    }
    if (span.end == 0) return 0;
    pos = span.end;
    if (passed >= count) return pos;
  }
}

std::pair<std::string_view, double> ZSkiplist::Random(std::mt19937_64& rng) const {
  // A random non-empty bucket, then a random node of its chain (chains are short: load <= 1).
  std::uint64_t pos = static_cast<std::uint64_t>(rng() & (buckets_.size() - 1)) << shift_;
  Span span = SpanAt(pos);
  while (*span.bucket == nullptr) span = SpanAt(span.end);
  std::size_t len = 0;
  for (const Node* node = *span.bucket; node != nullptr; node = node->hnext) ++len;
  std::size_t pick = static_cast<std::size_t>(rng() % len);
  const Node* node = *span.bucket;
  while (pick-- > 0) node = node->hnext;
  return {node->member(), node->score};
}

}  // namespace dynakv::types
