#include "cluster/versioned_value.h"

#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>

#include "cluster/hybrid_clock.h"

namespace dynakv::cluster {
namespace {

// A coordinator's write of `value` into its local copy `set`, as the server will do it.
Version Write(SiblingSet& set, const VectorClock& context, const std::string& coordinator,
              std::int64_t timestamp_us, const std::string& value, bool tombstone = false) {
  Version version = set.NewVersion(context, coordinator, timestamp_us);
  version.value = value;
  version.tombstone = tombstone;
  REQUIRE(set.Add(version));
  return version;
}

std::set<std::string> Values(const SiblingSet& set) {
  std::set<std::string> values;
  for (const Version& version : set.versions()) values.insert(version.value);
  return values;
}

TEST_CASE("siblings: concurrent writes on different nodes become siblings") {
  SiblingSet on_a;
  SiblingSet on_b;
  const Version from_a = Write(on_a, {}, "A", 100, "apple");
  const Version from_b = Write(on_b, {}, "B", 101, "banana");
  CHECK(CompareVersions(from_a, from_b) == VectorClock::Order::kConcurrent);

  const SiblingSet merged = SiblingSet::Reconcile(on_a, on_b);
  CHECK(Values(merged) == std::set<std::string>{"apple", "banana"});
  CHECK(merged.Context().ToString() == "{A:1,B:1}");
}

TEST_CASE("siblings: two writes through one node with the same context both survive") {
  // Plain vector clocks would give both writes the clock {A:2}, and one would silently win.
  SiblingSet set;
  Write(set, {}, "A", 100, "v0");
  const VectorClock context = set.Context();
  const Version first = Write(set, context, "A", 200, "client-1");
  const Version second = Write(set, context, "A", 201, "client-2");
  CHECK(first.dot != second.dot);
  CHECK(Values(set) == std::set<std::string>{"client-1", "client-2"});  // v0 is replaced
}

TEST_CASE("siblings: a version that saw another replaces it, and stale copies are refused") {
  SiblingSet set;
  const Version v1 = Write(set, {}, "A", 100, "one");
  const Version v2 = Write(set, set.Context(), "B", 150, "two");
  CHECK(CompareVersions(v1, v2) == VectorClock::Order::kBefore);
  CHECK(CompareVersions(v2, v1) == VectorClock::Order::kAfter);
  CHECK(Values(set) == std::set<std::string>{"two"});

  CHECK_FALSE(set.Add(v1));  // a lagging replica sends the old version again
  CHECK(Values(set) == std::set<std::string>{"two"});
  CHECK_FALSE(set.Add(v2));  // the same write twice is kept once
  CHECK(set.size() == 1);

  // A dominated version stays out even if its timestamp is newer (clock skew): causality wins.
  SiblingSet behind;
  Version late = v1;
  late.timestamp_us = 999;
  behind.Add(late);
  CHECK(Values(SiblingSet::Reconcile(behind, set)) == std::set<std::string>{"two"});
}

TEST_CASE("siblings: the same write with different payloads keeps one deterministic winner") {
  Version a;
  a.origin_node = "A";
  a.dot = 1;
  a.timestamp_us = 10;
  a.value = "x";
  Version b = a;
  b.value = "y";
  SiblingSet ab;
  ab.Add(a);
  ab.Add(b);
  SiblingSet ba;
  ba.Add(b);
  ba.Add(a);
  REQUIRE(ab.size() == 1);
  CHECK(ab.Encode() == ba.Encode());
  CHECK(ab.versions()[0].value == "y");
}

TEST_CASE("siblings: a write with the read's context token resolves every sibling") {
  SiblingSet on_a;
  SiblingSet on_b;
  SiblingSet on_c;
  Write(on_a, {}, "A", 100, "a");
  Write(on_b, {}, "B", 100, "b");
  Write(on_c, {}, "C", 100, "c");
  SiblingSet set = SiblingSet::Reconcile(SiblingSet::Reconcile(on_a, on_b), on_c);
  REQUIRE(set.size() == 3);

  const std::string token = set.ContextToken();
  for (char c : token) {
    CHECK(((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_'));
  }
  VectorClock context;
  REQUIRE(SiblingSet::DecodeContextToken(token, &context));
  CHECK(context.Compare(set.Context()) == VectorClock::Order::kEqual);

  const Version resolved = Write(set, context, "B", 300, "merged");
  CHECK(Values(set) == std::set<std::string>{"merged"});
  // The other replicas accept it over what they hold.
  CHECK(Values(SiblingSet::Reconcile(on_c, set)) == std::set<std::string>{"merged"});
  CHECK(resolved.dot == 2);  // B's next event
}

TEST_CASE("siblings: a context that covers only some siblings replaces only those") {
  SiblingSet set;
  Write(set, {}, "A", 100, "seen");
  const VectorClock old_context = set.Context();
  SiblingSet other;
  Write(other, {}, "B", 110, "unseen");
  set.Merge(other);
  Write(set, old_context, "A", 120, "new");
  CHECK(Values(set) == std::set<std::string>{"unseen", "new"});
}

TEST_CASE("siblings: context tokens are validated") {
  VectorClock context;
  SiblingSet empty;
  REQUIRE(SiblingSet::DecodeContextToken(empty.ContextToken(), &context));
  CHECK(context.empty());

  SiblingSet set;
  Write(set, {}, "node-1", 100, "v");
  const std::string token = set.ContextToken();
  CHECK_FALSE(SiblingSet::DecodeContextToken("", &context));
  CHECK_FALSE(SiblingSet::DecodeContextToken("!!!!", &context));
  CHECK_FALSE(SiblingSet::DecodeContextToken(token + "A", &context));
  CHECK_FALSE(SiblingSet::DecodeContextToken(token.substr(0, token.size() - 1), &context));
  CHECK_FALSE(SiblingSet::DecodeContextToken("AA", &context));  // format byte 0
  CHECK_FALSE(SiblingSet::DecodeContextToken("AR", &context));  // leftover bits set
  std::string spaced = token;
  spaced[1] = ' ';
  CHECK_FALSE(SiblingSet::DecodeContextToken(spaced, &context));
}

TEST_CASE("siblings: last-write-wins picks the newest, ties by origin id") {
  SiblingSet set;
  CHECK(set.Resolve() == nullptr);
  SiblingSet on_a;
  SiblingSet on_b;
  SiblingSet on_c;
  Write(on_a, {}, "A", 500, "newest");
  Write(on_b, {}, "B", 400, "older");
  Write(on_c, {}, "C", 300, "oldest");
  set = SiblingSet::Reconcile(SiblingSet::Reconcile(on_c, on_a), on_b);
  REQUIRE(set.Resolve() != nullptr);
  CHECK(set.Resolve()->value == "newest");

  SiblingSet tie_a;
  SiblingSet tie_b;
  Write(tie_a, {}, "node-a", 700, "from a");
  Write(tie_b, {}, "node-b", 700, "from b");
  CHECK(SiblingSet::Reconcile(tie_a, tie_b).Resolve()->value == "from b");
  CHECK(SiblingSet::Reconcile(tie_b, tie_a).Resolve()->value == "from b");
}

TEST_CASE("siblings: tombstones delete, replicate and lose to later writes") {
  SiblingSet set;
  Write(set, {}, "A", 100, "v");
  SiblingSet stale = set;  // a replica that misses the delete
  const Version deleted = Write(set, set.Context(), "A", 200, "", true);
  REQUIRE(set.size() == 1);
  CHECK(set.Resolve()->tombstone);
  CHECK_FALSE(set.Resolve()->IsLive(300));
  // Read repair: the stale value cannot come back.
  CHECK(SiblingSet::Reconcile(stale, set).Resolve()->tombstone);

  // A write concurrent with the delete is kept beside it; LWW decides what GET shows.
  SiblingSet racing;
  Write(racing, {}, "B", 250, "revived");
  SiblingSet both = SiblingSet::Reconcile(set, racing);
  CHECK(both.size() == 2);
  CHECK(both.Resolve()->value == "revived");
  CHECK(both.Resolve()->IsLive(300));

  // Equal timestamps: the delete wins.
  Version tied = deleted;
  tied.tombstone = false;
  tied.value = "same instant";
  CHECK(LwwLess(tied, deleted));
}

TEST_CASE("siblings: expiry is part of liveness") {
  Version version;
  version.value = "v";
  CHECK(version.IsLive(1000));
  version.expire_at_ms = 1000;
  CHECK(version.IsLive(999));
  CHECK_FALSE(version.IsLive(1000));
}

TEST_CASE("siblings: encode/decode round trip") {
  SiblingSet on_a;
  SiblingSet on_b;
  SiblingSet on_c;
  Write(on_a, {}, "A", 1700000000000, std::string("bin\0ary\xff", 8));
  Version expiring = on_b.NewVersion({}, "B", 1700000000005);
  expiring.value = std::string(300, 'x');
  expiring.expire_at_ms = 1700000060000;
  on_b.Add(expiring);
  Write(on_c, {}, "C", 1700000000009, "", true);
  const SiblingSet set = SiblingSet::Reconcile(SiblingSet::Reconcile(on_a, on_b), on_c);

  const std::string bytes = set.Encode();
  SiblingSet decoded;
  REQUIRE(SiblingSet::Decode(bytes, &decoded));
  REQUIRE(decoded.size() == 3);
  CHECK(decoded.Encode() == bytes);
  for (std::size_t i = 0; i < 3; ++i) {
    const Version& want = set.versions()[i];
    const Version& got = decoded.versions()[i];
    CHECK(got.value == want.value);
    CHECK(got.tombstone == want.tombstone);
    CHECK(got.expire_at_ms == want.expire_at_ms);
    CHECK(got.timestamp_us == want.timestamp_us);
    CHECK(got.origin_node == want.origin_node);
    CHECK(got.dot == want.dot);
    CHECK(CompareVersions(got, want) == VectorClock::Order::kEqual);
  }
  // Replicas that received the versions in different orders store identical bytes.
  CHECK(SiblingSet::Reconcile(on_c, SiblingSet::Reconcile(on_b, on_a)).Encode() == bytes);

  SiblingSet empty;
  REQUIRE(SiblingSet::Decode(SiblingSet().Encode(), &empty));
  CHECK(empty.empty());
}

TEST_CASE("siblings: decode rejects malformed sets") {
  SiblingSet on_a;
  SiblingSet on_b;
  const Version a = Write(on_a, {}, "A", 100, "a");
  const Version b = Write(on_b, {}, "B", 100, "b");
  const std::string good = SiblingSet::Reconcile(on_a, on_b).Encode();
  SiblingSet set;
  for (std::size_t n = 0; n < good.size(); ++n) CHECK_FALSE(SiblingSet::Decode(good.substr(0, n), &set));
  CHECK_FALSE(SiblingSet::Decode(good + 'x', &set));
  std::string bad_format = good;
  bad_format[0] = 2;
  CHECK_FALSE(SiblingSet::Decode(bad_format, &set));

  auto encode = [](std::initializer_list<const Version*> versions) {
    std::string bytes(1, '\x01');
    bytes.push_back(static_cast<char>(versions.size()));
    for (const Version* v : versions) v->EncodeTo(&bytes);
    return bytes;
  };
  CHECK(SiblingSet::Decode(encode({&a, &b}), &set));
  CHECK_FALSE(SiblingSet::Decode(encode({&b, &a}), &set));  // not in canonical order
  CHECK_FALSE(SiblingSet::Decode(encode({&a, &a}), &set));  // the same write twice
  Version after_a = on_a.NewVersion(on_a.Context(), "B", 200);
  CHECK_FALSE(SiblingSet::Decode(encode({&a, &after_a}), &set));  // one saw the other
  Version zero_dot = a;
  zero_dot.dot = 0;
  CHECK_FALSE(SiblingSet::Decode(encode({&zero_dot}), &set));
  std::string bad_flags = encode({&a});
  // The flags byte follows clock (1), dot (1), timestamp (2) and origin ("\x01" "A").
  REQUIRE(bad_flags[2 + 1 + 1 + 2 + 2] == '\0');
  bad_flags[2 + 1 + 1 + 2 + 2] = '\x04';  // 1: tombstone, 2: typed; 4 is nothing yet
  CHECK_FALSE(SiblingSet::Decode(bad_flags, &set));
}

TEST_CASE("versions: a typed version (a hash's serialized form) keeps its tag through encoding") {
  Version v;
  v.dot = 3;
  v.timestamp_us = 42;
  v.origin_node = "n1";
  v.typed = true;
  v.value = std::string("\x01\x00\x01\x01f\x01v", 7);
  std::string bytes;
  v.EncodeTo(&bytes);
  std::string_view in = bytes;
  Version back;
  REQUIRE(Version::DecodeFrom(&in, &back));
  CHECK(back.typed);
  CHECK_FALSE(back.tombstone);
  CHECK(back.value == v.value);
  v.typed = false;
  bytes.clear();
  v.EncodeTo(&bytes);
  in = bytes;
  REQUIRE(Version::DecodeFrom(&in, &back));
  CHECK_FALSE(back.typed);
}

TEST_CASE("siblings: decoding garbage never crashes and accepts only canonical bytes") {
  std::mt19937 rng(7);
  SiblingSet base;
  for (const char* node : {"n1", "n2", "n3"}) {
    SiblingSet one;
    Write(one, {}, node, 1000, std::string("value-") + node);
    base.Merge(one);
  }
  const std::string good = base.Encode();
  int accepted = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string input = good;
    const int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0: input[at] = static_cast<char>(rng()); break;
        case 1: input.erase(at, 1 + rng() % 6); break;
        default: input.insert(at, 1, static_cast<char>(rng())); break;
      }
      if (input.empty()) input.push_back('\x01');
    }
    SiblingSet set;
    if (SiblingSet::Decode(input, &set)) {
      ++accepted;
      CHECK(set.Encode() == input);
    }
    VectorClock context;
    if (SiblingSet::DecodeContextToken(input, &context)) CHECK(context.size() < input.size());
  }
  CHECK(accepted > 0);
}

TEST_CASE("siblings: a runaway key keeps at most kMaxSiblings, dropping the LWW losers") {
  SiblingSet set;
  for (int i = 0; i < 150; ++i) {
    SiblingSet writer;
    Write(writer, {}, "node-" + std::to_string(i), 1000 + i, std::to_string(i));
    set.Merge(writer);
  }
  REQUIRE(set.size() == SiblingSet::kMaxSiblings);
  for (const Version& version : set.versions()) CHECK(version.timestamp_us >= 1050);
  SiblingSet too_old;
  Write(too_old, {}, "late", 1, "late");
  CHECK_FALSE(set.Add(too_old.versions()[0]));
  SiblingSet decoded;
  CHECK(SiblingSet::Decode(set.Encode(), &decoded));
}

TEST_CASE("siblings: new versions prune oversized contexts") {
  VectorClock big;
  for (int i = 0; i < 30; ++i) big.Increment("n" + std::to_string(i), 0);
  SiblingSet set;
  const Version version = set.NewVersion(big, "A", 100000 * 1000, ClockPruneOptions{10, 20000});  // 100 s, in us
  CHECK(version.clock.size() == 10);
  CHECK(version.dot == 1);
}

TEST_CASE("hybrid clock: a burst of writes in one millisecond stays at wall time") {
  // Why microseconds: a node restarted with a fresh clock must still stamp its writes after
  // the cluster's, so a busy clock must not run ahead of wall time.
  HybridClock clock;
  const std::int64_t wall_us = 1'700'000'000'000'000;
  std::int64_t last = 0;
  for (int i = 0; i < 500; ++i) last = clock.Tick(wall_us);  // 500 writes in one ms
  CHECK(last == wall_us + 499);
  HybridClock restarted;
  CHECK(restarted.Tick(wall_us + 1000) > last);  // one ms later, from scratch
}

TEST_CASE("hybrid clock: never repeats or goes back, and follows observed time") {
  HybridClock clock;
  CHECK(clock.Tick(1000) == 1000);
  CHECK(clock.Tick(1000) == 1001);  // same millisecond: still unique
  CHECK(clock.Tick(900) == 1002);   // wall clock stepped back
  CHECK(clock.Tick(5000) == 5000);
  clock.Observe(9000);  // data written on a node whose clock runs ahead
  CHECK(clock.Tick(5001) == 9001);
  clock.Observe(10);
  CHECK(clock.Tick(5002) == 9002);
}

}  // namespace
}  // namespace dynakv::cluster
