// HyperLogLog registers: max-join, and the bytes checked against the implementation of Redis's
// HLL format that PFADD/PFCOUNT use (crdt/hyperloglog.*, itself tested against Redis): same
// registers, same count, and a canonical form the server (so Redis) reads back.
#include "crdt/hll_registers.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "crdt/hyperloglog.h"  // the reference for the byte format

namespace dynakv::crdt {

namespace shll = dynakv::crdt::hll;

namespace {

std::string Element(std::mt19937_64& rng) { return "el:" + std::to_string(rng()); }

void CheckSameRegisters(const HllRegisters& ours, std::string_view server_bytes) {
  for (int i = 0; i < HllRegisters::kRegisters; ++i) {
    REQUIRE(shll::Register(server_bytes, i) == ours.at(i));
  }
}

}  // namespace

TEST_CASE("HllRegisters: PFADD, bytes and count match the server's Redis format") {
  std::mt19937_64 rng(3);
  for (int n : {0, 1, 10, 200, 1000, 5000, 40000}) {
    CAPTURE(n);
    std::string server = shll::NewSparse();
    HllRegisters ours;
    for (int i = 0; i < n; ++i) {
      const std::string e = Element(rng);
      int si, ci;
      std::uint8_t sc, cc;
      shll::PatternOf(e, &si, &sc);
      HllRegisters::PatternOf(e, &ci, &cc);
      REQUIRE(si == ci);
      REQUIRE(sc == cc);
      shll::Add(&server, e, HllRegisters::kSparseMaxBytes);
      ours.Add(e);
    }
    HllRegisters read;
    REQUIRE(HllRegisters::FromRedis(server, &read));
    CHECK(read.Encode() == ours.Encode());
    bool invalid = false;
    CHECK(ours.Count() == shll::Count(server, &invalid));
    CHECK_FALSE(invalid);
    // What we write, the server (and so Redis) reads as the same registers and count.
    const std::string canonical = ours.ToRedis();
    REQUIRE(shll::LooksValid(canonical));
    CheckSameRegisters(ours, canonical);
    CHECK(shll::Count(canonical, &invalid) == ours.Count());
    CHECK_FALSE(invalid);
    std::uint64_t cached;
    CHECK_FALSE(shll::CachedCardinality(canonical, &cached));  // stale: Redis recomputes
    // The server's own bytes are a valid Redis form, but canonical only if they are ours.
    HllRegisters decoded;
    CHECK(HllRegisters::Decode(server, &decoded) == (server == canonical));
  }
}

TEST_CASE("HllRegisters: a dense value with small registers is written back sparse") {
  std::mt19937_64 rng(5);
  std::string server = shll::NewSparse();
  HllRegisters ours;
  for (int i = 0; i < 100; ++i) {
    const std::string e = Element(rng);
    shll::Add(&server, e, 3000);
    ours.Add(e);
  }
  REQUIRE(shll::SparseToDense(&server));
  HllRegisters read;
  REQUIRE(HllRegisters::FromRedis(server, &read));
  CHECK(read.ToRedis() == ours.ToRedis());
  CHECK(read.ToRedis().size() < 400);
  CHECK(static_cast<std::uint8_t>(read.ToRedis()[4]) == shll::kSparse);
  HllRegisters strict;
  CHECK_FALSE(HllRegisters::Decode(server, &strict));  // not the canonical form
}

TEST_CASE("HllRegisters: join is a register-wise max; deltas are a few bytes") {
  std::mt19937_64 rng(9);
  HllRegisters r[3];
  std::vector<HllRegisters> deltas;
  std::string all = shll::NewSparse();
  for (int i = 0; i < 3000; ++i) {
    const std::string e = Element(rng);
    HllRegisters d = r[i % 3].Add(e);
    shll::Add(&all, e, 3000);
    const std::string bytes = d.Encode();
    CHECK(bytes.size() <= 16 + 5);  // XZERO, VAL, XZERO: the one register that changed
    HllRegisters decoded;
    REQUIRE(HllRegisters::Decode(bytes, &decoded));
    deltas.push_back(decoded);
  }
  for (auto& replica : r) {
    std::shuffle(deltas.begin(), deltas.end(), rng);
    for (const auto& d : deltas) replica.Join(d);
  }
  CHECK(r[0].Encode() == r[1].Encode());
  CHECK(r[1].Encode() == r[2].Encode());
  CheckSameRegisters(r[0], all);

  // The server's register-array merge (PFMERGE's) and ours agree.
  std::vector<std::uint8_t> raw(HllRegisters::kRegisters, 0);
  REQUIRE(shll::MergeInto(raw.data(), all));
  CHECK(HllRegisters::FromRegisters(raw.data()).Encode() == r[0].Encode());
  std::vector<std::uint8_t> back(HllRegisters::kRegisters, 0);
  r[0].CopyTo(back.data());
  CHECK(back == raw);

  std::string joined;
  REQUIRE(JoinRedisHll(r[1].Encode(), all, &joined));
  CHECK(joined == r[0].Encode());
  HllRegisters a = r[0], b;
  b.Add("x");
  HllRegisters ab = a, ba = b;
  ab.Join(b);
  ba.Join(a);
  CHECK(ab.Encode() == ba.Encode());
  ab.Join(b);
  CHECK(ab.Encode() == ba.Encode());
}

TEST_CASE("HllRegisters: FromRedis rejects what Redis would not accept") {
  HllRegisters h;
  std::string good = HllRegisters().ToRedis();
  REQUIRE(HllRegisters::FromRedis(good, &h));
  CHECK_FALSE(HllRegisters::FromRedis("", &h));
  CHECK_FALSE(HllRegisters::FromRedis("HYLL", &h));
  std::string bad = good;
  bad[0] = 'X';
  CHECK_FALSE(HllRegisters::FromRedis(bad, &h));
  bad = good;
  bad[4] = 2;  // unknown encoding
  CHECK_FALSE(HllRegisters::FromRedis(bad, &h));
  bad = good;
  bad[4] = 0;  // dense of the wrong size
  CHECK_FALSE(HllRegisters::FromRedis(bad, &h));
  CHECK_FALSE(HllRegisters::FromRedis(good + std::string(1, '\0'), &h));  // one register too many
  CHECK_FALSE(HllRegisters::FromRedis(good.substr(0, good.size() - 1), &h));  // cut XZERO
}

}  // namespace dynakv::crdt
