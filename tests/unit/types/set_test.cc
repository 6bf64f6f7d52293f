// Sets: intset and hashtable encodings, the integer test, conversions at Redis 7.0's threshold,
// the serialized form, scan cursors, random members, the codec's set operations, and snapshots
// (a checkpoint's serialization while writes go on; hashes share the table and are checked too).
#include "types/set.h"

#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "types/codec.h"
#include "types/hash.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {

std::vector<std::string> Members(const Set& s) {
  std::vector<std::string> out;
  s.ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::set<std::string> AsSet(const Set& s) {
  std::vector<std::string> m = Members(s);
  return {m.begin(), m.end()};
}

std::string Serialized(const Set& s) {
  std::string out;
  s.Serialize(&out);
  return out;
}

}  // namespace

TEST_CASE("set integers are exactly what Redis's string2ll accepts") {
  std::int64_t v = 0;
  CHECK(Set::AsInteger("0", &v));
  CHECK(v == 0);
  CHECK(Set::AsInteger("-17", &v));
  CHECK(v == -17);
  CHECK(Set::AsInteger("9223372036854775807", &v));
  CHECK(Set::AsInteger("-9223372036854775808", &v));
  CHECK(v == INT64_MIN);
  for (const char* bad : {"", "-0", "+1", "007", " 1", "1 ", "1.0", "9223372036854775808",
                          "-9223372036854775809", "abc", "0x10", "-", "1e3"}) {
    CAPTURE(bad);
    CHECK_FALSE(Set::AsInteger(bad, &v));
  }
}

TEST_CASE("set intset: sorted members, stays intset up to the threshold, then hashtable") {
  TypeLimits limits;
  limits.set_max_intset_entries = 4;
  Set s;
  CHECK(s.encoding() == Set::Encoding::kIntset);
  CHECK(s.Add("10", limits));
  CHECK(s.Add("-3", limits));
  CHECK(s.Add("7", limits));
  CHECK_FALSE(s.Add("7", limits));
  CHECK(s.Add("0", limits));
  CHECK(s.EncodingName() == "intset");
  CHECK(Members(s) == std::vector<std::string>{"-3", "0", "7", "10"});
  CHECK(s.Contains("7"));
  CHECK_FALSE(s.Contains("07"));  // not the integer's text: never in an intset
  CHECK_FALSE(s.Contains("x"));
  CHECK(s.Add("11", limits));  // the fifth crosses 4
  CHECK(s.EncodingName() == "hashtable");
  CHECK(AsSet(s) == std::set<std::string>{"-3", "0", "7", "10", "11"});
  // Never back, even after removals.
  for (const char* m : {"-3", "0", "7", "10"}) CHECK(s.Remove(m));
  CHECK_FALSE(s.Remove("7"));
  CHECK(s.encoding() == Set::Encoding::kHashtable);
  CHECK(s.size() == 1);
}

TEST_CASE("set: a non-integer member makes a hashtable; 007 and 7 are different members") {
  TypeLimits limits;
  Set s;
  CHECK(s.Add("7", limits));
  CHECK(s.Add("007", limits));
  CHECK(s.EncodingName() == "hashtable");
  CHECK(s.size() == 2);
  CHECK(s.Contains("7"));
  CHECK(s.Contains("007"));
  CHECK(s.Remove("7"));
  CHECK_FALSE(s.Contains("7"));
  CHECK(s.Contains("007"));
}

TEST_CASE("set serialized form: round trip, the hashtable flag survives, limits decide afresh") {
  TypeLimits limits;
  Set ints;
  for (int i = 20; i > 0; --i) ints.Add(std::to_string(i * 3), limits);
  const std::string form = Serialized(ints);
  CHECK(form[0] == static_cast<char>(ValueType::kSet));
  std::unique_ptr<Set> back = Set::Decode(form, limits);
  REQUIRE(back != nullptr);
  CHECK(back->EncodingName() == "intset");
  CHECK(Members(*back) == Members(ints));
  // Tighter limits now in force: decoded as a hashtable.
  TypeLimits tight;
  tight.set_max_intset_entries = 5;
  back = Set::Decode(form, tight);
  REQUIRE(back != nullptr);
  CHECK(back->EncodingName() == "hashtable");
  CHECK(AsSet(*back) == AsSet(ints));

  // A hashtable of integers stays a hashtable (RENAME, COPY, restart).
  Set table;
  for (int i = 0; i < 10; ++i) table.Add(std::to_string(i), tight);
  REQUIRE(table.EncodingName() == "hashtable");
  for (int i = 0; i < 8; ++i) table.Remove(std::to_string(i));
  back = Set::Decode(Serialized(table), limits);
  REQUIRE(back != nullptr);
  CHECK(back->EncodingName() == "hashtable");
  CHECK(AsSet(*back) == std::set<std::string>{"8", "9"});

  // SerializeMembers: a new set, intset when it can be one.
  std::string fresh;
  Set::SerializeMembers({"5", "1", "3"}, &fresh);
  back = Set::Decode(fresh, limits);
  REQUIRE(back != nullptr);
  CHECK(back->EncodingName() == "intset");
  CHECK(Members(*back) == std::vector<std::string>{"1", "3", "5"});
  fresh.clear();
  Set::SerializeMembers({"5", "a"}, &fresh);
  back = Set::Decode(fresh, limits);
  REQUIRE(back != nullptr);
  CHECK(back->EncodingName() == "hashtable");

  // Malformed forms are refused.
  CHECK(Set::Decode("", limits) == nullptr);
  CHECK(Set::Decode(form.substr(0, form.size() - 1), limits) == nullptr);
  CHECK(Set::Decode(form + "x", limits) == nullptr);
  std::string twice;
  Set::SerializeMembers({"1", "1"}, &twice);
  CHECK(Set::Decode(twice, limits) == nullptr);
  twice.clear();
  Set::SerializeMembers({"a", "a"}, &twice);
  CHECK(Set::Decode(twice, limits) == nullptr);
  std::string bad_flags = form;
  bad_flags[1] = 2;
  CHECK(Set::Decode(bad_flags, limits) == nullptr);
}

TEST_CASE("set scan: an intset in one call; a hashtable cursor visits every member once") {
  TypeLimits limits;
  Set small;
  for (int i = 0; i < 30; ++i) small.Add(std::to_string(i), limits);
  std::vector<std::string> seen;
  CHECK(small.Scan(0, 5, [&](std::string_view m) { seen.emplace_back(m); }) == 0);
  CHECK(seen.size() == 30);

  Set big;
  for (int i = 0; i < 2000; ++i) big.Add("m" + std::to_string(i), limits);
  std::multiset<std::string> visited;
  std::uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = big.Scan(cursor, 10, [&](std::string_view m) { visited.emplace(m); });
    ++calls;
  } while (cursor != 0 && calls < 10000);
  CHECK(calls > 10);
  CHECK(visited.size() == 2000);
  CHECK(std::set<std::string>(visited.begin(), visited.end()).size() == 2000);
}

TEST_CASE("set random members come from the set, in both encodings") {
  TypeLimits limits;
  std::mt19937_64 rng(5);
  for (const char* prefix : {"", "m"}) {
    Set s;
    for (int i = 0; i < 50; ++i) s.Add(prefix + std::to_string(i), limits);
    std::set<std::string> drawn;
    for (int i = 0; i < 2000; ++i) {
      const std::string m = s.Random(rng);
      CHECK(s.Contains(m));
      drawn.insert(m);
    }
    CHECK(drawn.size() > 40);  // not stuck on a few members
  }
}

TEST_CASE("codec set operations: create, add, remove, refuse other types and bad ops") {
  TypesCodec codec;
  codec.mutable_limits().set_max_intset_entries = 3;
  std::int64_t result = -1;
  std::unique_ptr<storage::ValueObject> created;
  REQUIRE(codec.Apply(nullptr, OpBuilder(OpCode::kSetAdd, 3).Add("1").Add("2").Add("1").op(),
                      &result, &created));
  CHECK(result == 2);
  REQUIRE(created != nullptr);
  CHECK(TypeOf(created.get()) == ValueType::kSet);
  CHECK(TypeName(TypeOf(created.get())) == "set");
  auto* set = dynamic_cast<Set*>(created.get());
  REQUIRE(set != nullptr);
  CHECK(set->EncodingName() == "intset");
  std::unique_ptr<storage::ValueObject> unused;
  REQUIRE(codec.Apply(set, OpBuilder(OpCode::kSetAdd, 2).Add("3").Add("4").op(), &result, &unused));
  CHECK(result == 2);
  CHECK(set->EncodingName() == "hashtable");  // 4 > 3
  REQUIRE(codec.Apply(set, OpBuilder(OpCode::kSetRem, 2).Add("1").Add("9").op(), &result, &unused));
  CHECK(result == 1);
  CHECK(set->size() == 3);
  // Removing from nothing is a no-op; an empty argument list is malformed.
  REQUIRE(codec.Apply(nullptr, OpBuilder(OpCode::kSetRem, 1).Add("1").op(), &result, &unused));
  CHECK(result == 0);
  CHECK(unused == nullptr);
  CHECK_FALSE(codec.Apply(nullptr, OpBuilder(OpCode::kSetAdd, 0).op(), &result, &unused));
  // A set op on a hash, and a hash op on a set, are refused.
  std::unique_ptr<storage::ValueObject> hash;
  REQUIRE(
      codec.Apply(nullptr, OpBuilder(OpCode::kHashSet, 2).Add("f").Add("v").op(), &result, &hash));
  CHECK_FALSE(
      codec.Apply(hash.get(), OpBuilder(OpCode::kSetAdd, 1).Add("x").op(), &result, &unused));
  CHECK_FALSE(codec.Apply(set, OpBuilder(OpCode::kHashDel, 1).Add("x").op(), &result, &unused));
  // Decode through the codec.
  std::string form;
  set->Serialize(&form);
  std::unique_ptr<storage::ValueObject> decoded = codec.Decode(form);
  REQUIRE(decoded != nullptr);
  CHECK(TypeOf(decoded.get()) == ValueType::kSet);
}

}  // namespace dynakv::types

namespace dynakv::types {

TEST_CASE("codec: decoding and applying set garbage never crashes") {
  TypesCodec codec;
  codec.mutable_limits().set_max_intset_entries = 6;
  Set ints;
  Set words;
  for (int i = 0; i < 5; ++i) ints.Add(std::to_string(i * 11), codec.limits());
  for (int i = 0; i < 10; ++i) words.Add("m" + std::to_string(i), codec.limits());
  const std::string good[] = {Serialized(ints), Serialized(words)};
  OpBuilder add(OpCode::kSetAdd, 3);
  add.Add("1").Add("x").Add("22");
  std::mt19937 rng(4);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = round % 2 == 0 ? good[(round / 2) % 2] : add.op();
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    if (round % 2 == 0) {
      std::unique_ptr<storage::ValueObject> decoded = codec.Decode(bytes);
      if (const auto* set = dynamic_cast<const Set*>(decoded.get())) {
        std::size_t n = 0;
        set->ForEach([&](std::string_view m) {
          ++n;
          CHECK(set->Contains(m));
        });
        CHECK(n == set->size());
      }
    } else {
      for (const std::string& form : good) {
        std::unique_ptr<storage::ValueObject> target = codec.Decode(form);
        std::unique_ptr<storage::ValueObject> created;
        std::int64_t result = 0;
        codec.Apply(target.get(), bytes, &result, &created);
        codec.Apply(nullptr, bytes, &result, &created);
      }
    }
  }
}

TEST_CASE("set and hash snapshots: the serialized form as it was, whatever the writes after it") {
  TypeLimits limits;
  Set ints;
  for (int i = 0; i < 10; ++i) ints.Add(std::to_string(i), limits);
  CHECK(ints.StartSnapshot() == nullptr);  // an intset is serialized whole, as before

  Set set;
  for (int i = 0; i < 3000; ++i) set.Add("element:" + std::to_string(i), limits);
  const std::string before = Serialized(set);
  std::unique_ptr<storage::ObjectSnapshot> snapshot = set.StartSnapshot();
  REQUIRE(snapshot != nullptr);
  for (int i = 0; i < 3000; i += 2) set.Remove("element:" + std::to_string(i));
  for (int i = 0; i < 3000; ++i) set.Add("later:" + std::to_string(i), limits);
  std::string form;
  snapshot->Serialize(&form);
  set.EndSnapshot();
  std::unique_ptr<Set> back = Set::Decode(form, limits);
  REQUIRE(back != nullptr);
  CHECK(form.size() == before.size());
  CHECK(back->EncodingName() == "hashtable");
  CHECK(AsSet(*back) == AsSet(*Set::Decode(before, limits)));
  CHECK(set.size() == 1500 + 3000);

  Hash hash;
  for (int i = 0; i < 1000; ++i) hash.Set("f" + std::to_string(i), "v" + std::to_string(i), limits);
  REQUIRE(hash.EncodingName() == "hashtable");
  std::string hash_before;
  hash.Serialize(&hash_before);
  snapshot = hash.StartSnapshot();
  REQUIRE(snapshot != nullptr);
  for (int i = 0; i < 1000; ++i) hash.Set("f" + std::to_string(i), "changed", limits);
  hash.Remove("f7");
  std::string hash_form;
  snapshot->Serialize(&hash_form);
  hash.EndSnapshot();
  std::unique_ptr<Hash> hash_back = Hash::Decode(hash_form, limits);
  REQUIRE(hash_back != nullptr);
  CHECK(hash_back->size() == 1000);
  CHECK(hash_back->Get("f7") == std::optional<std::string_view>("v7"));
  CHECK(hash_back->Get("f999") == std::optional<std::string_view>("v999"));
  CHECK(hash.Get("f999") == std::optional<std::string_view>("changed"));
  CHECK_FALSE(hash.Get("f7").has_value());
}

}  // namespace dynakv::types
