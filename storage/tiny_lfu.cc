#include "tiny_lfu.h"

#include <algorithm>

namespace dynakv::storage {

void WTinyLfu::Reset() {
  nodes_.clear();
  nodes_.shrink_to_fit();
  for (std::uint32_t h = 0; h < 3; ++h) nodes_.push_back(Node{nullptr, h, h});
  free_ = kNone;
  listed_ = 0;
  contender_ = nullptr;
}

void WTinyLfu::Attach() {
  Reset();
  attached_ = true;
  table_->SetObserver(this);
  sketch_.EnsureCapacity(table_->size());
  table_->ForEach([&](Entry& e) {
    if (e.has(Memtable::kTombstone)) return;
    e.lru = NewNode(&e);
    table_->SetRegion(&e, Memtable::kProbation);
    Link(e.lru, Memtable::kProbation);
  });
  DemoteProtected();
}

void WTinyLfu::Detach() {
  if (!attached_) return;
  table_->SetObserver(nullptr);
  attached_ = false;
  Reset();
  sketch_ = FrequencySketch();
}

std::size_t WTinyLfu::Capacity() const {
  const std::size_t listed = table_->region_bytes(Memtable::kWindow) + MainBytes();
  const std::size_t other = table_->bytes() + table_->list_bytes() - listed + bytes();
  return max_memory_ > other ? max_memory_ - other : 0;
}

std::uint32_t WTinyLfu::NewNode(Entry* e) {
  ++listed_;
  if (free_ != kNone) {
    const std::uint32_t n = free_;
    free_ = nodes_[n].next;
    nodes_[n].entry = e;
    return n;
  }
  nodes_.push_back(Node{e, kNone, kNone});
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void WTinyLfu::Link(std::uint32_t n, Memtable::Region r) {
  const std::uint32_t head = HeadOf(r);
  const std::uint32_t last = nodes_[head].prev;
  nodes_[n].prev = last;
  nodes_[n].next = head;
  nodes_[last].next = n;
  nodes_[head].prev = n;
}

void WTinyLfu::Unlink(std::uint32_t n) {
  Node& node = nodes_[n];
  nodes_[node.prev].next = node.next;
  nodes_[node.next].prev = node.prev;
}

void WTinyLfu::MoveTo(Entry* e, Memtable::Region r) {
  Unlink(e->lru);
  if (e->region != r) table_->SetRegion(e, r);
  Link(e->lru, r);
}

void WTinyLfu::Added(Entry* e) {
  if (e->has(Memtable::kTombstone)) return;
  sketch_.EnsureCapacity(table_->size());
  e->lru = NewNode(e);
  table_->SetRegion(e, Memtable::kWindow);
  Link(e->lru, Memtable::kWindow);
  DrainWindow();
}

void WTinyLfu::Replaced(Entry* old, Entry* fresh) {
  if (contender_ == old) contender_ = nullptr;
  if (old->region == Memtable::kUnlisted) {  // a tombstone: the key is new to the cache
    Added(fresh);
    return;
  }
  if (fresh->has(Memtable::kTombstone)) {  // a delete of a key some segment holds
    FreeNode(fresh->lru);
    table_->SetRegion(fresh, Memtable::kUnlisted);
    return;
  }
  nodes_[fresh->lru].entry = fresh;
  Touched(fresh);  // an overwrite is an access, as in Caffeine
}

void WTinyLfu::Removed(Entry* e) {
  if (e->region == Memtable::kUnlisted) return;
  if (contender_ == e) contender_ = nullptr;
  FreeNode(e->lru);
  DrainWindow();  // the room a victim left is the window candidate's that beat it
}

void WTinyLfu::FreeNode(std::uint32_t n) {
  Unlink(n);
  nodes_[n].entry = nullptr;
  nodes_[n].next = free_;
  free_ = n;
  --listed_;
}

void WTinyLfu::Touched(Entry* e) {
  switch (e->region) {
    case Memtable::kWindow:
    case Memtable::kProtected:
      MoveTo(e, static_cast<Memtable::Region>(e->region));
      break;
    case Memtable::kProbation:
      MoveTo(e, Memtable::kProtected);
      DemoteProtected();
      break;
    default:
      break;
  }
}

void WTinyLfu::DemoteProtected() {
  while (table_->region_bytes(Memtable::kProtected) > ProtectedTarget()) {
    const std::uint32_t oldest = nodes_[HeadOf(Memtable::kProtected)].next;
    if (oldest < 3) break;
    MoveTo(nodes_[oldest].entry, Memtable::kProbation);
  }
}

void WTinyLfu::DrainWindow() {
  while (table_->region_bytes(Memtable::kWindow) > WindowTarget()) {
    const std::uint32_t oldest = nodes_[HeadOf(Memtable::kWindow)].next;
    if (oldest < 3) break;
    Entry* candidate = nodes_[oldest].entry;
    if (MainBytes() + candidate->alloc_size() > MainTarget()) break;  // it must compete
    if (contender_ == candidate) {
      ++admitted_;
      contender_ = nullptr;
    }
    MoveTo(candidate, Memtable::kProbation);
  }
}

WTinyLfu::Entry* WTinyLfu::Oldest(Memtable::Region r,
                                  const std::function<bool(const Entry&)>* spared) const {
  // Only the key being written is ever spared, so the second oldest will do.
  std::uint32_t n = nodes_[HeadOf(r)].next;
  for (int looked = 0; n >= 3 && looked < 2; ++looked, n = nodes_[n].next) {
    if (spared == nullptr || !(*spared)(*nodes_[n].entry)) return nodes_[n].entry;
  }
  return nullptr;
}

bool WTinyLfu::Admit(const Entry& candidate, const Entry& victim) {
  const int candidate_frequency = sketch_.Frequency(candidate.hash);
  if (candidate_frequency > sketch_.Frequency(victim.hash)) return true;
  if (candidate_frequency < 6) return false;
  rand_ ^= rand_ << 13;
  rand_ ^= rand_ >> 7;
  rand_ ^= rand_ << 17;
  return (rand_ & 127) == 0;
}

WTinyLfu::Entry* WTinyLfu::Victim(const std::function<bool(const Entry&)>& spared) {
  auto main_victim = [&]() {
    Entry* v = Oldest(Memtable::kProbation, &spared);
    return v != nullptr ? v : Oldest(Memtable::kProtected, &spared);
  };
  DrainWindow();
  if (table_->region_bytes(Memtable::kWindow) > WindowTarget()) {
    if (Entry* candidate = Oldest(Memtable::kWindow, &spared)) {
      Entry* victim = main_victim();
      if (victim == nullptr) return candidate;
      if (Admit(*candidate, *victim)) {
        contender_ = candidate;
        return victim;
      }
      if (contender_ == candidate) contender_ = nullptr;
      ++rejected_;
      return candidate;
    }
  }
  // The window is within its share, so the main region is over its own.
  if (Entry* victim = main_victim()) return victim;
  return Oldest(Memtable::kWindow, &spared);
}

std::vector<const WTinyLfu::Entry*> WTinyLfu::Order(Memtable::Region r) const {
  std::vector<const Entry*> out;
  for (std::uint32_t n = nodes_[HeadOf(r)].next; n >= 3; n = nodes_[n].next) {
    out.push_back(nodes_[n].entry);
  }
  return out;
}

}  // namespace dynakv::storage
