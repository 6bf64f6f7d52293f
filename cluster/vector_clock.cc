#include "cluster/vector_clock.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "coding.h"

namespace dynakv::cluster {

void VectorClock::Increment(std::string_view node, std::int64_t now_ms) {
  auto it = entries_.find(node);
  if (it == entries_.end()) it = entries_.emplace(std::string(node), Entry{}).first;
  // Saturate rather than wrap: a wrapped counter would make this version look older than its
  // ancestors. 2^64 writes are out of reach; only a corrupt peer could get here.
  if (it->second.counter != std::numeric_limits<std::uint64_t>::max()) ++it->second.counter;
  it->second.updated_ms = now_ms;
}

void VectorClock::Advance(std::string_view node, std::uint64_t counter, std::int64_t updated_ms) {
  if (counter == 0) return;
  auto it = entries_.find(node);
  if (it == entries_.end()) {
    entries_.emplace(std::string(node), Entry{counter, updated_ms});
  } else if (counter > it->second.counter) {
    it->second = Entry{counter, updated_ms};
  } else if (counter == it->second.counter) {
    it->second.updated_ms = std::max(it->second.updated_ms, updated_ms);
  }
}

std::uint64_t VectorClock::Get(std::string_view node) const {
  auto it = entries_.find(node);
  return it == entries_.end() ? 0 : it->second.counter;
}

VectorClock::Order VectorClock::Compare(const VectorClock& other) const {
  bool smaller = false;  // some counter here is below the other's
  bool larger = false;
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  // Both maps are sorted by id: one merge pass, absent entries counting as 0.
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      larger = true;
      ++a;
    } else if (a == entries_.end() || b->first < a->first) {
      smaller = true;
      ++b;
    } else {
      smaller |= a->second.counter < b->second.counter;
      larger |= a->second.counter > b->second.counter;
      ++a;
      ++b;
    }
    if (smaller && larger) return Order::kConcurrent;
  }
  if (smaller) return Order::kBefore;
  return larger ? Order::kAfter : Order::kEqual;
}

bool VectorClock::Descends(const VectorClock& other) const {
  const Order order = Compare(other);
  return order == Order::kEqual || order == Order::kAfter;
}

void VectorClock::Merge(const VectorClock& other) {
  for (const auto& [node, entry] : other.entries_) Advance(node, entry.counter, entry.updated_ms);
}

std::size_t VectorClock::Prune(std::int64_t now_ms, const ClockPruneOptions& options) {
  if (entries_.size() <= options.max_entries) return 0;
  std::vector<std::pair<std::int64_t, const std::string*>> by_age;
  by_age.reserve(entries_.size());
  for (const auto& [node, entry] : entries_) by_age.emplace_back(entry.updated_ms, &node);
  std::sort(by_age.begin(), by_age.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  });
  // Written as a threshold so garbage timestamps from a peer cannot overflow a subtraction.
  const std::int64_t young_after = now_ms - options.min_age_ms;
  std::size_t dropped = 0;
  for (const auto& [updated_ms, node] : by_age) {
    if (entries_.size() <= options.max_entries || updated_ms > young_after) break;
    entries_.erase(entries_.find(*node));
    ++dropped;
  }
  return dropped;
}

void VectorClock::EncodeTo(std::string* dst) const {
  coding::PutVarint64(dst, entries_.size());
  for (const auto& [node, entry] : entries_) {
    coding::PutLengthPrefixed(dst, node);
    coding::PutVarint64(dst, entry.counter);
    coding::PutVarsint64(dst, entry.updated_ms);
  }
}

std::string VectorClock::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

bool VectorClock::DecodeFrom(std::string_view* input, VectorClock* clock) {
  std::uint64_t count;
  if (!coding::GetVarint64(input, &count)) return false;
  // An entry takes at least 3 bytes, so a huge count in a short input is rejected up front
  // instead of looping or allocating on the attacker's word.
  if (count > input->size() / 3) return false;
  Entries entries;
  std::string_view previous;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view node;
    Entry entry;
    if (!coding::GetLengthPrefixed(input, &node) || !coding::GetVarint64(input, &entry.counter) ||
        !coding::GetVarsint64(input, &entry.updated_ms)) {
      return false;
    }
    // Strictly increasing ids: no duplicates, and exactly one encoding per clock.
    if (entry.counter == 0 || (i > 0 && node <= previous)) return false;
    previous = node;
    entries.emplace_hint(entries.end(), std::string(node), entry);
  }
  clock->entries_ = std::move(entries);
  return true;
}

bool VectorClock::Decode(std::string_view bytes, VectorClock* clock) {
  VectorClock decoded;
  if (!DecodeFrom(&bytes, &decoded) || !bytes.empty()) return false;
  *clock = std::move(decoded);
  return true;
}

std::string VectorClock::ToString() const {
  std::string out = "{";
  for (const auto& [node, entry] : entries_) {
    if (out.size() > 1) out += ',';
    out += node + ':' + std::to_string(entry.counter);
  }
  return out + '}';
}

}  // namespace dynakv::cluster
