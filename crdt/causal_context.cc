#include "crdt/causal_context.h"

#include <algorithm>
#include <numeric>

#include "wire.h"

namespace dynakv::crdt {

std::uint32_t CausalContext::Intern(std::string_view actor) {
  auto it = index_.find(actor);
  if (it != index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(actors_.size());
  actors_.emplace_back(actor);
  index_.emplace(std::string(actor), index);
  vv_.push_back(0);
  return index;
}

std::uint32_t CausalContext::Find(std::string_view actor) const {
  auto it = index_.find(actor);
  return it == index_.end() ? kNoActor : it->second;
}

bool CausalContext::Contains(Dot dot) const {
  if (dot.actor >= vv_.size()) return false;
  return dot.counter <= vv_[dot.actor] || cloud_.count(dot) != 0;
}

void CausalContext::Absorb(std::uint32_t actor) {
  auto it = cloud_.lower_bound(Dot{actor, 0});
  while (it != cloud_.end() && it->actor == actor && it->counter <= vv_[actor] + 1) {
    vv_[actor] = std::max(vv_[actor], it->counter);
    it = cloud_.erase(it);
  }
}

void CausalContext::Insert(Dot dot) {
  if (dot.counter <= vv_[dot.actor]) return;
  if (dot.counter == vv_[dot.actor] + 1) {
    vv_[dot.actor] = dot.counter;
    Absorb(dot.actor);
  } else {
    cloud_.insert(dot);
  }
}

Dot CausalContext::Next(std::uint32_t actor) const {
  std::uint64_t top = vv_[actor];
  auto it = cloud_.lower_bound(Dot{actor + 1, 0});
  if (it != cloud_.begin() && std::prev(it)->actor == actor) top = std::prev(it)->counter;
  return Dot{actor, top + 1};
}

bool CausalContext::empty() const {
  return cloud_.empty() && std::all_of(vv_.begin(), vv_.end(), [](auto c) { return c == 0; });
}

std::uint64_t CausalContext::DotCount() const {
  std::uint64_t n = cloud_.size();
  for (std::uint64_t c : vv_) n = c >= kMaxCounter || n >= kMaxCounter - c ? kMaxCounter : n + c;
  return n;
}

void CausalContext::ForEachDot(const std::function<void(Dot)>& fn) const {
  for (std::uint32_t a = 0; a < vv_.size(); ++a) {
    for (std::uint64_t c = 1; c <= vv_[a]; ++c) fn(Dot{a, c});
  }
  for (const Dot& d : cloud_) fn(d);
}

std::vector<std::uint32_t> CausalContext::MapActors(const CausalContext& other) {
  std::vector<std::uint32_t> map(other.actors_.size());
  for (std::size_t i = 0; i < other.actors_.size(); ++i) map[i] = Intern(other.actors_[i]);
  return map;
}

void CausalContext::Join(const CausalContext& other, const std::vector<std::uint32_t>& map) {
  for (std::size_t i = 0; i < other.vv_.size(); ++i) {
    const std::uint32_t a = map[i];
    if (other.vv_[i] > vv_[a]) {
      vv_[a] = other.vv_[i];
      // Cloud dots the raised vector now covers go, and the ones it reaches fold in.
      auto it = cloud_.lower_bound(Dot{a, 0});
      while (it != cloud_.end() && it->actor == a && it->counter <= vv_[a]) it = cloud_.erase(it);
      Absorb(a);
    }
  }
  for (const Dot& d : other.cloud_) Insert(Dot{map[d.actor], d.counter});
}

std::vector<std::uint32_t> CausalContext::Ranks() const {
  std::vector<std::uint32_t> used;
  std::vector<bool> has(actors_.size(), false);
  for (std::size_t i = 0; i < vv_.size(); ++i) has[i] = vv_[i] > 0;
  for (const Dot& d : cloud_) has[d.actor] = true;
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    if (has[i]) used.push_back(i);
  }
  std::sort(used.begin(), used.end(),
            [&](std::uint32_t x, std::uint32_t y) { return actors_[x] < actors_[y]; });
  std::vector<std::uint32_t> rank(actors_.size(), kNoActor);
  for (std::uint32_t r = 0; r < used.size(); ++r) rank[used[r]] = r;
  return rank;
}

// actors: varint n, n length-prefixed ids (ascending); vector: n varints (rank order); cloud:
// varint m, m (varint rank, varint counter) ascending.
void CausalContext::EncodeTo(std::string* dst, const std::vector<std::uint32_t>& rank) const {
  std::vector<std::uint32_t> by_rank;
  for (std::uint32_t i = 0; i < rank.size(); ++i) {
    if (rank[i] != kNoActor) by_rank.push_back(i);
  }
  std::sort(by_rank.begin(), by_rank.end(),
            [&](std::uint32_t x, std::uint32_t y) { return rank[x] < rank[y]; });
  wire::PutVarint(dst, by_rank.size());
  for (std::uint32_t i : by_rank) wire::PutBytes(dst, actors_[i]);
  for (std::uint32_t i : by_rank) wire::PutVarint(dst, vv_[i]);
  std::vector<Dot> cloud;
  cloud.reserve(cloud_.size());
  for (const Dot& d : cloud_) cloud.push_back(Dot{rank[d.actor], d.counter});
  std::sort(cloud.begin(), cloud.end());
  wire::PutVarint(dst, cloud.size());
  for (const Dot& d : cloud) {
    wire::PutVarint(dst, d.actor);
    wire::PutVarint(dst, d.counter);
  }
}

bool CausalContext::DecodeFrom(std::string_view* in, CausalContext* ctx) {
  *ctx = CausalContext();
  std::uint64_t n;
  if (!wire::GetVarint(in, &n) || n > kMaxActors || n > in->size()) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view id;
    if (!wire::GetBytes(in, &id, kMaxActorIdLength) || id.empty()) return false;
    if (i > 0 && !(ctx->actors_.back() < id)) return false;
    ctx->Intern(id);
  }
  std::vector<bool> used(n, false);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!wire::GetVarint(in, &ctx->vv_[i]) || ctx->vv_[i] > kMaxCounter) return false;
    used[i] = ctx->vv_[i] > 0;
  }
  std::uint64_t m;
  if (!wire::GetVarint(in, &m) || m > in->size()) return false;
  Dot prev{0, 0};
  for (std::uint64_t i = 0; i < m; ++i) {
    std::uint64_t actor, counter;
    if (!wire::GetVarint(in, &actor) || !wire::GetVarint(in, &counter)) return false;
    if (actor >= n) return false;
    const Dot d{static_cast<std::uint32_t>(actor), counter};
    // A cloud dot sits strictly past the gap after the vector (else it would have folded in).
    if (counter <= ctx->vv_[actor] + 1 || counter > kMaxCounter) return false;
    if (i > 0 && !(prev < d)) return false;
    ctx->cloud_.insert(ctx->cloud_.end(), d);
    used[actor] = true;
    prev = d;
  }
  return std::all_of(used.begin(), used.end(), [](bool u) { return u; });
}

std::string CausalContext::ToString() const {
  std::string out = "{";
  for (std::size_t i = 0; i < actors_.size(); ++i) {
    if (i > 0) out += ",";
    out += actors_[i] + ":" + std::to_string(vv_[i]);
  }
  for (const Dot& d : cloud_) out += " +" + actors_[d.actor] + ":" + std::to_string(d.counter);
  return out + "}";
}

}  // namespace dynakv::crdt
