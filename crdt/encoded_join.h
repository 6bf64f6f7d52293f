// The join of a small delta into a dotted value that stays in its encoded form (ORSet::JoinEncoded,
// FieldStore::JoinEncoded): what a replica does for every SADD, HSET or ZADD that reaches it.
// Decoding the whole value into maps of strings, joining and encoding it again costs allocations
// per element; this walks the encoding once instead, copying every element the delta cannot touch
// as raw bytes, and writes exactly the bytes Encode() of the decoded join would (the canonical
// form), so replicas stay byte-identical whichever path joined what.
//
// Both encodings have one shape: tag, causal context, element count, then per element its name
// and `kLists` lists of dotted items (ORSet: one list of bare dots; FieldStore: registers, then
// totals), each list a varint count and items sorted by (actor rank, counter), an item being its
// dot followed by a payload whose extent the caller's `skip` finds. The rules are JoinAll's: an
// item both sides hold stays, one side's stays when the other side never saw its dot.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/causal_context.h"
#include "wire.h"

namespace dynakv::crdt::encoded {

struct Item {
  Dot dot;  // actor: an index of the joined context (encoded: the stored value's rank)
  std::string_view payload;  // the encoded bytes after the dot
};
template <int kLists>
struct Entry {
  std::string_view name;
  std::array<std::vector<Item>, kLists> lists;
};

// `delta`: the delta's elements in byte order of name, dots in indexes of `delta_ctx`, payloads
// encoded. `skip(list, &in)` consumes one item's payload of list `list`. *out gets the joined
// encoding and *count its number of elements. False when `stored` is not such an encoding.
template <int kLists, typename Skip>
bool Join(char tag, std::string_view stored, const CausalContext& delta_ctx,
          const std::vector<Entry<kLists>>& delta, Skip skip, std::string* out,
          std::size_t* count) {
  std::string_view in = stored;
  if (in.empty() || in.front() != tag) return false;
  in.remove_prefix(1);
  CausalContext mine;  // decoded: indexes are the stored ranks
  if (!CausalContext::DecodeFrom(&in, &mine)) return false;
  std::uint64_t n;
  if (!wire::GetVarint(&in, &n) || n > in.size()) return false;
  const std::size_t known = mine.actor_count();
  CausalContext joined = mine;
  const std::vector<std::uint32_t> map = joined.MapActors(delta_ctx);
  joined.Join(delta_ctx, map);
  std::vector<std::uint32_t> inv(joined.actor_count(), kNoActor);
  for (std::uint32_t i = 0; i < map.size(); ++i) inv[map[i]] = i;
  const std::vector<std::uint32_t> rank = joined.Ranks();
  // A new actor sorting before a known one shifts the ranks every stored dot is written with.
  bool same_ranks = true;
  for (std::uint32_t i = 0; i < known; ++i) same_ranks = same_ranks && rank[i] == i;
  auto delta_saw = [&](Dot d) {
    return inv[d.actor] != kNoActor && delta_ctx.Contains(Dot{inv[d.actor], d.counter});
  };
  auto mine_saw = [&](Dot d) { return d.actor < known && mine.Contains(d); };
  auto holds = [](const std::vector<Item>& items, Dot d) {
    return std::any_of(items.begin(), items.end(), [&](const Item& x) { return x.dot == d; });
  };

  std::string body;
  body.reserve(in.size() + 64);
  *count = 0;
  auto emit = [&](std::string_view name, std::array<std::vector<Item>, kLists>& lists) {
    if (std::all_of(lists.begin(), lists.end(), [](const auto& l) { return l.empty(); })) return;
    wire::PutBytes(&body, name);
    for (std::vector<Item>& items : lists) {
      std::sort(items.begin(), items.end(), [&](const Item& x, const Item& y) {
        return std::pair(rank[x.dot.actor], x.dot.counter) <
               std::pair(rank[y.dot.actor], y.dot.counter);
      });
      wire::PutVarint(&body, items.size());
      for (const Item& item : items) {
        wire::PutVarint(&body, rank[item.dot.actor]);
        wire::PutVarint(&body, item.dot.counter);
        body.append(item.payload);
      }
    }
    ++*count;
  };
  // The delta's element, its dots moved into the joined context's indexes.
  auto theirs = [&](const Entry<kLists>& entry) {
    std::array<std::vector<Item>, kLists> lists = entry.lists;
    for (std::vector<Item>& items : lists) {
      for (Item& item : items) item.dot.actor = map[item.dot.actor];
    }
    return lists;
  };
  auto only_theirs = [&](const Entry<kLists>& entry) {
    std::array<std::vector<Item>, kLists> lists = theirs(entry);
    for (std::vector<Item>& items : lists) {
      std::erase_if(items, [&](const Item& x) { return mine_saw(x.dot); });
    }
    emit(entry.name, lists);
  };

  std::size_t next = 0;  // the delta's next element
  std::array<std::vector<Item>, kLists> lists;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string_view start = in;
    std::string_view name;
    if (!wire::GetBytes(&in, &name, in.size())) return false;
    bool touched = false;  // an item of this element is one the delta saw
    for (int l = 0; l < kLists; ++l) {
      std::uint64_t items;
      if (!wire::GetVarint(&in, &items) || items > in.size()) return false;
      lists[l].clear();
      for (std::uint64_t j = 0; j < items; ++j) {
        std::uint64_t actor, counter;
        if (!wire::GetVarint(&in, &actor) || !wire::GetVarint(&in, &counter) || actor >= known) {
          return false;
        }
        const Dot d{static_cast<std::uint32_t>(actor), counter};
        const std::string_view at = in;
        if (!skip(l, &in)) return false;
        lists[l].push_back(Item{d, at.substr(0, at.size() - in.size())});
        touched = touched || delta_saw(d);
      }
    }
    while (next < delta.size() && delta[next].name < name) only_theirs(delta[next++]);
    if (next < delta.size() && delta[next].name == name) {
      const std::array<std::vector<Item>, kLists> other = theirs(delta[next++]);
      for (int l = 0; l < kLists; ++l) {
        std::vector<Item> merged;
        for (const Item& x : lists[l]) {
          if (holds(other[l], x.dot) || !delta_saw(x.dot)) merged.push_back(x);
        }
        for (const Item& y : other[l]) {
          if (!holds(lists[l], y.dot) && !mine_saw(y.dot)) merged.push_back(y);
        }
        lists[l] = std::move(merged);
      }
      emit(name, lists);
    } else if (!touched && same_ranks) {
      body.append(start.substr(0, start.size() - in.size()));  // as stored
      ++*count;
    } else {
      for (std::vector<Item>& items : lists) {
        std::erase_if(items, [&](const Item& x) { return delta_saw(x.dot); });
      }
      emit(name, lists);
    }
  }
  if (!in.empty()) return false;
  while (next < delta.size()) only_theirs(delta[next++]);

  out->clear();
  out->reserve(body.size() + 64);
  out->push_back(tag);
  joined.EncodeTo(out, rank);
  wire::PutVarint(out, *count);
  out->append(body);
  return true;
}

}  // namespace dynakv::crdt::encoded
