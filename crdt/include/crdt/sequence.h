// A sequence CRDT for Redis lists (RGA, Roh et al.; the tree form of Causal Trees): concurrent
// pushes through different nodes are all kept, and every replica orders them the same way.
//
// Each element has an id (seq, actor), where seq is a Lamport clock: one past the largest seq
// the inserting replica has seen, so an element's seq exceeds that of everything its writer had
// seen. An element is inserted right after an origin element (or the head). The order is a
// depth-first walk from the head in which the elements inserted after the same origin come
// largest (seq, actor id) first. So:
//   - LPUSH inserts after the head: it comes first, before every element its writer had seen;
//     concurrent LPUSHes come first, the larger (seq, actor id) ahead;
//   - RPUSH inserts after the last element (removed ones included): concurrent RPUSHes after
//     the same last element are all kept, the larger (seq, actor id) first;
//   - a removed element (LPOP, RPOP, LREM) leaves a small tombstone (id and origin, no value)
//     because later elements may be anchored on it; tombstones are not collected yet.
// Pops under partition: two nodes popping concurrently can both pop the same element (each
// removes what it saw), and an element pushed concurrently with a pop is never lost. A join is
// the union of elements, removed winning over present: commutative, associative, idempotent.
// An element whose origin has not arrived yet (a delta delivered early) is kept but not visible
// until it does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynakv::crdt {

class Sequence {
 public:
  struct Id {
    std::uint64_t seq = 0;  // 0: the head
    std::string actor;
    auto operator<=>(const Id&) const = default;
  };

  Sequence PushFront(std::string_view actor, std::string_view value);  // LPUSH of one value
  Sequence PushBack(std::string_view actor, std::string_view value);   // RPUSH of one value
  // LINSERT AFTER `after` (nullopt: the head, i.e. at the front); an unknown or removed `after`
  // is still a valid anchor here, as it is on every replica.
  Sequence InsertAfter(std::string_view actor, const std::optional<Id>& after,
                       std::string_view value);
  // LINSERT BEFORE `before` (an element here): anchored on what precedes it in the order
  // (removed elements included; the head when nothing does), so it lands right before it here and
  // before it on every replica (an element inserted concurrently after that anchor may come
  // between them).
  Sequence InsertBefore(std::string_view actor, const Id& before, std::string_view value);
  // LPOP/RPOP/LREM of one element: an empty delta when it is not visible here.
  Sequence Remove(const Id& id);
  // LPOP / RPOP: the front or back visible element's removal, nullopt-valued when empty.
  Sequence PopFront(std::optional<std::string>* value);
  Sequence PopBack(std::optional<std::string>* value);
  // DEL / EXPIRE of the list: removes every element it saw (the delta holds a tombstone for
  // each, since elements pushed concurrently may be anchored on them); a concurrent push stays.
  Sequence Reset();
  // Union of elements, removed winning: O(|other| log |this|). Adding elements invalidates the
  // cached order, which the next push or view rebuilds in O(n log n); local pushes keep it.
  void Join(const Sequence& other);

  std::vector<std::pair<Id, std::string>> Elements() const;  // visible, in list order
  std::vector<std::string> Values() const;
  std::size_t size() const { return visible_; }
  // Introspection (tests, DEBUG): by id, the elements present (those waiting for their anchor
  // too: an insert's delta holds one) and the tombstones (a removal's delta holds one), and the
  // anchor an element was inserted after (an Id with seq 0 for the head; nullopt if `id` is
  // not here).
  std::vector<std::pair<Id, std::string>> Present() const;
  std::vector<Id> Removed() const;
  std::optional<Id> Origin(const Id& id) const;
  bool empty() const { return nodes_.empty(); }

  // Canonical encoding: tag 'L', the actor ids (byte order), then every element by (seq,
  // actor): seq, actor rank, origin (seq, and actor rank unless the head), and a tombstone flag
  // or the value. Decode accepts only what Encode writes.
  std::string Encode() const;
  static bool Decode(std::string_view bytes, Sequence* seq);

 private:
  struct Key {
    std::uint64_t seq;
    std::uint32_t actor;  // index into actors_
    auto operator<=>(const Key&) const = default;
  };
  struct Node {
    Key origin{0, 0};
    bool removed = false;
    std::string value;  // empty when removed
  };

  std::uint32_t Intern(std::string_view actor);
  Id ToId(Key k) const { return Id{k.seq, k.seq == 0 ? std::string() : actors_[k.actor]}; }
  bool Find(const Id& id, Key* key) const;
  // Keys of every element (removed too) in list order: what pushes anchor on and views walk.
  const std::vector<Key>& Order() const;
  Sequence Insert(std::string_view actor, std::optional<Key> after, std::string_view value,
                  bool at_back);
  Sequence RemoveKey(Key key);
  bool Before(Key a, Key b) const;  // sibling order: larger (seq, actor id) first

  std::vector<std::string> actors_;
  std::map<std::string, std::uint32_t, std::less<>> actor_index_;
  std::map<Key, Node> nodes_;
  std::uint64_t max_seq_ = 0;
  std::size_t visible_ = 0;
  mutable std::vector<Key> order_;  // cache of Order(), valid when order_valid_
  mutable bool order_valid_ = true;
};

}  // namespace dynakv::crdt
