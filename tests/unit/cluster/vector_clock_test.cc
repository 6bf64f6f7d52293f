#include "cluster/vector_clock.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace dynakv::cluster {
namespace {

using Order = VectorClock::Order;

VectorClock Clock(std::initializer_list<std::pair<const char*, int>> counts, std::int64_t ms = 1) {
  VectorClock clock;
  for (const auto& [node, count] : counts) {
    for (int i = 0; i < count; ++i) clock.Increment(node, ms);
  }
  return clock;
}

TEST_CASE("vector clock: increment counts events per node") {
  VectorClock clock;
  CHECK(clock.empty());
  CHECK(clock.Get("a") == 0);
  clock.Increment("a", 100);
  clock.Increment("a", 250);
  clock.Increment("b", 300);
  CHECK(clock.Get("a") == 2);
  CHECK(clock.Get("b") == 1);
  CHECK(clock.entries().at("a").updated_ms == 250);
  CHECK(clock.ToString() == "{a:2,b:1}");
}

TEST_CASE("vector clock: compare covers all four relations") {
  const VectorClock a1 = Clock({{"a", 1}});
  const VectorClock a2 = Clock({{"a", 2}});
  const VectorClock a1b1 = Clock({{"a", 1}, {"b", 1}});
  const VectorClock b1 = Clock({{"b", 1}});

  CHECK(a1.Compare(Clock({{"a", 1}})) == Order::kEqual);
  CHECK(VectorClock().Compare(VectorClock()) == Order::kEqual);
  CHECK(a1.Compare(a2) == Order::kBefore);
  CHECK(a2.Compare(a1) == Order::kAfter);
  CHECK(a1.Compare(a1b1) == Order::kBefore);  // a missing entry counts as 0
  CHECK(a1b1.Compare(a1) == Order::kAfter);
  CHECK(VectorClock().Compare(a1) == Order::kBefore);
  CHECK(a1.Compare(b1) == Order::kConcurrent);
  CHECK(a2.Compare(a1b1) == Order::kConcurrent);  // larger on a, smaller on b

  CHECK(a2.Descends(a1));
  CHECK(a1.Descends(a1));
  CHECK_FALSE(a1.Descends(a2));
  CHECK_FALSE(a1.Descends(b1));
}

TEST_CASE("vector clock: merge takes the pointwise maximum") {
  VectorClock left = Clock({{"a", 3}, {"b", 1}}, 10);
  const VectorClock right = Clock({{"b", 4}, {"c", 2}}, 20);
  left.Merge(right);
  CHECK(left.ToString() == "{a:3,b:4,c:2}");
  CHECK(left.Descends(right));
  CHECK(left.entries().at("a").updated_ms == 10);
  CHECK(left.entries().at("b").updated_ms == 20);  // the timestamp travels with the winning count

  VectorClock same = Clock({{"a", 1}}, 5);
  same.Merge(Clock({{"a", 1}}, 9));
  CHECK(same.entries().at("a").updated_ms == 9);  // equal counts: the later update
}

TEST_CASE("vector clock: prune drops the oldest entries beyond max_entries") {
  VectorClock clock;
  for (int i = 0; i < 15; ++i) clock.Increment("n" + std::to_string(i), 1000 + i);
  const ClockPruneOptions options{10, 100};
  CHECK(clock.Prune(1000000, options) == 5);
  CHECK(clock.size() == 10);
  for (int i = 0; i < 5; ++i) CHECK(clock.Get("n" + std::to_string(i)) == 0);
  for (int i = 5; i < 15; ++i) CHECK(clock.Get("n" + std::to_string(i)) == 1);
  CHECK(clock.Prune(1000000, options) == 0);  // already small enough
}

TEST_CASE("vector clock: prune never drops entries younger than min_age_ms") {
  VectorClock clock;
  const std::int64_t now = 50000;
  for (int i = 0; i < 3; ++i) clock.Increment("old" + std::to_string(i), now - 30000);
  for (int i = 0; i < 9; ++i) clock.Increment("new" + std::to_string(i), now - 1000);
  // Wants 5 entries, but only the 3 old ones are old enough to go.
  CHECK(clock.Prune(now, ClockPruneOptions{5, 20000}) == 3);
  CHECK(clock.size() == 9);
  CHECK(clock.Get("old0") == 0);
  CHECK(clock.Get("new0") == 1);

  VectorClock young;
  for (int i = 0; i < 15; ++i) young.Increment("n" + std::to_string(i), now);
  CHECK(young.Prune(now) == 0);  // defaults: 10 entries, 20 s
  CHECK(young.size() == 15);
  CHECK(young.Prune(now + 20000) == 5);  // exactly min_age_ms old may go
}

TEST_CASE("vector clock: encode/decode round trip") {
  VectorClock clock;
  clock.Increment("node-a", 1700000000000);
  clock.Increment("node-a", 1700000000001);
  clock.Increment("b", -5);  // odd but legal timestamps survive too
  clock.Advance("c", 1ULL << 62, 7);
  clock.Increment("", 0);
  const std::string bytes = clock.Encode();
  VectorClock decoded;
  REQUIRE(VectorClock::Decode(bytes, &decoded));
  CHECK(decoded.Compare(clock) == Order::kEqual);
  CHECK(decoded.entries().at("b").updated_ms == -5);
  CHECK(decoded.entries().at("c").counter == 1ULL << 62);
  CHECK(decoded.Encode() == bytes);

  VectorClock empty;
  REQUIRE(VectorClock::Decode(VectorClock().Encode(), &empty));
  CHECK(empty.empty());
}

TEST_CASE("vector clock: decode rejects malformed input") {
  const std::string good = Clock({{"a", 2}, {"b", 1}}).Encode();
  VectorClock clock;
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(VectorClock::Decode(good.substr(0, n), &clock));  // every truncation
  }
  CHECK_FALSE(VectorClock::Decode(good + '\0', &clock));  // trailing byte

  auto entry = [](std::string id, char counter) {
    return std::string(1, static_cast<char>(id.size())) + id + counter + '\x02';
  };
  CHECK(VectorClock::Decode("\x02" + entry("a", 1) + entry("b", 1), &clock));
  CHECK_FALSE(VectorClock::Decode("\x02" + entry("b", 1) + entry("a", 1), &clock));  // order
  CHECK_FALSE(VectorClock::Decode("\x02" + entry("a", 1) + entry("a", 2), &clock));  // duplicate
  CHECK_FALSE(VectorClock::Decode(std::string("\x01") + entry("a", 0), &clock));     // counter 0
  // A count far larger than the bytes that follow: refused before any work.
  CHECK_FALSE(VectorClock::Decode(std::string("\xff\xff\xff\xff\x0f") + entry("a", 1), &clock));
  // Overlong varint (1 written in two bytes) and an 11-byte varint.
  CHECK_FALSE(VectorClock::Decode(std::string("\x81\x00", 2) + entry("a", 1), &clock));
  CHECK_FALSE(VectorClock::Decode(std::string(10, '\xff') + '\x01', &clock));
  // A failed decode leaves the target untouched.
  VectorClock kept = Clock({{"z", 3}});
  CHECK_FALSE(VectorClock::Decode("\x05", &kept));
  CHECK(kept.Get("z") == 3);
}

TEST_CASE("vector clock: decoding garbage never crashes and accepts only canonical bytes") {
  std::mt19937 rng(20240601);
  VectorClock base;
  for (int i = 0; i < 6; ++i) base.Increment("node" + std::to_string(i), 1000 * i);
  base.Advance("node2", 300, 5);
  const std::string good = base.Encode();
  int accepted = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string input;
    if (iteration % 2 == 0) {
      const std::size_t length = rng() % 48;
      for (std::size_t i = 0; i < length; ++i) input.push_back(static_cast<char>(rng()));
    } else {
      input = good;
      const int edits = 1 + rng() % 3;
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = rng() % input.size();
        switch (rng() % 3) {
          case 0: input[at] = static_cast<char>(rng()); break;
          case 1: input.erase(at, 1 + rng() % 4); break;
          default: input.insert(at, 1, static_cast<char>(rng())); break;
        }
        if (input.empty()) input.push_back('\0');
      }
    }
    VectorClock clock;
    if (VectorClock::Decode(input, &clock)) {
      ++accepted;
      CHECK(clock.Encode() == input);  // one encoding per clock
    }
  }
  CHECK(accepted > 0);  // some mutations stay valid (e.g. a changed timestamp byte)
}

}  // namespace
}  // namespace dynakv::cluster
