#include "crdt/or_set.h"

#include <algorithm>

#include "dots_codec.h"
#include "encoded_join.h"
#include "wire.h"

namespace dynakv::crdt {

namespace {

constexpr char kTag = 'S';
constexpr std::uint64_t kMaxMemberLength = std::uint64_t{1} << 29;  // Redis's proto-max-bulk-len

// my index -> other's index of the same actor (kNoActor when other never saw it).
std::vector<std::uint32_t> Inverse(const std::vector<std::uint32_t>& map, std::size_t mine) {
  std::vector<std::uint32_t> inv(mine, kNoActor);
  for (std::uint32_t i = 0; i < map.size(); ++i) inv[map[i]] = i;
  return inv;
}

}  // namespace

ORSet ORSet::Add(std::string_view actor, std::string_view member) {
  const Dot dot = ctx_.Next(ctx_.Intern(actor));
  ORSet delta;
  auto [it, fresh] = entries_.try_emplace(std::string(member));
  // The delta covers the dots this add replaces, so wherever it lands they go too.
  for (const Dot& old : it->second) {
    delta.ctx_.Insert(Dot{delta.ctx_.Intern(ctx_.actor(old.actor)), old.counter});
  }
  const Dot delta_dot{delta.ctx_.Intern(actor), dot.counter};
  delta.ctx_.Insert(delta_dot);
  delta.entries_.emplace(std::string(member), Dots{delta_dot});
  ctx_.Insert(dot);
  for (const Dot& old : it->second) index_.Erase(old);
  it->second = Dots{dot};
  index_.Put(dot, &it->first);
  return delta;
}

ORSet ORSet::Remove(std::string_view member) {
  ORSet delta;
  auto it = entries_.find(member);
  if (it == entries_.end()) return delta;
  for (const Dot& old : it->second) {
    delta.ctx_.Insert(Dot{delta.ctx_.Intern(ctx_.actor(old.actor)), old.counter});
    index_.Erase(old);
  }
  entries_.erase(it);
  return delta;
}

ORSet ORSet::Reset() {
  ORSet delta;
  delta.ctx_ = ctx_;
  entries_.clear();
  index_.Clear();
  return delta;
}

void ORSet::Join(const ORSet& other) {
  const auto map = ctx_.MapActors(other.ctx_);
  // A small context (a delta's) is cheaper to walk than this set's members. Building the index
  // costs one walk, repaid by every later small join.
  if (other.ctx_.DotCount() <= entries_.size() / 4) {
    if (!index_.valid()) BuildIndex();
    JoinSmall(other, map);
  } else {
    JoinAll(other, map);
    index_.Invalidate();
  }
  ctx_.Join(other.ctx_, map);
}

void ORSet::BuildIndex() {
  index_.Invalidate();
  index_.MarkValid();
  for (const auto& [member, dots] : entries_) {
    for (const Dot& d : dots) index_.Put(d, &member);
  }
}

// The same rule as JoinAll, visiting only what can change: my dots that other's context covers
// (found through the index) and other's members. Every other member of mine keeps its dots.
void ORSet::JoinSmall(const ORSet& other, const std::vector<std::uint32_t>& map) {
  other.ctx_.ForEachDot([&](Dot od) {
    const Dot d{map[od.actor], od.counter};
    const std::string* member = index_.Find(d);
    if (member == nullptr) return;
    auto ot = other.entries_.find(*member);
    if (ot != other.entries_.end() &&
        std::find(ot->second.begin(), ot->second.end(), od) != ot->second.end()) {
      return;  // both hold it
    }
    auto it = entries_.find(*member);
    std::erase(it->second, d);
    index_.Erase(d);
    if (it->second.empty()) entries_.erase(it);
  });
  for (const auto& [member, dots] : other.entries_) {
    for (const Dot& od : dots) {
      const Dot d{map[od.actor], od.counter};
      if (ctx_.Contains(d)) continue;  // held here already, or removed here
      auto [it, fresh] = entries_.try_emplace(member);
      it->second.push_back(d);
      index_.Put(d, &it->first);
    }
  }
}

void ORSet::JoinAll(const ORSet& other, const std::vector<std::uint32_t>& map) {
  const auto inv = Inverse(map, ctx_.actor_count());
  auto other_saw = [&](Dot d) {
    return inv[d.actor] != kNoActor && other.ctx_.Contains(Dot{inv[d.actor], d.counter});
  };
  auto mapped = [&](Dot d) { return Dot{map[d.actor], d.counter}; };

  // A dot survives if both hold it, or if one holds it and the other never saw it. Walks both
  // member lists in order; ctx_ is still the pre-join context here.
  auto it = entries_.begin();
  auto ot = other.entries_.begin();
  while (it != entries_.end() || ot != other.entries_.end()) {
    if (ot == other.entries_.end() || (it != entries_.end() && it->first < ot->first)) {
      Dots& dots = it->second;
      std::erase_if(dots, other_saw);
      it = dots.empty() ? entries_.erase(it) : std::next(it);
    } else if (it == entries_.end() || ot->first < it->first) {
      Dots kept;
      for (const Dot& d : ot->second) {
        if (!ctx_.Contains(mapped(d))) kept.push_back(mapped(d));
      }
      if (!kept.empty()) entries_.emplace_hint(it, ot->first, std::move(kept));
      ++ot;
    } else {
      Dots theirs;
      for (const Dot& d : ot->second) theirs.push_back(mapped(d));
      Dots merged;
      for (const Dot& d : it->second) {
        if (std::find(theirs.begin(), theirs.end(), d) != theirs.end() || !other_saw(d)) {
          merged.push_back(d);
        }
      }
      for (const Dot& d : theirs) {
        if (std::find(it->second.begin(), it->second.end(), d) == it->second.end() &&
            !ctx_.Contains(d)) {
          merged.push_back(d);
        }
      }
      if (merged.empty()) {
        it = entries_.erase(it);
      } else {
        it->second = std::move(merged);
        ++it;
      }
      ++ot;
    }
  }
}

const ORSet::Dots* ORSet::Find(std::string_view member) const {
  auto it = entries_.find(member);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> ORSet::Members() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [member, dots] : entries_) out.push_back(member);
  return out;
}

std::string ORSet::Encode() const {
  std::string out(1, kTag);
  const auto rank = ctx_.Ranks();
  ctx_.EncodeTo(&out, rank);
  wire::PutVarint(&out, entries_.size());
  Dots sorted;
  for (const auto& [member, dots] : entries_) {
    wire::PutBytes(&out, member);
    sorted = dots;
    std::sort(sorted.begin(), sorted.end(), [&](Dot x, Dot y) {
      return std::pair(rank[x.actor], x.counter) < std::pair(rank[y.actor], y.counter);
    });
    wire::PutVarint(&out, sorted.size());
    for (const Dot& d : sorted) dots::Put(&out, rank, d);
  }
  return out;
}

bool ORSet::JoinEncoded(std::string_view encoded, const ORSet& delta, std::string* out,
                        std::size_t* size) {
  std::vector<encoded::Entry<1>> entries;
  entries.reserve(delta.entries_.size());
  for (const auto& [member, dots] : delta.entries_) {
    encoded::Entry<1>& entry = entries.emplace_back();
    entry.name = member;
    for (const Dot& d : dots) entry.lists[0].push_back(encoded::Item{d, {}});
  }
  auto no_payload = [](int, std::string_view*) { return true; };
  return encoded::Join<1>(kTag, encoded, delta.ctx_, entries, no_payload, out, size);
}

bool ORSet::Decode(std::string_view bytes, ORSet* set) {
  *set = ORSet();
  std::string_view in = bytes;
  if (in.empty() || in.front() != kTag) return false;
  in.remove_prefix(1);
  if (!CausalContext::DecodeFrom(&in, &set->ctx_)) return false;
  std::uint64_t n;
  if (!wire::GetVarint(&in, &n) || n > in.size()) return false;
  dots::UniqueCheck unique;
  std::string_view prev;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view member;
    if (!wire::GetBytes(&in, &member, kMaxMemberLength)) return false;
    if (i > 0 && !(prev < member)) return false;
    prev = member;
    std::uint64_t count;
    if (!wire::GetVarint(&in, &count) || count == 0 || count > in.size()) return false;
    Dots dots;
    for (std::uint64_t j = 0; j < count; ++j) {
      Dot d;
      if (!dots::Get(&in, set->ctx_, &d)) return false;
      if (!dots.empty() && !(dots.back() < d)) return false;  // (rank, counter) order
      dots.push_back(d);
      unique.Add(d);
    }
    set->entries_.emplace_hint(set->entries_.end(), std::string(member), std::move(dots));
  }
  return in.empty() && unique.Ok();
}

}  // namespace dynakv::crdt
