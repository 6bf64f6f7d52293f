#include "zskiplist.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "storage/engine.h"  // HashKey
#include "types/ops.h"

namespace dynakv::types {

namespace {
constexpr int kMaxLevel = 32;  // Redis's ZSKIPLIST_MAXLEVEL
constexpr unsigned kP = 4;     // a level is promoted with probability 1/4 (ZSKIPLIST_P)
// A snapshot's chunks: at most 1,024 runs (a write that settles one serializes about a
// thousandth of a large set), of at least 16 nodes.
constexpr std::size_t kMaxChunks = 1024;
constexpr std::size_t kMinChunkNodes = 16;
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

ZSkiplist::Node*& ZSkiplist::IndexChain::Next(Node& n) { return n.hnext; }

std::uint64_t ZSkiplist::IndexChain::Hash(const Node& n) { return storage::HashKey(n.member()); }

ZSkiplist::ZSkiplist() : header_(MakeNode(kMaxLevel, {}, 0)), rng_(0x5eed) {}

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
  for (Node* n = index_.Slot(storage::HashKey(member)); n != nullptr; n = n->hnext) {
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
  Splice(n, update, rank);
}

void ZSkiplist::Splice(Node* n, Node** update, std::size_t* rank) {
  if (snapshot_ != nullptr) SettleAround(update[0], n);
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
  Cut(n, update);
}

void ZSkiplist::Cut(Node* n, Node* const* update) {
  if (snapshot_ != nullptr) SettleAround(update[0], n);
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

void ZSkiplist::Move(Node* n, double score) {
  // Both walks run over the list as it is, a step of each in turn: two independent chains of
  // cache misses the CPU overlaps, where unlinking first and then walking to the new place would
  // wait for one chain and then for the other. The new place's walk passes `n` at its old place
  // (it compares n's old score); that is corrected once `n` is cut out.
  Node* old_update[kMaxLevel];
  Node* update[kMaxLevel];
  std::size_t rank[kMaxLevel];
  const std::string_view member = n->member();
  const double old_score = n->score;
  Node* xo = header_.get();
  Node* xn = header_.get();
  int io = level_ - 1;
  int in = level_ - 1;
  rank[in] = 0;
  while (io >= 0 || in >= 0) {
    if (io >= 0) {
      Node* next = xo->next(io);
      if (next != nullptr && Before(next, old_score, member)) {
        xo = next;
      } else {
        old_update[io--] = xo;
      }
    }
    if (in >= 0) {
      Node* next = xn->next(in);
      if (next != nullptr && Before(next, score, member)) {
        rank[in] += xn->span(in);
        xn = next;
      } else {
        update[in] = xn;
        if (--in >= 0) rank[in] = rank[in + 1];
      }
    }
  }
  // What the new place's walk found, as the list will be without `n`: a level whose last node
  // before the place is `n` has n's predecessor there instead (its link to n spans that much
  // less), and a node after `n` comes one rank earlier.
  for (int i = 0; i < level_; ++i) {
    if (update[i] == n) {
      update[i] = old_update[i];
      rank[i] -= old_update[i]->span(i);
    } else if (update[i] != header_.get() && !Before(update[i], old_score, member)) {
      --rank[i];
    }
  }
  Cut(n, old_update);
  n->score = score;
  Splice(n, update, rank);
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
      if (snapshot_ != nullptr) SettleAround(header_.get(), n);
      n->score = score;
      return false;
    }
    Move(n, score);
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

void ZSkiplist::IndexInsert(Node* n) {
  Node*& bucket = index_.Slot(storage::HashKey(n->member()));
  n->hnext = bucket;
  bucket = n;
  index_.AfterChange(size_);
}

void ZSkiplist::IndexRemove(Node* n) {
  Node** link = &index_.Slot(storage::HashKey(n->member()));
  while (*link != n) link = &(*link)->hnext;
  *link = n->hnext;
  n->hnext = nullptr;
  index_.AfterChange(size_);
}

std::uint64_t ZSkiplist::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  return index_.Scan(cursor, count, [&fn](const Node& n) { fn(n.member(), n.score); });
}

std::pair<std::string_view, double> ZSkiplist::Random(std::mt19937_64& rng) const {
  const Node& n = index_.Random(rng);
  return {n.member(), n.score};
}

void AppendScoredEntry(std::string* out, std::string_view member, double score) {
  std::uint64_t bits;
  std::memcpy(&bits, &score, sizeof(bits));
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(bits >> (8 * i));
  out->append(le, sizeof(le));
  PutVarint(out, member.size());
  out->append(member);
}

// --- Snapshots ----------------------------------------------------------------------------------

std::unique_ptr<ZSkiplist::Snapshot> ZSkiplist::StartSnapshot() {
  // The runs start every `step` ranks or so, at nodes met on the highest level that still has
  // about one node per run (each level holds a quarter of the one below): some 1,000-4,000
  // nodes visited for a 1,000,000-member set, not the whole list.
  const std::size_t step = std::max(kMinChunkNodes, (size_ + kMaxChunks - 1) / kMaxChunks);
  const std::size_t chunks = std::max<std::size_t>(1, (size_ + step - 1) / step);
  int level = 0;
  while (level + 1 < level_ && (size_ >> (2 * (level + 1))) >= chunks) ++level;
  std::vector<const Node*> starts;
  std::vector<std::pair<double, std::string>> keys;
  starts.reserve(chunks + 1);
  keys.reserve(chunks + 1);
  if (const Node* first = header_->next(0)) {
    starts.push_back(first);
    keys.emplace_back(first->score, first->member());
  }
  std::size_t rank = 0;  // of x, from 1
  for (const Node* x = header_.get(); x->next(level) != nullptr;) {
    rank += x->span(level);
    x = x->next(level);
    if (rank - 1 >= starts.size() * step && starts.size() < kMaxChunks) {
      starts.push_back(x);
      keys.emplace_back(x->score, x->member());
    }
  }
  auto snapshot = std::make_unique<Snapshot>(std::move(starts), std::move(keys), size_);
  snapshot_ = snapshot.get();
  return snapshot;
}

void ZSkiplist::EndSnapshot() { snapshot_ = nullptr; }

void ZSkiplist::SettleAround(const Node* pred, const Node* n) {
  if (snapshot_->chunk_count() == 0) return;  // an empty list has nothing to keep
  const std::string_view member = n->member();
  const std::size_t c = snapshot_->ChunkOf(n->score, member);
  snapshot_->SettleChunk(c);
  // The predecessor is in the same run unless `n` is (or goes) first in its run's key range.
  if (pred != header_.get() && c > 0 && snapshot_->BeforeChunk(c, pred->score, pred->member())) {
    snapshot_->SettleChunk(snapshot_->ChunkOf(pred->score, pred->member()));
  }
}

ZSkiplist::Snapshot::Snapshot(std::vector<const Node*> starts,
                              std::vector<std::pair<double, std::string>> keys, std::size_t size)
    : ChunkedSnapshot(starts.size()),
      starts_(std::move(starts)),
      keys_(std::move(keys)),
      size_(size) {}

bool ZSkiplist::Snapshot::BeforeChunk(std::size_t c, double score, std::string_view member) const {
  const auto& [key_score, key_member] = keys_[c];
  if (score != key_score) return score < key_score;
  return member < key_member;
}

std::size_t ZSkiplist::Snapshot::ChunkOf(double score, std::string_view member) const {
  // The first chunk whose key is after (score, member), less one.
  std::size_t lo = 1, hi = keys_.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (BeforeChunk(mid, score, member)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo - 1;
}

void ZSkiplist::Snapshot::SerializeChunk(std::size_t c, std::string* out) const {
  // Only level-0 links, scores and members: what the owner settles this chunk before changing.
  const Node* end = c + 1 < starts_.size() ? starts_[c + 1] : nullptr;
  for (const Node* x = starts_[c]; x != end; x = x->next(0)) {
    AppendScoredEntry(out, x->member(), x->score);
  }
}

}  // namespace dynakv::types
