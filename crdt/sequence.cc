#include "crdt/sequence.h"

#include <algorithm>

#include "crdt/causal_context.h"
#include "wire.h"

namespace dynakv::crdt {

namespace {

constexpr char kTag = 'L';
constexpr std::uint64_t kMaxValue = std::uint64_t{1} << 29;  // Redis's proto-max-bulk-len

}  // namespace

std::uint32_t Sequence::Intern(std::string_view actor) {
  auto it = actor_index_.find(actor);
  if (it != actor_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(actors_.size());
  actors_.emplace_back(actor);
  actor_index_.emplace(std::string(actor), index);
  return index;
}

bool Sequence::Find(const Id& id, Key* key) const {
  auto it = actor_index_.find(id.actor);
  if (it == actor_index_.end()) return false;
  *key = Key{id.seq, it->second};
  return nodes_.count(*key) != 0;
}

bool Sequence::Before(Key a, Key b) const {
  if (a.seq != b.seq) return a.seq > b.seq;
  return actors_[a.actor] > actors_[b.actor];
}

const std::vector<Sequence::Key>& Sequence::Order() const {
  if (order_valid_) return order_;
  std::map<Key, std::vector<Key>> children;
  for (const auto& [key, node] : nodes_) children[node.origin].push_back(key);
  for (auto& [origin, keys] : children) {
    std::sort(keys.begin(), keys.end(), [&](Key a, Key b) { return Before(a, b); });
  }
  order_.clear();
  // Depth first from the head, iteratively: an RPUSH chain is as deep as the list is long.
  std::vector<Key> stack;
  auto push_children = [&](Key k) {
    auto it = children.find(k);
    if (it == children.end()) return;
    for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) stack.push_back(*c);
  };
  push_children(Key{0, 0});
  while (!stack.empty()) {
    const Key k = stack.back();
    stack.pop_back();
    order_.push_back(k);
    push_children(k);
  }
  order_valid_ = true;
  return order_;
}

Sequence Sequence::Insert(std::string_view actor, std::optional<Key> after, std::string_view value,
                          bool at_back) {
  const Key origin = after.value_or(Key{0, 0});
  const Key key{max_seq_ + 1, Intern(actor)};
  if (order_valid_) {
    // The new element has the largest seq here, so it is its origin's first child: right after
    // the origin in the order.
    if (at_back) {
      order_.push_back(key);
    } else if (origin.seq == 0) {
      order_.insert(order_.begin(), key);
    } else {
      auto it = std::find(order_.begin(), order_.end(), origin);
      if (it == order_.end()) {
        order_valid_ = false;  // an anchor not in the order (never arrived): rebuild later
      } else {
        order_.insert(std::next(it), key);
      }
    }
  }
  nodes_[key] = Node{origin, false, std::string(value)};
  max_seq_ = key.seq;
  ++visible_;

  Sequence delta;
  const Key delta_origin =
      origin.seq == 0 ? Key{0, 0} : Key{origin.seq, delta.Intern(actors_[origin.actor])};
  const Key delta_key{key.seq, delta.Intern(actor)};
  delta.nodes_[delta_key] = Node{delta_origin, false, std::string(value)};
  delta.max_seq_ = key.seq;
  delta.visible_ = 1;
  delta.order_valid_ = false;
  return delta;
}

Sequence Sequence::PushFront(std::string_view actor, std::string_view value) {
  return Insert(actor, std::nullopt, value, false);
}

Sequence Sequence::PushBack(std::string_view actor, std::string_view value) {
  const auto& order = Order();
  if (order.empty()) return Insert(actor, std::nullopt, value, true);
  return Insert(actor, order.back(), value, true);
}

Sequence Sequence::InsertAfter(std::string_view actor, const std::optional<Id>& after,
                               std::string_view value) {
  if (!after || after->seq == 0) return Insert(actor, std::nullopt, value, false);
  Key key;
  if (!Find(*after, &key)) key = Key{after->seq, Intern(after->actor)};
  const bool at_back = !Order().empty() && Order().back() == key;
  return Insert(actor, key, value, at_back);
}

Sequence Sequence::InsertBefore(std::string_view actor, const Id& before, std::string_view value) {
  Key key;
  if (!Find(before, &key)) return InsertAfter(actor, std::nullopt, value);
  const auto& order = Order();
  const auto it = std::find(order.begin(), order.end(), key);
  // The new element is its anchor's first child (the largest seq here): right after the anchor,
  // so right before `before`, which either is the anchor's first child until now or follows a
  // childless anchor.
  if (it == order.begin() || it == order.end()) return Insert(actor, std::nullopt, value, false);
  return Insert(actor, *std::prev(it), value, false);
}

Sequence Sequence::RemoveKey(Key key) {
  Sequence delta;
  auto it = nodes_.find(key);
  if (it == nodes_.end() || it->second.removed) return delta;
  Node& node = it->second;
  node.removed = true;
  node.value.clear();
  node.value.shrink_to_fit();
  --visible_;
  const Key delta_origin = node.origin.seq == 0
                               ? Key{0, 0}
                               : Key{node.origin.seq, delta.Intern(actors_[node.origin.actor])};
  delta.nodes_[Key{key.seq, delta.Intern(actors_[key.actor])}] = Node{delta_origin, true, {}};
  delta.max_seq_ = key.seq;
  delta.order_valid_ = false;
  return delta;
}

Sequence Sequence::Remove(const Id& id) {
  Key key;
  if (!Find(id, &key)) return Sequence();
  return RemoveKey(key);
}

Sequence Sequence::PopFront(std::optional<std::string>* value) {
  for (const Key& k : Order()) {
    const Node& node = nodes_.at(k);
    if (node.removed) continue;
    *value = node.value;
    return RemoveKey(k);
  }
  value->reset();
  return Sequence();
}

Sequence Sequence::PopBack(std::optional<std::string>* value) {
  const auto& order = Order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& node = nodes_.at(*it);
    if (node.removed) continue;
    *value = node.value;
    return RemoveKey(*it);
  }
  value->reset();
  return Sequence();
}

Sequence Sequence::Reset() {
  Sequence delta;
  std::vector<Key> present;
  for (const auto& [key, node] : nodes_) {
    if (!node.removed) present.push_back(key);
  }
  for (const Key& key : present) delta.Join(RemoveKey(key));
  return delta;
}

void Sequence::Join(const Sequence& other) {
  for (const auto& [okey, onode] : other.nodes_) {
    const Key key{okey.seq, Intern(other.actors_[okey.actor])};
    auto it = nodes_.find(key);
    if (it == nodes_.end()) {
      Node node = onode;
      node.origin = onode.origin.seq == 0
                        ? Key{0, 0}
                        : Key{onode.origin.seq, Intern(other.actors_[onode.origin.actor])};
      nodes_.emplace(key, std::move(node));
      if (!onode.removed) ++visible_;
      order_valid_ = false;
    } else if (onode.removed && !it->second.removed) {
      it->second.removed = true;
      it->second.value.clear();
      --visible_;
    }
    max_seq_ = std::max(max_seq_, key.seq);
  }
}

std::vector<std::pair<Sequence::Id, std::string>> Sequence::Elements() const {
  std::vector<std::pair<Id, std::string>> out;
  for (const Key& k : Order()) {
    const Node& node = nodes_.at(k);
    if (!node.removed) out.emplace_back(ToId(k), node.value);
  }
  return out;
}

std::vector<std::pair<Sequence::Id, std::string>> Sequence::Present() const {
  std::vector<std::pair<Id, std::string>> out;
  for (const auto& [key, node] : nodes_) {
    if (!node.removed) out.emplace_back(ToId(key), node.value);
  }
  return out;
}

std::vector<Sequence::Id> Sequence::Removed() const {
  std::vector<Id> out;
  for (const auto& [key, node] : nodes_) {
    if (node.removed) out.push_back(ToId(key));
  }
  return out;
}

std::optional<Sequence::Id> Sequence::Origin(const Id& id) const {
  Key key;
  if (!Find(id, &key)) return std::nullopt;
  return ToId(nodes_.at(key).origin);
}

std::vector<std::string> Sequence::Values() const {
  std::vector<std::string> out;
  for (const Key& k : Order()) {
    const Node& node = nodes_.at(k);
    if (!node.removed) out.push_back(node.value);
  }
  return out;
}

std::string Sequence::Encode() const {
  // Actors that something refers to, in byte order.
  std::vector<bool> used(actors_.size(), false);
  for (const auto& [key, node] : nodes_) {
    used[key.actor] = true;
    if (node.origin.seq != 0) used[node.origin.actor] = true;
  }
  std::vector<std::uint32_t> by_name;
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    if (used[i]) by_name.push_back(i);
  }
  std::sort(by_name.begin(), by_name.end(),
            [&](std::uint32_t a, std::uint32_t b) { return actors_[a] < actors_[b]; });
  std::vector<std::uint32_t> rank(actors_.size(), kNoActor);
  for (std::uint32_t r = 0; r < by_name.size(); ++r) rank[by_name[r]] = r;

  std::string out(1, kTag);
  wire::PutVarint(&out, by_name.size());
  for (std::uint32_t i : by_name) wire::PutBytes(&out, actors_[i]);
  std::vector<const std::pair<const Key, Node>*> sorted;
  for (const auto& entry : nodes_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [&](auto* a, auto* b) {
    return std::pair(a->first.seq, rank[a->first.actor]) <
           std::pair(b->first.seq, rank[b->first.actor]);
  });
  wire::PutVarint(&out, sorted.size());
  for (const auto* entry : sorted) {
    const Key& key = entry->first;
    const Node& node = entry->second;
    wire::PutVarint(&out, key.seq);
    wire::PutVarint(&out, rank[key.actor]);
    wire::PutVarint(&out, node.origin.seq);
    if (node.origin.seq != 0) wire::PutVarint(&out, rank[node.origin.actor]);
    if (node.removed) {
      wire::PutVarint(&out, 0);
    } else {
      wire::PutVarint(&out, 1);
      wire::PutBytes(&out, node.value);
    }
  }
  return out;
}

bool Sequence::Decode(std::string_view bytes, Sequence* seq) {
  *seq = Sequence();
  std::string_view in = bytes;
  if (in.empty() || in.front() != kTag) return false;
  in.remove_prefix(1);
  std::uint64_t n;
  // No kMaxActors bound here: every element written through a coordinator's read-modify-write
  // path (LMOVE, a transaction) is named by an actor of that one write, which its tombstone keeps,
  // so a long-lived list can name more. Each actor takes two bytes at least: `in` bounds them.
  if (!wire::GetVarint(&in, &n) || n > in.size()) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view id;
    if (!wire::GetBytes(&in, &id, kMaxActorIdLength) || id.empty()) return false;
    if (i > 0 && !(seq->actors_.back() < id)) return false;
    seq->Intern(id);
  }
  std::vector<bool> used(n, false);
  std::uint64_t count;
  if (!wire::GetVarint(&in, &count) || count > in.size()) return false;
  Key prev{0, 0};
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t s, a, os, oa = 0, flag;
    if (!wire::GetVarint(&in, &s) || !wire::GetVarint(&in, &a) || !wire::GetVarint(&in, &os)) {
      return false;
    }
    if (s == 0 || s > kMaxCounter || a >= n || os >= s) return false;  // an origin is older
    if (os != 0 && (!wire::GetVarint(&in, &oa) || oa >= n)) return false;
    const Key key{s, static_cast<std::uint32_t>(a)};
    if (i > 0 && !(prev < key)) return false;  // decoded indexes are ranks
    prev = key;
    Node node;
    node.origin = os == 0 ? Key{0, 0} : Key{os, static_cast<std::uint32_t>(oa)};
    if (!wire::GetVarint(&in, &flag) || flag > 1) return false;
    node.removed = flag == 0;
    if (!node.removed) {
      std::string_view value;
      if (!wire::GetBytes(&in, &value, kMaxValue)) return false;
      node.value.assign(value);
      ++seq->visible_;
    }
    used[a] = true;
    if (os != 0) used[oa] = true;
    seq->max_seq_ = std::max(seq->max_seq_, s);
    seq->nodes_.emplace_hint(seq->nodes_.end(), key, std::move(node));
  }
  seq->order_valid_ = false;
  return in.empty() && std::all_of(used.begin(), used.end(), [](bool u) { return u; });
}

}  // namespace dynakv::crdt
