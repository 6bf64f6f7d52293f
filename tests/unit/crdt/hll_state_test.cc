// The HyperLogLog of cluster mode: register-wise max within an epoch, delete wins across epochs,
// deltas joined in any order, duplicated or not, to the same bytes.
#include "crdt/hll_state.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace dynakv::crdt {

namespace {

// PFADD of `elements` on a replica: its registers raised, the delta returned.
HllState PfAdd(HllState& replica, const std::vector<std::string>& elements) {
  HllRegisters result = replica.registers();
  for (const std::string& e : elements) result.Add(e);
  return replica.Raise(result);
}

HllRegisters Of(const std::vector<std::string>& elements) {
  HllRegisters r;
  for (const std::string& e : elements) r.Add(e);
  return r;
}

}  // namespace

TEST_CASE("HllState: concurrent PFADDs through different replicas all count") {
  HllState a, b;
  const HllState da = PfAdd(a, {"x", "y"});
  const HllState db = PfAdd(b, {"z"});
  a.Join(db);
  b.Join(da);
  CHECK(a.Encode() == b.Encode());
  CHECK(a.exists());
  HllRegisters all = Of({"x", "y", "z"});
  CHECK(a.registers().ToRedis() == all.ToRedis());
  CHECK(a.registers().Count() == 3);
  // A delta holds only what it raised: adding elements already counted ships no register.
  const HllState none = PfAdd(a, {"x"});
  CHECK(none.registers().IsZero());
  CHECK(none.exists());
}

TEST_CASE(
    "HllState: a created empty HLL exists; a delete empties it and wins over concurrent adds") {
  HllState a;
  const HllState created = a.Raise(HllRegisters());  // PFADD key (no element)
  CHECK(a.exists());
  CHECK(a.registers().IsZero());
  HllState b;
  b.Join(created);
  CHECK(b.exists());
  PfAdd(a, {"1", "2"});
  b.Join(a);
  // b deletes; a adds concurrently (it has not seen the delete).
  const HllState del = b.Reset(500, "n2", nullptr);
  CHECK_FALSE(b.exists());
  const HllState concurrent = PfAdd(a, {"3"});
  a.Join(del);
  b.Join(concurrent);
  CHECK(a.Encode() == b.Encode());
  CHECK_FALSE(a.exists());
  CHECK(a.registers().IsZero());
  // An add that saw the delete counts, on a replica that joins it before or after the delete.
  const HllState after = PfAdd(a, {"4"});
  HllState c;
  c.Join(after);
  c.Join(del);
  CHECK(c.Encode() == a.Encode());
  CHECK(c.exists());
  CHECK(c.registers().ToRedis() == Of({"4"}).ToRedis());
}

TEST_CASE("HllState: a reset's epoch is later than the one it saw, whatever its timestamp") {
  HllState a;
  a.Reset(1000, "n1", nullptr);
  const HllState second = a.Reset(10, "n2", nullptr);  // a clock behind the first reset's
  CHECK(second.epoch().timestamp_us == 1001);
  HllState old;
  old.Reset(1000, "n1", nullptr);
  old.Join(second);
  CHECK(old.epoch() == second.epoch());
  // A reset holding a result (a SET of other HLL bytes) replaces the registers it saw.
  HllState b;
  PfAdd(b, {"a", "b", "c"});
  const HllRegisters smaller = Of({"z"});
  b.Reset(2000, "n1", &smaller);
  CHECK(b.exists());
  CHECK(b.registers().ToRedis() == smaller.ToRedis());
}

TEST_CASE("HllState: deltas of three replicas joined in any order give the same bytes") {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 30; ++round) {
    HllState r[3];
    std::vector<HllState> deltas;
    std::int64_t ts = 100;
    for (int step = 0; step < 40; ++step) {
      const int w = static_cast<int>(rng() % 3);
      if (rng() % 6 == 0) {
        r[rng() % 3].Join(r[w]);  // a whole copy (repair, anti-entropy)
        continue;
      }
      if (rng() % 10 == 0) {
        HllRegisters kept = Of({"k" + std::to_string(rng() % 50)});
        deltas.push_back(
            r[w].Reset(ts += 10, "n" + std::to_string(w), rng() % 2 == 0 ? nullptr : &kept));
      } else {
        std::vector<std::string> elements;
        for (int i = 0; i < 1 + static_cast<int>(rng() % 4); ++i) {
          elements.push_back("e" + std::to_string(rng() % 500));
        }
        deltas.push_back(PfAdd(r[w], elements));
      }
      if (rng() % 2 == 0) r[rng() % 3].Join(deltas.back());
    }
    HllState reference;
    for (const HllState& d : deltas) reference.Join(d);
    for (HllState& replica : r) {
      std::vector<HllState> order = deltas;
      order.insert(order.end(), deltas.begin(), deltas.begin() + deltas.size() / 2);
      std::shuffle(order.begin(), order.end(), rng);
      for (const HllState& d : order) replica.Join(d);
      REQUIRE(replica.Encode() == reference.Encode());
      HllState decoded;
      REQUIRE(HllState::Decode(replica.Encode(), &decoded));
      CHECK(decoded.Encode() == replica.Encode());
    }
  }
}

TEST_CASE("HllState: the encoding is strict") {
  HllState h;
  PfAdd(h, {"a"});
  const std::string good = h.Encode();
  HllState out;
  REQUIRE(HllState::Decode(good, &out));
  CHECK_FALSE(HllState::Decode(good + "x", &out));
  CHECK_FALSE(HllState::Decode(good.substr(0, good.size() - 1), &out));
  CHECK_FALSE(HllState::Decode("", &out));
  // Registers in an epoch that does not exist: only a delete empties an epoch, and it clears them.
  std::string no_key = good;
  no_key[3] = 0;  // tag, epoch 0 (one byte), empty origin (one byte), then the exists byte
  CHECK_FALSE(HllState::Decode(no_key, &out));
  // A stamped epoch without an origin, and an origin without a stamp.
  HllState reset;
  reset.Reset(7, "n1", nullptr);
  std::string stamped = reset.Encode();
  REQUIRE(HllState::Decode(stamped, &out));
  CHECK(out.epoch().timestamp_us == 7);
  CHECK(out.epoch().origin == "n1");
  // 'P', zigzag 7, "n1", then the exists byte and the registers.
  REQUIRE(stamped.substr(0, 5) == std::string("P\x0e\x02n1", 5));
  const std::string rest = stamped.substr(5);
  CHECK_FALSE(HllState::Decode(std::string("P\x0e\x00", 3) + rest, &out));
  CHECK_FALSE(HllState::Decode(std::string("P\x00\x02n1", 5) + rest, &out));
  CHECK(HllState::Decode(std::string("P\x0e\x02n1", 5) + rest, &out));
}

}  // namespace dynakv::crdt
