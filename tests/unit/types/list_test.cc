// Lists: node splitting by Redis's list-max-listpack-size, every operation checked against a
// std::deque model under random sequences, the serialized form and element operations.
#include "types/list.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "types/codec.h"
#include "types/ops.h"

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

std::vector<std::string> Reversed(const List& list) {
  std::vector<std::string> out;
  list.ForEachReverse([&](std::string_view e) {
    out.emplace_back(e);
    return true;
  });
  return out;
}

TypeLimits Fill(long long fill) {
  TypeLimits limits;
  limits.list_max_listpack_size = fill;
  return limits;
}

}  // namespace

TEST_CASE("list-max-listpack-size maps to Redis's node limits") {
  CHECK(ListFillOf(-1).max_bytes == 4096);
  CHECK(ListFillOf(-2).max_bytes == 8192);
  CHECK(ListFillOf(-5).max_bytes == 65536);
  CHECK(ListFillOf(-100).max_bytes == 65536);  // clamped as Redis does
  CHECK(ListFillOf(0).max_bytes == 4096);
  CHECK(ListFillOf(7).max_entries == 7);
  CHECK(ListFillOf(7).max_bytes == 8192);  // the safety limit still holds
}

TEST_CASE("a small list is one node; a large one splits at the node limit") {
  List list;
  const TypeLimits limits = Fill(-2);
  for (int i = 0; i < 100; ++i) list.PushBack("element" + std::to_string(i), limits);
  CHECK(list.compact());
  CHECK(list.node_count() == 1);
  for (int i = 0; i < 2000; ++i) list.PushBack(std::string(100, 'x'), limits);
  CHECK(!list.compact());
  // 8 KB nodes of ~102-byte entries: about 80 per node.
  CHECK(list.node_count() >= 2100 * 102 / 8192);
  CHECK(list.node_count() <= 2100 * 102 / 8192 + 3);
  CHECK(list.EncodingName() == "quicklist");

  List counted;
  for (int i = 0; i < 10; ++i) counted.PushFront("e", Fill(3));
  CHECK(counted.node_count() == 4);
  // A huge element gets a node of its own.
  List huge;
  huge.PushBack("a", Fill(-1));
  huge.PushBack(std::string(10000, 'h'), Fill(-1));
  huge.PushBack("b", Fill(-1));
  CHECK(huge.node_count() == 3);
  CHECK(huge.At(1).size() == 10000);
}

TEST_CASE("random list operations match a deque model, and survive serialization") {
  for (long long fill : {-2LL, -1LL, 1LL, 3LL, 5LL}) {
    CAPTURE(fill);
    const TypeLimits limits = Fill(fill);
    std::mt19937_64 rng(static_cast<std::uint64_t>(fill + 100));
    List list;
    std::deque<std::string> model;
    auto element = [&] {
      switch (rng() % 8) {
        case 0:
          return std::string(rng() % 3000, 'x');
        case 1:
          return std::string();
        default:
          return "e" + std::to_string(rng() % 6);
      }
    };
    for (int step = 0; step < 20000; ++step) {
      const int action = static_cast<int>(rng() % 10);
      CAPTURE(step);
      CAPTURE(action);
      if (action <= 2 || model.empty()) {
        const std::string e = element();
        if (rng() % 2 == 0) {
          list.PushFront(e, limits);
          model.push_front(e);
        } else {
          list.PushBack(e, limits);
          model.push_back(e);
        }
      } else if (action == 3) {
        CHECK(list.PopFront() == model.front());
        model.pop_front();
      } else if (action == 4) {
        CHECK(list.PopBack() == model.back());
        model.pop_back();
      } else if (action == 5) {
        const std::size_t i = rng() % model.size();
        REQUIRE(list.At(i) == model[i]);
        const std::string e = element();
        list.Set(i, e, limits);
        model[i] = e;
      } else if (action == 6) {
        const std::string pivot = element();
        const std::string e = element();
        const bool before = rng() % 2 == 0;
        auto it = std::find(model.begin(), model.end(), pivot);
        CHECK(list.Insert(pivot, e, before, limits) == (it != model.end()));
        if (it != model.end()) model.insert(before ? it : it + 1, e);
      } else if (action == 7) {
        const std::string e = element();
        const long long count = static_cast<long long>(rng() % 5) - 2;
        std::size_t want = 0;
        if (count >= 0) {
          for (auto it = model.begin(); it != model.end();) {
            if (*it == e && (count == 0 || want < static_cast<std::size_t>(count))) {
              it = model.erase(it);
              ++want;
            } else {
              ++it;
            }
          }
        } else {
          for (std::size_t i = model.size(); i-- > 0;) {
            if (model[i] == e && want < static_cast<std::size_t>(-count)) {
              model.erase(model.begin() + static_cast<long>(i));
              ++want;
            }
          }
        }
        CHECK(list.Remove(count, e, limits) == want);
      } else {
        const std::size_t i = rng() % model.size();
        CHECK(list.At(i) == model[i]);
      }
      REQUIRE(list.size() == model.size());
      REQUIRE(list.Consistent());
      if (step % 500 == 0 || std::getenv("LIST_TEST_EVERY")) {
        const std::vector<std::string> expect(model.begin(), model.end());
        if (Contents(list) != expect) {
          std::string a, b;
          for (auto& x : Contents(list)) a += x.substr(0, 4) + ",";
          for (auto& x : expect) b += x.substr(0, 4) + ",";
          CAPTURE(a);
          CAPTURE(b);
          REQUIRE(Contents(list) == expect);
        }
        REQUIRE(Reversed(list) == std::vector<std::string>(expect.rbegin(), expect.rend()));
        std::string serialized;
        list.Serialize(&serialized);
        std::unique_ptr<List> back = List::Decode(serialized, limits);
        REQUIRE(back != nullptr);
        REQUIRE(Contents(*back) == expect);
      }
    }
  }
}

namespace {

TypeLimits Compressed(long long fill, std::size_t depth) {
  TypeLimits limits = Fill(fill);
  limits.list_compress_depth = depth;
  return limits;
}

// The nodes within `depth` of either end are never compressed (Redis's rule: they take the
// pushes and pops).
bool EndsRaw(const List& list, std::size_t depth) {
  const std::size_t n = list.node_count();
  for (std::size_t i = 0; i < depth && i < n; ++i) {
    if (list.node_compressed(i) || list.node_compressed(n - 1 - i)) return false;
  }
  return true;
}

std::size_t CompressedNodes(const List& list) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < list.node_count(); ++i) count += list.node_compressed(i) ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("list-compress-depth: interior nodes are LZ4-compressed, the ends stay raw") {
  for (std::size_t depth : {1u, 2u, 3u}) {
    CAPTURE(depth);
    const TypeLimits limits = Compressed(-2, depth);
    List list;
    // Compressible elements (JSON-like records), 8 KB nodes.
    for (int i = 0; i < 20000; ++i) {
      list.PushBack("{\"id\":" + std::to_string(i) + ",\"name\":\"user\",\"active\":true}", limits);
    }
    const std::size_t n = list.node_count();
    REQUIRE(n > 2 * depth + 2);
    CHECK(EndsRaw(list, depth));
    CHECK(CompressedNodes(list) == n - 2 * depth);  // every interior node
    CHECK(list.Consistent());
    CHECK(list.EncodingName() == "quicklist");
    // Reads across compressed nodes: LINDEX, LRANGE both ways.
    for (int i : {0, 1, 100, 5000, 12345, 19999}) {
      CHECK(list.At(static_cast<std::size_t>(i)) ==
            "{\"id\":" + std::to_string(i) + ",\"name\":\"user\",\"active\":true}");
    }
    std::vector<std::string> all = Contents(list);
    REQUIRE(all.size() == 20000);
    CHECK(all[7777] == "{\"id\":7777,\"name\":\"user\",\"active\":true}");
    std::vector<std::string> back = Reversed(list);
    CHECK(back.front() == all.back());
    CHECK(back.back() == all.front());
    // Pops from both ends move the boundary: the new end nodes come back raw.
    for (int i = 0; i < 3000; ++i) {
      list.PopFront();
      list.PopBack();
      REQUIRE(EndsRaw(list, depth));
    }
    CHECK(list.At(0) == all[3000]);
    CHECK(list.Consistent());
    // Pushes at the head: nodes pushed past the depth get compressed.
    for (int i = 0; i < 3000; ++i) list.PushFront(all[2999 - i], limits);
    CHECK(EndsRaw(list, depth));
    CHECK(CompressedNodes(list) + 2 * depth >= list.node_count() - 2);
    CHECK(Contents(list) == std::vector<std::string>(all.begin(), all.end() - 3000));
  }
}

TEST_CASE("list-compress-depth: a big list of compressible elements takes far less memory") {
  List raw;
  List packed;
  for (int i = 0; i < 100000; ++i) {
    const std::string e = "{\"user\":" + std::to_string(i % 1000) +
                          ",\"event\":\"page_view\",\"path\":\"/products/list\"}";
    raw.PushBack(e, Compressed(-2, 0));
    packed.PushBack(e, Compressed(-2, 1));
  }
  MESSAGE("100,000 x ~60-byte elements: " << raw.MemoryUsage() << " bytes raw, "
                                          << packed.MemoryUsage()
                                          << " bytes with list-compress-depth 1");
  CHECK(CompressedNodes(raw) == 0);
  CHECK(packed.MemoryUsage() * 3 < raw.MemoryUsage());
  CHECK(Contents(packed) == Contents(raw));
  // Incompressible elements: nodes stay raw (compression would not pay), nothing is lost.
  List random;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    std::string e(64, '\0');
    for (char& c : e) c = static_cast<char>(rng());
    random.PushBack(e, Compressed(-2, 1));
  }
  CHECK(CompressedNodes(random) == 0);
  CHECK(random.size() == 5000);
}

TEST_CASE("list-compress-depth: random operations match a deque model; decode compresses") {
  for (long long fill : {-1LL, 4LL}) {
    for (std::size_t depth : {1u, 2u}) {
      CAPTURE(fill);
      CAPTURE(depth);
      const TypeLimits limits = Compressed(fill, depth);
      std::mt19937_64 rng(static_cast<std::uint64_t>(fill * 10 + static_cast<long long>(depth)));
      List list;
      std::deque<std::string> model;
      auto element = [&] {
        return rng() % 10 == 0 ? std::string(200 + rng() % 500, 'z')
                               : "element-" + std::to_string(rng() % 8) + std::string(40, 'p');
      };
      for (int step = 0; step < 20000; ++step) {
        const int action = static_cast<int>(rng() % 10);
        CAPTURE(step);
        if (action <= 3 || model.empty()) {
          const std::string e = element();
          if (rng() % 2 == 0) {
            list.PushFront(e, limits);
            model.push_front(e);
          } else {
            list.PushBack(e, limits);
            model.push_back(e);
          }
        } else if (action == 4) {
          REQUIRE(list.PopFront() == model.front());
          model.pop_front();
        } else if (action == 5) {
          REQUIRE(list.PopBack() == model.back());
          model.pop_back();
        } else if (action == 6) {
          const std::size_t i = rng() % model.size();
          const std::string e = element();
          list.Set(i, e, limits);
          model[i] = e;
        } else if (action == 7) {
          const std::string pivot = element();
          const std::string e = element();
          auto it = std::find(model.begin(), model.end(), pivot);
          REQUIRE(list.Insert(pivot, e, true, limits) == (it != model.end()));
          if (it != model.end()) model.insert(it, e);
        } else if (action == 8 && rng() % 20 == 0) {
          const std::string e = element();
          std::size_t want = 0;
          for (auto it = model.begin(); it != model.end() && want < 3;) {
            if (*it == e) {
              it = model.erase(it);
              ++want;
            } else {
              ++it;
            }
          }
          REQUIRE(list.Remove(3, e, limits) == want);
        } else {
          const std::size_t i = rng() % model.size();
          REQUIRE(list.At(i) == model[i]);
        }
        REQUIRE(list.size() == model.size());
        REQUIRE(EndsRaw(list, depth));
        if (step % 1000 == 0) {
          REQUIRE(list.Consistent());
          const std::vector<std::string> expect(model.begin(), model.end());
          REQUIRE(Contents(list) == expect);
          REQUIRE(Reversed(list) == std::vector<std::string>(expect.rbegin(), expect.rend()));
          std::string serialized;
          list.Serialize(&serialized);
          std::unique_ptr<List> back = List::Decode(serialized, limits);
          REQUIRE(back != nullptr);
          REQUIRE(Contents(*back) == expect);
          REQUIRE(EndsRaw(*back, depth));
          if (back->node_count() > 2 * depth + 1) REQUIRE(CompressedNodes(*back) > 0);
        }
      }
      CHECK(CompressedNodes(list) > 0);
    }
  }
}

TEST_CASE("list operations through the codec: push, pop, set, insert, remove, trim") {
  TypesCodec codec;
  codec.mutable_limits().list_max_listpack_size = 2;
  std::unique_ptr<storage::ValueObject> created;
  std::int64_t result = 0;
  OpBuilder push(OpCode::kListPushBack, 5);
  push.Add("a").Add("b").Add("c").Add("d").Add("e");
  REQUIRE(codec.Apply(nullptr, push.op(), &result, &created));
  CHECK(result == 5);
  REQUIRE(created != nullptr);
  auto* list = dynamic_cast<List*>(created.get());
  REQUIRE(list != nullptr);
  CHECK(TypeOf(list) == ValueType::kList);
  OpBuilder front(OpCode::kListPushFront, 2);
  front.Add("y").Add("z");
  REQUIRE(codec.Apply(list, front.op(), &result, &created));
  CHECK(result == 7);
  CHECK(Contents(*list) == std::vector<std::string>{"z", "y", "a", "b", "c", "d", "e"});
  OpBuilder pop(OpCode::kListPopBack, 1);
  pop.Add("2");
  REQUIRE(codec.Apply(list, pop.op(), &result, &created));
  CHECK(result == 2);
  OpBuilder set(OpCode::kListSet, 2);
  set.Add("0").Add("Z");
  REQUIRE(codec.Apply(list, set.op(), &result, &created));
  OpBuilder insert(OpCode::kListInsert, 3);
  insert.Add("after").Add("a").Add("A");
  REQUIRE(codec.Apply(list, insert.op(), &result, &created));
  CHECK(result == 6);
  OpBuilder trim(OpCode::kListTrim, 2);
  trim.Add("1").Add("1");
  REQUIRE(codec.Apply(list, trim.op(), &result, &created));
  CHECK(Contents(*list) == std::vector<std::string>{"y", "a", "A", "b"});
  OpBuilder rem(OpCode::kListRemove, 2);
  rem.Add("0").Add("a");
  REQUIRE(codec.Apply(list, rem.op(), &result, &created));
  CHECK(result == 1);
  // Malformed operations change nothing.
  OpBuilder bad_set(OpCode::kListSet, 2);
  bad_set.Add("10").Add("x");
  CHECK(!codec.Apply(list, bad_set.op(), &result, &created));
  OpBuilder bad_pop(OpCode::kListPopFront, 1);
  bad_pop.Add("-1");
  CHECK(!codec.Apply(list, bad_pop.op(), &result, &created));
  CHECK(Contents(*list) == std::vector<std::string>{"y", "A", "b"});
  std::string serialized;
  list->Serialize(&serialized);
  std::unique_ptr<storage::ValueObject> decoded = codec.Decode(serialized);
  REQUIRE(decoded != nullptr);
  CHECK(Contents(dynamic_cast<List&>(*decoded)) == std::vector<std::string>{"y", "A", "b"});
  CHECK(codec.Decode(serialized.substr(0, serialized.size() - 1)) == nullptr);
}

}  // namespace dynakv::types
