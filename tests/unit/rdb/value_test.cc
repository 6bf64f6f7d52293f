// RDB values: Redis's own DUMP bytes for small values of each type, round trips through every
// encoding (both sizes of each type, and the Redis 6 forms), and corrupt input refused.
#include "rdb/value.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rdb/dump_payload.h"
#include "rdb/primitives.h"
#include "rdb_test_util.h"
#include "types/codec.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::rdb {

namespace {

const types::TypeLimits kLimits;

std::string Encoded(const storage::ValueObject& object) {
  std::string out;
  EncodeObject(object, EncodeOptions{}, &out);
  return out;
}

std::string Payload(const storage::ValueObject& object) {
  return ToHex(MakeDumpPayload(Encoded(object)));
}

DecodedValue Decode(std::string_view bytes, DecodeError expect = DecodeError::kNone) {
  DecodedValue out;
  std::string_view in = bytes;
  const DecodeError error = DecodeTypedValue(&in, kLimits, &out);
  REQUIRE(error == expect);
  if (error == DecodeError::kNone) CHECK(in.empty());
  return out;
}

std::vector<std::pair<std::string, std::string>> HashContents(const storage::ValueObject* o) {
  const auto* h = dynamic_cast<const types::Hash*>(o);
  REQUIRE(h != nullptr);
  std::vector<std::pair<std::string, std::string>> out;
  h->ForEach([&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  return out;
}

std::vector<std::string> ListContents(const storage::ValueObject* o) {
  const auto* l = dynamic_cast<const types::List*>(o);
  REQUIRE(l != nullptr);
  std::vector<std::string> out;
  l->ForRange(0, l->size(), [&](std::string_view e) {
    out.emplace_back(e);
    return true;
  });
  return out;
}

std::set<std::string> SetContents(const storage::ValueObject* o) {
  const auto* s = dynamic_cast<const types::Set*>(o);
  REQUIRE(s != nullptr);
  std::set<std::string> out;
  s->ForEach([&](std::string_view m) { out.emplace(m); });
  return out;
}

std::vector<std::pair<std::string, double>> ZsetContents(const storage::ValueObject* o) {
  const auto* z = dynamic_cast<const types::SortedSet*>(o);
  REQUIRE(z != nullptr);
  std::vector<std::pair<std::string, double>> out;
  z->Walk(0, false, [&](std::string_view m, double s) {
    out.emplace_back(m, s);
    return true;
  });
  return out;
}

// A ziplist as Redis 6 builds one (ziplistPush at the tail): strings and small integers.
std::string Ziplist(const std::vector<std::string>& elements) {
  std::string body;
  std::size_t prev = 0;
  std::size_t last = 10;
  for (const std::string& e : elements) {
    std::string entry;
    entry.push_back(static_cast<char>(prev));  // every entry here is < 254 bytes
    std::int64_t v;
    if (types::Set::AsInteger(e, &v) && v >= 0 && v <= 12) {
      entry.push_back(static_cast<char>(0xF1 + v));
    } else if (types::Set::AsInteger(e, &v) && v >= INT16_MIN && v <= INT16_MAX) {
      entry.push_back(static_cast<char>(0xC0));
      entry.push_back(static_cast<char>(v & 0xff));
      entry.push_back(static_cast<char>((v >> 8) & 0xff));
    } else {
      REQUIRE(e.size() < 64);
      entry.push_back(static_cast<char>(e.size()));
      entry += e;
    }
    last = 10 + body.size();
    prev = entry.size();
    body += entry;
  }
  std::string zl;
  auto put32 = [&](std::size_t v) {
    for (int i = 0; i < 4; ++i) zl.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put32(10 + body.size() + 1);
  put32(last);
  zl.push_back(static_cast<char>(elements.size() & 0xff));
  zl.push_back(static_cast<char>(elements.size() >> 8));
  zl += body;
  zl.push_back(static_cast<char>(0xff));
  return zl;
}

std::string WithType(ObjectType type, std::string_view rest) {
  std::string out(1, static_cast<char>(type));
  out.append(rest);
  return out;
}

std::string Blob(std::string_view blob) {
  std::string out;
  PutString(&out, blob);
  return out;
}

}  // namespace

TEST_CASE("small values encode as redis-server 7.0 DUMPs them, byte for byte") {
  types::Hash hash;
  hash.Set("f1", "v1", kLimits);
  hash.Set("f2", "2", kLimits);
  CHECK(Payload(hash) == kRedisDumpHash);

  types::Set set;
  for (const char* m : {"1", "2", "3", "-70000"}) set.Add(m, kLimits);
  CHECK(Payload(set) == kRedisDumpIntset);

  types::SortedSet zset;
  zset.Add("a", 1, kLimits);
  zset.Add("b", 2.5, kLimits);
  zset.Add("c", -3, kLimits);
  CHECK(Payload(zset) == kRedisDumpZset);

  types::SortedSet scores;
  scores.Add("m", 1e17, kLimits);
  scores.Add("n", 0.1, kLimits);
  scores.Add("o", -5e18, kLimits);
  CHECK(Payload(scores) == kRedisDumpZsetScores);

  types::List list;
  for (const char* e : {"a", "b", "1", "2", "300"}) list.PushBack(e, kLimits);
  CHECK(Payload(list) == kRedisDumpList);

  std::string s;
  EncodeString("12345", EncodeOptions{}, &s);
  CHECK(ToHex(MakeDumpPayload(s)) == kRedisDumpInt);
}

TEST_CASE("Redis's DUMPs decode to the values they hold") {
  std::string_view value;
  std::string payload = FromHex(kRedisDumpHash);
  REQUIRE(OpenDumpPayload(payload, &value));
  DecodedValue v = Decode(value);
  CHECK(v.type == ObjectType::kHashListpack);
  CHECK(HashContents(v.object.get()) ==
        std::vector<std::pair<std::string, std::string>>{{"f1", "v1"}, {"f2", "2"}});

  payload = FromHex(kRedisDumpIntset);
  REQUIRE(OpenDumpPayload(payload, &value));
  v = Decode(value);
  CHECK(SetContents(v.object.get()) == std::set<std::string>{"-70000", "1", "2", "3"});
  CHECK(dynamic_cast<const types::Set*>(v.object.get())->EncodingName() == "intset");

  payload = FromHex(kRedisDumpZset);
  REQUIRE(OpenDumpPayload(payload, &value));
  v = Decode(value);
  CHECK(ZsetContents(v.object.get()) ==
        std::vector<std::pair<std::string, double>>{{"c", -3}, {"a", 1}, {"b", 2.5}});

  payload = FromHex(kRedisDumpList);
  REQUIRE(OpenDumpPayload(payload, &value));
  v = Decode(value);
  CHECK(ListContents(v.object.get()) == std::vector<std::string>{"a", "b", "1", "2", "300"});

  payload = FromHex(kRedisDumpBigString);
  REQUIRE(OpenDumpPayload(payload, &value));
  v = Decode(value);
  CHECK(v.object == nullptr);
  CHECK(v.string.size() == 300);
}

TEST_CASE("every type round-trips in both of its encodings") {
  std::mt19937_64 rng(42);
  auto random_text = [&](std::size_t max_len) {
    std::string s;
    const std::size_t n = rng() % (max_len + 1);
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng()));
    if (rng() % 4 == 0) s = std::to_string(static_cast<std::int64_t>(rng()) >> (rng() % 64));
    return s;
  };
  for (std::size_t size : {1, 5, 127, 128, 129, 600, 3000}) {
    CAPTURE(size);
    types::Hash hash;
    types::Set set;
    types::Set intset;
    types::List list;
    types::SortedSet zset;
    std::map<std::string, std::string> hash_expect;
    for (std::size_t i = 0; i < size; ++i) {
      const std::string key = random_text(size > 200 ? 100 : 20) + "#" + std::to_string(i);
      const std::string value = random_text(size > 200 ? 300 : 30);
      hash.Set(key, value, kLimits);
      set.Add(key, kLimits);
      intset.Add(std::to_string(static_cast<std::int64_t>(rng()) >> (rng() % 64)), kLimits);
      list.PushBack(value, kLimits);
      zset.Add(key, static_cast<double>(static_cast<std::int64_t>(rng() % 2001) - 1000) / 8,
               kLimits);
    }
    auto check = [&](const storage::ValueObject& original, auto contents) {
      CAPTURE(static_cast<int>(types::TypeOf(&original)));
      const std::string bytes = Encoded(original);
      DecodedValue v = Decode(bytes);
      CHECK(contents(v.object.get()) == contents(&original));
      // Decoded again from our encoding, the same bytes come out, except for a hash table's
      // order, which depends on its insertion history.
      const auto type = static_cast<ObjectType>(bytes[0]);
      if (type != ObjectType::kSet && type != ObjectType::kHash) CHECK(Encoded(*v.object) == bytes);
    };
    check(hash, [](const storage::ValueObject* o) {
      auto pairs = HashContents(o);
      return std::map<std::string, std::string>(pairs.begin(), pairs.end());
    });
    check(set, SetContents);
    check(intset, SetContents);
    check(list, ListContents);
    check(zset, ZsetContents);
  }
}

TEST_CASE("large lists are split into nodes as Redis splits pushes") {
  types::List list;
  for (int i = 0; i < 5000; ++i) list.PushBack("element-" + std::to_string(i), kLimits);
  const std::string bytes = Encoded(list);
  std::string_view in = bytes;
  in.remove_prefix(1);
  std::uint64_t nodes = 0;
  REQUIRE(GetLength(&in, &nodes));
  CHECK(nodes > 1);
  // Every node but the last is just under the 8 KB of list-max-listpack-size -2.
  std::string blob;
  for (std::uint64_t i = 0; i < nodes; ++i) {
    std::uint64_t container;
    REQUIRE(GetLength(&in, &container));
    CHECK(container == 2);
    REQUIRE(GetString(&in, &blob));
    CHECK(blob.size() <= 8192);
    if (i + 1 < nodes) CHECK(blob.size() > 8000);
  }
  CHECK(in.empty());
}

TEST_CASE("listpack entries with one- and two-byte back-lengths (and a plain node) round-trip") {
  types::List list;
  const std::vector<std::string> elements = {"short", std::string(200, 'b'),
                                             std::string(20000, 'c'), "7", std::string(126, 'd')};
  for (const std::string& e : elements) list.PushBack(e, kLimits);
  DecodedValue v = Decode(Encoded(list));
  CHECK(ListContents(v.object.get()) == elements);
}

TEST_CASE("the Redis 6 and older forms decode") {
  // Lists: a quicklist of ziplists, a single ziplist, a plain list.
  const std::string zl = Ziplist({"a", "7", "-300", "hello"});
  std::string quick;
  PutLength(&quick, 2);
  quick += Blob(zl);
  quick += Blob(Ziplist({"z"}));
  DecodedValue v = Decode(WithType(ObjectType::kListQuicklist, quick));
  CHECK(ListContents(v.object.get()) == std::vector<std::string>{"a", "7", "-300", "hello", "z"});
  v = Decode(WithType(ObjectType::kListZiplist, Blob(zl)));
  CHECK(ListContents(v.object.get()) == std::vector<std::string>{"a", "7", "-300", "hello"});
  std::string plain;
  PutLength(&plain, 2);
  PutString(&plain, "x");
  PutString(&plain, "y");
  v = Decode(WithType(ObjectType::kList, plain));
  CHECK(ListContents(v.object.get()) == std::vector<std::string>{"x", "y"});

  // Hashes and sorted sets as ziplists; the old string-scored sorted set.
  v = Decode(WithType(ObjectType::kHashZiplist, Blob(Ziplist({"f", "1", "g", "two"}))));
  CHECK(HashContents(v.object.get()) ==
        std::vector<std::pair<std::string, std::string>>{{"f", "1"}, {"g", "two"}});
  v = Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"m", "-2", "n", "1.5"}))));
  CHECK(ZsetContents(v.object.get()) ==
        std::vector<std::pair<std::string, double>>{{"m", -2}, {"n", 1.5}});
  std::string old_zset;
  PutLength(&old_zset, 1);
  PutString(&old_zset, "k");
  old_zset += std::string(
      "\x03"
      "0.5",
      4);
  v = Decode(WithType(ObjectType::kZset, old_zset));
  CHECK(ZsetContents(v.object.get()) == std::vector<std::pair<std::string, double>>{{"k", 0.5}});
}

TEST_CASE("Redis 2.x zipmap hashes decode") {
  // {"f": "1", "long": "value"}, the second value with 2 free bytes after it.
  const std::string zipmap = std::string("\x02\x01", 2) + "f" + std::string("\x01\x00", 2) + "1" +
                             "\x04"
                             "long"
                             "\x05\x02"
                             "valuexx"
                             "\xff";
  DecodedValue v = Decode(WithType(ObjectType::kHashZipmap, Blob(zipmap)));
  CHECK(HashContents(v.object.get()) ==
        std::vector<std::pair<std::string, std::string>>{{"f", "1"}, {"long", "value"}});
  std::string wrong_count = zipmap;
  wrong_count[0] = 3;
  Decode(WithType(ObjectType::kHashZipmap, Blob(wrong_count)), DecodeError::kCorrupt);
  Decode(WithType(ObjectType::kHashZipmap, Blob(zipmap.substr(0, zipmap.size() - 1))),
         DecodeError::kCorrupt);
}

TEST_CASE("the encodings are chosen afresh by the limits, as Redis converts on load") {
  // A hashtable-form hash of two fields becomes a listpack; a hashtable set of integers an intset.
  std::string h;
  PutLength(&h, 2);
  for (const char* s : {"a", "1", "b", "2"}) PutString(&h, s);
  DecodedValue v = Decode(WithType(ObjectType::kHash, h));
  CHECK(dynamic_cast<const types::Hash*>(v.object.get())->EncodingName() == "listpack");
  std::string s;
  PutLength(&s, 2);
  PutString(&s, "5");
  PutString(&s, "9");
  v = Decode(WithType(ObjectType::kSet, s));
  CHECK(dynamic_cast<const types::Set*>(v.object.get())->EncodingName() == "intset");
}

TEST_CASE("packed hashes and sorted sets are built whole: order, duplicates and limits") {
  // Their pairs are collected and the value built once (value_decode.cc): a sorted set out of
  // the set's order is still sorted, a field or member twice is still corrupt, and a packed
  // value over the limits still gets the large encoding.
  DecodedValue v =
      Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"b", "2", "a", "2", "c", "-1"}))));
  CHECK(ZsetContents(v.object.get()) ==
        std::vector<std::pair<std::string, double>>{{"c", -1}, {"a", 2}, {"b", 2}});
  Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"a", "1", "a", "2"}))),
         DecodeError::kCorrupt);  // ascending by score, the member twice
  Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"a", "2", "a", "1"}))),
         DecodeError::kCorrupt);  // out of order, the member twice
  Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"a", "x1"}))), DecodeError::kCorrupt);
  Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist({"a", "nan"}))), DecodeError::kCorrupt);
  // Scores are read as strtod reads them (zzlStrtod): a plain decimal the fast way, the rest too.
  v = Decode(WithType(ObjectType::kZsetZiplist,
                      Blob(Ziplist({"a", "+1.5", "b", "0x10", "c", "2.5e0", "d", "1e400"}))));
  CHECK(ZsetContents(v.object.get()) == std::vector<std::pair<std::string, double>>{
                                            {"a", 1.5}, {"c", 2.5}, {"b", 16}, {"d", HUGE_VAL}});
  Decode(WithType(ObjectType::kHashZiplist, Blob(Ziplist({"f", "1", "g", "2", "f", "3"}))),
         DecodeError::kCorrupt);
  v = Decode(WithType(ObjectType::kHashZiplist, Blob(Ziplist({"g", "2", "f", "1"}))));
  CHECK(HashContents(v.object.get()) ==
        std::vector<std::pair<std::string, std::string>>{{"g", "2"}, {"f", "1"}});
  CHECK(dynamic_cast<const types::Hash*>(v.object.get())->EncodingName() == "listpack");
  // Over the default hash-max-listpack-entries and zset-max-listpack-entries: the large
  // encodings.
  REQUIRE(kLimits.hash_max_listpack_entries < 600);
  REQUIRE(kLimits.zset_max_listpack_entries < 200);
  std::vector<std::string> fields, members;
  for (int i = 0; i < 600; ++i) {
    fields.push_back("field-" + std::to_string(i));
    fields.push_back("v" + std::to_string(i));
  }
  for (int i = 0; i < 200; ++i) {
    members.push_back("m" + std::to_string(1000 + i));
    members.push_back(std::to_string(i));
  }
  v = Decode(WithType(ObjectType::kHashZiplist, Blob(Ziplist(fields))));
  CHECK(dynamic_cast<const types::Hash*>(v.object.get())->EncodingName() == "hashtable");
  CHECK(HashContents(v.object.get()).size() == 600);
  CHECK(dynamic_cast<const types::Hash*>(v.object.get())->Get("field-150") == "v150");
  v = Decode(WithType(ObjectType::kZsetZiplist, Blob(Ziplist(members))));
  CHECK(dynamic_cast<const types::SortedSet*>(v.object.get())->EncodingName() == "skiplist");
  const auto zset = ZsetContents(v.object.get());
  REQUIRE(zset.size() == 200);
  CHECK(zset.front() == std::pair<std::string, double>{"m1000", 0});
  CHECK(zset.back() == std::pair<std::string, double>{"m1199", 199});
}

TEST_CASE("streams and modules are recognized and refused as unsupported") {
  Decode(WithType(ObjectType::kStreamListpacks, "\x01\x02"), DecodeError::kUnsupported);
  Decode(WithType(ObjectType::kStreamListpacks2, ""), DecodeError::kUnsupported);
  Decode(WithType(ObjectType::kModule2, "xyz"), DecodeError::kUnsupported);
  CHECK(ObjectTypeName(ObjectType::kStreamListpacks2) == "stream");
  CHECK(ObjectTypeName(ObjectType::kModule2) == "module");
  Decode(std::string(1, '\x63'), DecodeError::kCorrupt);  // no such type
}

TEST_CASE("corrupt values are refused") {
  // Empty collections, duplicates, NaN scores, bad listpacks.
  std::string empty;
  PutLength(&empty, 0);
  Decode(WithType(ObjectType::kSet, empty), DecodeError::kCorrupt);
  Decode(WithType(ObjectType::kListQuicklist2, empty), DecodeError::kCorrupt);
  std::string dup;
  PutLength(&dup, 2);
  PutString(&dup, "m");
  PutString(&dup, "m");
  Decode(WithType(ObjectType::kSet, dup), DecodeError::kCorrupt);
  std::string nan_zset;
  PutLength(&nan_zset, 1);
  PutString(&nan_zset, "m");
  nan_zset += '\xfd';
  Decode(WithType(ObjectType::kZset, nan_zset), DecodeError::kCorrupt);
  Decode(WithType(ObjectType::kHashZiplist, Blob(Ziplist({"f"}))), DecodeError::kCorrupt);
  Decode(WithType(ObjectType::kHashListpack, Blob("garbage")), DecodeError::kCorrupt);
  Decode(
      WithType(ObjectType::kSetIntset, Blob(std::string("\x02\0\0\0\x02\0\0\0\x05\0\x03\0", 12))),
      DecodeError::kCorrupt);  // not ascending
}

TEST_CASE("truncated and bit-flipped values never crash and never half-decode") {
  std::vector<std::string> samples;
  for (std::string_view hex : {kRedisDumpHash, kRedisDumpIntset, kRedisDumpZset, kRedisDumpList,
                               kRedisDumpBigString, kRedisDumpInt}) {
    const std::string p = FromHex(hex);
    samples.push_back(p.substr(0, p.size() - 10));
  }
  types::List big;
  for (int i = 0; i < 3000; ++i)
    big.PushBack(std::string(i % 50, 'x') + std::to_string(i), kLimits);
  samples.push_back(Encoded(big));
  std::mt19937_64 rng(3);
  for (const std::string& sample : samples) {
    for (std::size_t cut = 0; cut < sample.size(); ++cut) {
      DecodedValue v;
      std::string_view in(sample.data(), cut);
      CHECK(DecodeTypedValue(&in, kLimits, &v) != DecodeError::kNone);
    }
    for (int round = 0; round < 300; ++round) {
      std::string bad = sample;
      bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
      DecodedValue v;
      std::string_view in = bad;
      if (DecodeTypedValue(&in, kLimits, &v) == DecodeError::kNone && v.object) {
        CHECK_FALSE(v.object->Empty());
      }
    }
  }
}

}  // namespace dynakv::rdb
