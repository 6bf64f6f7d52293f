// The causal context of a convergent value: which writes (dots) it has seen, whether they are
// still visible or were since removed. This is what lets a value forget removed elements without
// keeping tombstones: an element's dot that the context covers but the value no longer holds was
// removed, so a merge with an older copy that still holds it does not bring it back.
//
// Actors are node incarnation ids (strings). A value names each actor once, here, and everything
// else refers to it by index, so a dot costs two small varints however long the actor id is.
//
// The context is a version vector (every dot of an actor up to vv[a] seen) plus a "cloud" of dots
// seen out of order, which deltas delivered out of order or partially leave behind. Insert and
// Join fold the cloud back into the vector as soon as the gaps fill, so the form is canonical:
// two contexts covering the same set of dots are identical, and so are their encodings.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::crdt {

// One write: the `counter`-th event of actor `actor` (an index into a CausalContext's actors).
struct Dot {
  std::uint32_t actor = 0;
  std::uint64_t counter = 0;  // >= 1
  auto operator<=>(const Dot&) const = default;
};

inline constexpr std::uint32_t kNoActor = 0xffffffffu;
// Decoders refuse more actors than this (a cluster has far fewer incarnations per key) and
// longer actor ids, so garbage cannot make them allocate without bound.
inline constexpr std::size_t kMaxActors = 1 << 16;
inline constexpr std::size_t kMaxActorIdLength = 255;
// No actor writes 2^62 times; the bound keeps Next() from ever wrapping to counter 0.
inline constexpr std::uint64_t kMaxCounter = std::uint64_t{1} << 62;

class CausalContext {
 public:
  // The index of `actor`, adding it if new (indexes are stable for the context's lifetime).
  std::uint32_t Intern(std::string_view actor);
  // kNoActor when `actor` is not known here.
  std::uint32_t Find(std::string_view actor) const;
  const std::string& actor(std::uint32_t index) const { return actors_[index]; }
  std::size_t actor_count() const { return actors_.size(); }

  bool Contains(Dot dot) const;
  // Records `dot` as seen (keeps the canonical form).
  void Insert(Dot dot);
  // The next dot of `actor`: one past the largest counter seen from it.
  Dot Next(std::uint32_t actor) const;
  bool empty() const;  // no dot seen at all
  // How many dots the context covers (saturating), and each of them: what a join has to look
  // at when this context is small (a delta's).
  std::uint64_t DotCount() const;
  void ForEachDot(const std::function<void(Dot)>& fn) const;

  // For each actor index of `other`, the index of the same actor here (interning those that are
  // new), so dots of `other` can be compared with and copied into this context.
  std::vector<std::uint32_t> MapActors(const CausalContext& other);
  // Adds every dot of `other` (`map` from MapActors). Union: commutative, associative,
  // idempotent.
  void Join(const CausalContext& other, const std::vector<std::uint32_t>& map);

  // Canonical encoding. Actors are written in byte order of their ids, and only those with a
  // dot; `rank` (from Ranks) maps an index here to its position in that order, so the values'
  // encoders write dots against it.
  std::vector<std::uint32_t> Ranks() const;
  void EncodeTo(std::string* dst, const std::vector<std::uint32_t>& rank) const;
  // Consumes one context from the front of *in, rejecting anything EncodeTo could not have
  // written (actors out of order or unused, a cloud dot the vector covers or could absorb...).
  // The decoded context's indexes equal the ranks.
  static bool DecodeFrom(std::string_view* in, CausalContext* ctx);

  std::string ToString() const;  // "{a:3,b:1 +b:4}", for test failures

 private:
  void Absorb(std::uint32_t actor);  // folds cloud dots that continue vv_[actor]

  std::vector<std::string> actors_;
  std::map<std::string, std::uint32_t, std::less<>> index_;
  std::vector<std::uint64_t> vv_;  // per actor index
  std::set<Dot> cloud_;            // each dot > vv_[actor] + 1
};

}  // namespace dynakv::crdt
