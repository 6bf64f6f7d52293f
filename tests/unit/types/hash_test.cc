// Hashes: both encodings, the conversion thresholds, the serialized form and element operations.
#include "types/hash.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "types/codec.h"
#include "types/ops.h"

namespace dynakv::types {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Contents(const Hash& h) {
  Pairs out;
  h.ForEach([&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  return out;
}

std::map<std::string, std::string> AsMap(const Hash& h) {
  std::map<std::string, std::string> out;
  h.ForEach([&](std::string_view f, std::string_view v) { out.emplace(f, v); });
  return out;
}

std::string Serialized(const Hash& h) {
  std::string out;
  h.Serialize(&out);
  return out;
}

}  // namespace

TEST_CASE("hash listpack: insertion order, overwrite in place, removal") {
  TypeLimits limits;
  Hash h;
  CHECK(h.encoding() == Hash::Encoding::kListpack);
  CHECK(h.Set("a", "1", limits));
  CHECK(h.Set("b", "2", limits));
  CHECK(h.Set("c", "3", limits));
  CHECK_FALSE(h.Set("b", "a much longer value", limits));
  CHECK_FALSE(h.Set("a", "", limits));
  CHECK(Contents(h) == Pairs{{"a", ""}, {"b", "a much longer value"}, {"c", "3"}});
  CHECK(h.Get("b") == "a much longer value");
  CHECK_FALSE(h.Get("zz").has_value());
  CHECK(h.Remove("b"));
  CHECK_FALSE(h.Remove("b"));
  CHECK(Contents(h) == Pairs{{"a", ""}, {"c", "3"}});
  CHECK(h.size() == 2);
  CHECK(h.Remove("a"));
  CHECK(h.Remove("c"));
  CHECK(h.Empty());
}

TEST_CASE("hash: converts to hashtable past the entry and value thresholds, as Redis") {
  TypeLimits limits;  // 512 entries, 64 bytes
  SUBCASE("entries") {
    Hash h;
    for (int i = 0; i < 512; ++i) h.Set("f" + std::to_string(i), "v", limits);
    CHECK(h.EncodingName() == "listpack");
    h.Set("f0", "again", limits);  // an overwrite adds nothing
    CHECK(h.EncodingName() == "listpack");
    h.Set("f512", "v", limits);
    CHECK(h.EncodingName() == "hashtable");
    CHECK(h.size() == 513);
    CHECK(h.Get("f0") == "again");
    // Never back, however small it gets.
    for (int i = 0; i < 500; ++i) h.Remove("f" + std::to_string(i));
    CHECK(h.EncodingName() == "hashtable");
  }
  SUBCASE("value length") {
    Hash h;
    h.Set("f", std::string(64, 'x'), limits);
    CHECK(h.EncodingName() == "listpack");
    h.Set("g", std::string(65, 'x'), limits);
    CHECK(h.EncodingName() == "hashtable");
    CHECK(h.Get("f") == std::string(64, 'x'));
  }
  SUBCASE("field length") {
    Hash h;
    h.Set(std::string(65, 'k'), "v", limits);
    CHECK(h.EncodingName() == "hashtable");
  }
  SUBCASE("limits of zero: always a hashtable") {
    TypeLimits none;
    none.hash_max_listpack_entries = 0;
    Hash h;
    h.Set("a", "b", none);
    CHECK(h.EncodingName() == "hashtable");
  }
}

TEST_CASE("hash: serialized form round-trips and decoding picks the encoding") {
  TypeLimits limits;
  Hash small;
  small.Set("x", "1", limits);
  small.Set("y", "2", limits);
  auto back = Hash::Decode(Serialized(small), limits);
  REQUIRE(back);
  CHECK(back->EncodingName() == "listpack");
  CHECK(Contents(*back) == Contents(small));

  Hash big;
  for (int i = 0; i < 1000; ++i) big.Set("field:" + std::to_string(i), std::to_string(i), limits);
  REQUIRE(big.EncodingName() == "hashtable");
  auto big_back = Hash::Decode(Serialized(big), limits);
  REQUIRE(big_back);
  CHECK(big_back->EncodingName() == "hashtable");
  CHECK(AsMap(*big_back) == AsMap(big));

  // A hashtable that shrank stays one (RENAME, COPY and restarts keep what it became).
  for (int i = 10; i < 1000; ++i) big.Remove("field:" + std::to_string(i));
  auto shrunk = Hash::Decode(Serialized(big), limits);
  REQUIRE(shrunk);
  CHECK(shrunk->EncodingName() == "hashtable");
  CHECK(AsMap(*shrunk) == AsMap(big));

  // Other limits, other encoding.
  TypeLimits tight;
  tight.hash_max_listpack_entries = 1;
  auto tight_back = Hash::Decode(Serialized(small), tight);
  REQUIRE(tight_back);
  CHECK(tight_back->EncodingName() == "hashtable");
}

TEST_CASE("hash: SerializeListpack writes what Sets of new fields serialize to, while a listpack") {
  TypeLimits limits;
  limits.hash_max_listpack_entries = 4;
  limits.hash_max_listpack_value = 8;
  Pairs pairs;
  for (int n = 0; n <= 6; ++n) {
    CAPTURE(n);
    Hash hash;
    for (const auto& [field, value] : pairs) hash.Set(field, value, limits);
    std::string expected;
    hash.Serialize(&expected);
    std::string out;
    const bool listpack = hash.encoding() == Hash::Encoding::kListpack;
    CHECK(Hash::SerializeListpack(pairs, limits, &out) == listpack);
    CHECK(out == (listpack ? expected : ""));
    pairs.emplace_back("f" + std::to_string(n), std::string(static_cast<std::size_t>(n), 'v'));
  }
  std::string out;
  CHECK_FALSE(Hash::SerializeListpack({{"f", "a value too long"}}, limits, &out));
  CHECK(out.empty());
}

TEST_CASE("hash: malformed serialized forms are refused") {
  TypeLimits limits;
  Hash h;
  h.Set("a", "1", limits);
  h.Set("b", "2", limits);
  const std::string good = Serialized(h);
  CHECK(Hash::Decode(good, limits) != nullptr);
  CHECK(Hash::Decode("", limits) == nullptr);
  CHECK(Hash::Decode(std::string(1, '\x07') + good.substr(1), limits) == nullptr);      // tag
  CHECK(Hash::Decode(good.substr(0, 1) + '\x02' + good.substr(2), limits) == nullptr);  // flags
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    CHECK(Hash::Decode(good.substr(0, cut), limits) == nullptr);
  }
  CHECK(Hash::Decode(good + "x", limits) == nullptr);  // trailing bytes
  // A field twice cannot come from a hash.
  TypeLimits none;
  none.hash_max_listpack_entries = 0;
  std::string twice = good;
  twice[8] = 'a';  // tag, flags, count, len, 'a', len, '1', len, 'b' -> 'a'
  CHECK(Hash::Decode(twice, none) == nullptr);
}

TEST_CASE("hash hashtable: HSCAN cursors visit every field once the scan ends, across resizes") {
  TypeLimits limits;
  Hash h;
  for (int i = 0; i < 5000; ++i) h.Set("f" + std::to_string(i), "v", limits);
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  int grown = 5000;
  do {
    cursor = h.Scan(cursor, 10, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    ++calls;
    // Fields added and removed meanwhile must not hide the ones present throughout.
    if (calls % 50 == 0) {
      for (int j = 0; j < 500; ++j) h.Set("g" + std::to_string(grown++), "v", limits);
    }
  } while (cursor != 0);
  for (int i = 0; i < 5000; ++i) CHECK(seen.count("f" + std::to_string(i)) == 1);
  CHECK(calls > 100);  // COUNT was honoured, roughly
}

TEST_CASE("hash: random fields are fields of the hash, and all of them come up") {
  TypeLimits limits;
  for (int n : {3, 300}) {
    Hash h;
    for (int i = 0; i < n; ++i) h.Set("f" + std::to_string(i), "v" + std::to_string(i), limits);
    std::mt19937_64 rng(42);
    std::set<std::string> seen;
    for (int i = 0; i < n * 50; ++i) {
      const auto [f, v] = h.Random(rng);
      REQUIRE(h.Get(f) == v);
      seen.emplace(f);
    }
    CHECK(seen.size() == static_cast<std::size_t>(n));
  }
}

TEST_CASE("hash: memory usage follows the contents") {
  TypeLimits limits;
  Hash h;
  const std::size_t empty = h.MemoryUsage();
  for (int i = 0; i < 10000; ++i) h.Set("field" + std::to_string(i), "value", limits);
  CHECK(h.MemoryUsage() > empty + 10000 * 10);
  const std::size_t full = h.MemoryUsage();
  for (int i = 0; i < 9990; ++i) h.Remove("field" + std::to_string(i));
  CHECK(h.MemoryUsage() < full / 4);
}

TEST_CASE("codec: element operations create, change and are refused when malformed") {
  TypesCodec codec;
  std::unique_ptr<storage::ValueObject> created;
  std::int64_t result = -1;
  OpBuilder set(OpCode::kHashSet, 4);
  set.Add("a").Add("1").Add("b").Add("2");
  REQUIRE(codec.Apply(nullptr, set.op(), &result, &created));
  CHECK(result == 2);
  REQUIRE(created);
  CHECK(TypeOf(created.get()) == ValueType::kHash);
  CHECK(TypeName(TypeOf(created.get())) == "hash");
  CHECK(TypeName(TypeOf(nullptr)) == "string");

  OpBuilder again(OpCode::kHashSet, 4);
  again.Add("a").Add("x").Add("c").Add("3");
  std::unique_ptr<storage::ValueObject> unused;
  REQUIRE(codec.Apply(created.get(), again.op(), &result, &unused));
  CHECK(result == 1);
  CHECK_FALSE(unused);

  OpBuilder del(OpCode::kHashDel, 2);
  del.Add("a").Add("nope");
  REQUIRE(codec.Apply(created.get(), del.op(), &result, &unused));
  CHECK(result == 1);
  const auto& hash = dynamic_cast<const Hash&>(*created);
  CHECK(Contents(hash) == Pairs{{"b", "2"}, {"c", "3"}});

  // Odd pair counts, empty ops, unknown opcodes and truncation change nothing.
  OpBuilder odd(OpCode::kHashSet, 1);
  odd.Add("lonely");
  CHECK_FALSE(codec.Apply(created.get(), odd.op(), &result, &unused));
  CHECK_FALSE(codec.Apply(created.get(), "", &result, &unused));
  CHECK_FALSE(codec.Apply(created.get(), std::string("\x09\x00", 2), &result, &unused));
  CHECK_FALSE(
      codec.Apply(created.get(), set.op().substr(0, set.op().size() - 1), &result, &unused));
  CHECK(Contents(hash) == Pairs{{"b", "2"}, {"c", "3"}});

  // The codec decodes what hashes serialize.
  std::string bytes;
  created->Serialize(&bytes);
  auto decoded = codec.Decode(bytes);
  REQUIRE(decoded);
  CHECK(Contents(dynamic_cast<const Hash&>(*decoded)) == Contents(hash));
  CHECK(codec.Decode("") == nullptr);
  CHECK(codec.Decode("\x7f") == nullptr);
}

TEST_CASE("codec: its limits decide the encodings of what it creates") {
  TypesCodec codec;
  codec.mutable_limits().hash_max_listpack_entries = 2;
  std::unique_ptr<storage::ValueObject> created;
  std::int64_t result = 0;
  OpBuilder set(OpCode::kHashSet, 6);
  set.Add("a").Add("1").Add("b").Add("2").Add("c").Add("3");
  REQUIRE(codec.Apply(nullptr, set.op(), &result, &created));
  CHECK(dynamic_cast<const Hash&>(*created).EncodingName() == "hashtable");
}

TEST_CASE("codec: decoding and applying garbage never crashes") {
  TypesCodec codec;
  codec.mutable_limits().hash_max_listpack_entries = 4;
  Hash h;
  for (int i = 0; i < 10; ++i) h.Set("f" + std::to_string(i), "v", codec.limits());
  const std::string good = Serialized(h);
  OpBuilder set(OpCode::kHashSet, 4);
  set.Add("a").Add("1").Add("b").Add("2");
  std::mt19937 rng(3);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = round % 2 == 0 ? good : set.op();
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    if (round % 2 == 0) {
      auto decoded = codec.Decode(bytes);
      // Whatever it decoded is a consistent hash (a flipped tag byte may name another type).
      if (const auto* decoded_hash = dynamic_cast<const Hash*>(decoded.get())) {
        const auto& hash = *decoded_hash;
        std::size_t n = 0;
        hash.ForEach([&](std::string_view f, std::string_view v) {
          ++n;
          CHECK(hash.Get(f).has_value());
          (void)v;
        });
        CHECK(n == hash.size());
      }
    } else {
      std::unique_ptr<storage::ValueObject> target = codec.Decode(good);
      std::unique_ptr<storage::ValueObject> created;
      std::int64_t result = 0;
      codec.Apply(target.get(), bytes, &result, &created);
      codec.Apply(nullptr, bytes, &result, &created);
    }
  }
}

}  // namespace dynakv::types
