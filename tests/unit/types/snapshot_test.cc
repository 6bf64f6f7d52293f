// Checkpoint snapshots of lists and sorted sets (storage/object.h's StartSnapshot): what one
// serializes is the value's Serialize() form as it was when it started, whatever the owner wrote
// meanwhile, in turn on one thread or at the same time on two; compact encodings have none (they
// are serialized whole, as before).
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "types/list.h"
#include "types/sorted_set.h"

namespace dynakv::types {

namespace {

std::vector<std::string> Contents(const List& list) {
  std::vector<std::string> out;
  list.ForRange(0, list.size(), [&](std::string_view e) {
    out.emplace_back(e);
    return true;
  });
  return out;
}

std::string Serialized(const storage::ValueObject& v) {
  std::string out;
  v.Serialize(&out);
  return out;
}

std::string SnapshotForm(storage::ObjectSnapshot* snapshot) {
  std::string out;
  snapshot->Serialize(&out);
  return out;
}

TypeLimits ListLimits(long long fill, std::size_t depth) {
  TypeLimits limits;
  limits.list_max_listpack_size = fill;
  limits.list_compress_depth = depth;
  return limits;
}

}  // namespace

TEST_CASE("list snapshot: a one-node list has none; a longer one is the list as it was") {
  for (const std::size_t depth : {0u, 1u}) {
    CAPTURE(depth);
    const TypeLimits limits = ListLimits(8, depth);
    List small;
    for (int i = 0; i < 8; ++i) small.PushBack("s" + std::to_string(i), limits);
    CHECK(small.StartSnapshot() == nullptr);

    // 4,004 elements of 8 a node: 501 nodes, the last one half full.
    List list;
    std::deque<std::string> model;
    for (int i = 0; i < 4004; ++i) {
      list.PushBack("element-" + std::to_string(i), limits);
      model.push_back("element-" + std::to_string(i));
    }
    const std::string before = Serialized(list);
    std::unique_ptr<storage::ObjectSnapshot> snapshot = list.StartSnapshot();
    REQUIRE(snapshot != nullptr);
    // Changes of the snapshot's nodes in place that free none of them (so that without the
    // settling the serialization reads the changed list, not freed memory): pushes into the
    // half-full last node and at the front, pops that leave the last node one element, LSETs of
    // the same length anywhere.
    for (int i = 0; i < 4; ++i) {
      list.PushBack("late-" + std::to_string(i), limits);
      model.push_back("late-" + std::to_string(i));
    }
    for (int i = 0; i < 7; ++i) {
      CHECK(list.PopBack() == model.back());
      model.pop_back();
    }
    for (int i = 0; i < 100; ++i) {
      list.PushFront("front-" + std::to_string(i), limits);
      model.push_front("front-" + std::to_string(i));
    }
    for (std::size_t at = 100; at < model.size(); at += 37) {
      std::string changed = model[at];
      changed[0] = 'E';
      list.Set(at, changed, limits);
      model[at] = changed;
    }
    const std::string form = SnapshotForm(snapshot.get());
    list.EndSnapshot();
    CHECK(form == before);
    CHECK(Contents(list) == std::vector<std::string>(model.begin(), model.end()));
    CHECK(list.Consistent());
  }
}

TEST_CASE("list snapshot: pops through nodes, and edits that move nodes, after it started") {
  const TypeLimits limits = ListLimits(4, 1);
  List list;
  std::deque<std::string> model;
  for (int i = 0; i < 2000; ++i) {
    list.PushBack("v" + std::to_string(i), limits);
    model.push_back("v" + std::to_string(i));
  }
  const std::string before = Serialized(list);
  std::unique_ptr<storage::ObjectSnapshot> snapshot = list.StartSnapshot();
  REQUIRE(snapshot != nullptr);
  // Whole nodes popped at both ends (freed: settled first), pushes where they were, then a
  // LINSERT that splits a node in the middle and an LREM that empties some (the deque moves
  // nodes: everything is settled first), and pushes and pops after that.
  for (int i = 0; i < 301; ++i) {
    CHECK(list.PopFront() == model.front());
    model.pop_front();
    CHECK(list.PopBack() == model.back());
    model.pop_back();
  }
  for (int i = 0; i < 50; ++i) {
    list.PushFront("f" + std::to_string(i), limits);
    model.push_front("f" + std::to_string(i));
    list.PushBack("b" + std::to_string(i), limits);
    model.push_back("b" + std::to_string(i));
  }
  REQUIRE(list.Insert("v1000", "inserted", true, limits));
  model.insert(model.begin() + (std::find(model.begin(), model.end(), "v1000") - model.begin()),
               "inserted");
  for (int i = 1200; i < 1204; ++i) {
    REQUIRE(list.Remove(0, "v" + std::to_string(i), limits) == 1);
    model.erase(std::find(model.begin(), model.end(), "v" + std::to_string(i)));
  }
  for (int i = 0; i < 20; ++i) {
    list.PushFront("g" + std::to_string(i), limits);
    model.push_front("g" + std::to_string(i));
    CHECK(list.PopBack() == model.back());
    model.pop_back();
  }
  CHECK(SnapshotForm(snapshot.get()) == before);
  list.EndSnapshot();
  CHECK(Contents(list) == std::vector<std::string>(model.begin(), model.end()));
  CHECK(list.Consistent());
}

TEST_CASE("list snapshot: serialized on another thread while the owner pushes and pops") {
  for (const std::size_t depth : {0u, 2u}) {
    CAPTURE(depth);
    const TypeLimits limits = ListLimits(-1, depth);  // 4 KB nodes
    List list;
    std::deque<std::string> model;
    for (int i = 0; i < 100000; ++i) {
      list.PushBack("item:" + std::to_string(i), limits);
      model.push_back("item:" + std::to_string(i));
    }
    REQUIRE(list.node_count() > 100);
    const std::string before = Serialized(list);
    std::unique_ptr<storage::ObjectSnapshot> snapshot = list.StartSnapshot();
    REQUIRE(snapshot != nullptr);
    std::string form;
    std::thread serializer([&] { snapshot->Serialize(&form); });
    std::mt19937_64 rng(5);
    for (int i = 0; i < 150000; ++i) {
      const std::string e = "new:" + std::to_string(i);
      switch (rng() % 5) {
        case 0:
          list.PushFront(e, limits);
          model.push_front(e);
          break;
        case 1:
          list.PushBack(e, limits);
          model.push_back(e);
          break;
        case 2:
          REQUIRE(list.PopFront() == model.front());
          model.pop_front();
          break;
        case 3:
          REQUIRE(list.PopBack() == model.back());
          model.pop_back();
          break;
        default: {  // LSET of the same length: the node changes in place
          const std::size_t at = rng() % model.size();
          std::string changed = model[at];
          changed.back() = changed.back() == 'x' ? 'y' : 'x';
          list.Set(at, changed, limits);
          model[at] = changed;
        }
      }
    }
    serializer.join();
    list.EndSnapshot();
    CHECK(form == before);
    CHECK(Contents(list) == std::vector<std::string>(model.begin(), model.end()));
    CHECK(list.Consistent());
  }
}

TEST_CASE("sorted set snapshot: a listpack has none; a skiplist's form is the set as it was") {
  TypeLimits limits;
  SortedSet small;
  for (int i = 0; i < 10; ++i) small.Add("m" + std::to_string(i), i, limits);
  REQUIRE(small.EncodingName() == "listpack");
  CHECK(small.StartSnapshot() == nullptr);

  SortedSet z;
  for (int i = 0; i < 5000; ++i) z.Add("member:" + std::to_string(i), i % 100, limits);
  REQUIRE(z.EncodingName() == "skiplist");
  const std::string before = Serialized(z);
  std::unique_ptr<storage::ObjectSnapshot> snapshot = z.StartSnapshot();
  REQUIRE(snapshot != nullptr);
  std::string form;
  std::thread serializer([&] { snapshot->Serialize(&form); });
  for (int i = 0; i < 5000; i += 2) REQUIRE(z.Remove("member:" + std::to_string(i)));
  for (int i = 1; i < 5000; i += 2) z.Add("member:" + std::to_string(i), -i, limits);
  for (int i = 0; i < 5000; ++i) z.Add("later:" + std::to_string(i), i % 7, limits);
  serializer.join();
  z.EndSnapshot();
  CHECK(form == before);
  std::unique_ptr<SortedSet> back = SortedSet::Decode(form, limits);
  REQUIRE(back != nullptr);
  CHECK(back->size() == 5000);
  CHECK(back->Score("member:0") == 0.0);
  CHECK(back->EncodingName() == "skiplist");
  CHECK(z.size() == 2500 + 5000);
  CHECK(z.Score("member:1") == -1.0);
}

}  // namespace dynakv::types
