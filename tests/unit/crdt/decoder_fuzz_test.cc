// Strict decoders: every byte string either is rejected or is exactly the canonical encoding of
// what it decodes to (Encode(Decode(b)) == b), so a decoder never accepts a form no replica
// could have written; and nothing, however garbled, crashes a decoder or the joins after it.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "crdt/hll_registers.h"
#include "crdt/hll_state.h"
#include "crdt/sequence.h"
#include "crdt_test_util.h"

namespace dynakv::crdt {

namespace {

std::string Mutate(std::mt19937_64& rng, const std::vector<std::string>& corpus) {
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  std::string s = corpus[pick(corpus.size())];
  const int rounds = 1 + static_cast<int>(pick(3));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(7)) {
      case 0:  // flip bits of one byte
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 + pick(255));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(pick(s.size()));
        break;
      case 2:  // insert a byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(pick(256)));
        break;
      case 3:  // delete a byte
        if (!s.empty()) s.erase(pick(s.size()), 1);
        break;
      case 4: {  // splice the tail of another encoding
        const std::string& other = corpus[pick(corpus.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
      case 5:  // a small number where there was one (varints are mostly small)
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(4));
        break;
      default: {  // garbage after a valid tag
        std::string g(1 + pick(40), '\0');
        for (char& c : g) c = static_cast<char>(pick(256));
        s = s.substr(0, 1) + g;
      }
    }
  }
  return s;
}

template <typename V>
void FuzzDecoder(const std::vector<std::string>& corpus, int iterations, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  V base;
  REQUIRE(V::Decode(corpus.back(), &base));
  int accepted = 0;
  for (int i = 0; i < iterations; ++i) {
    const std::string input = Mutate(rng, corpus);
    V v;
    if (!V::Decode(input, &v)) continue;
    ++accepted;
    REQUIRE(v.Encode() == input);
    V joined = base;  // a decoded value is a usable one
    joined.Join(v);
    V back;
    REQUIRE(V::Decode(joined.Encode(), &back));
  }
  // Some mutations land on another valid encoding (a changed value byte, say): both the
  // accepting and the rejecting paths are exercised.
  MESSAGE("accepted " << accepted << " of " << iterations << " mutations");
  CHECK(accepted > 0);
  CHECK(accepted < iterations);
}

}  // namespace

TEST_CASE("decoders: ORSet rejects mutated encodings it could not have written") {
  testing::History<ORSet> h(21, [](std::mt19937_64& rng, ORSet& s, const std::string& actor) {
    const std::string e = testing::RandomElement(rng, 6);
    return rng() % 3 == 0 ? s.Remove(e) : s.Add(actor, e);
  });
  h.Run(300);
  FuzzDecoder<ORSet>(h.Encodings(), 5000, 1);
}

TEST_CASE("decoders: AddWinsMap rejects mutated encodings it could not have written") {
  testing::History<AddWinsMap> h(
      22, [](std::mt19937_64& rng, AddWinsMap& m, const std::string& actor) {
        const std::string f = testing::RandomElement(rng, 6);
        AddWinsMap delta;
        std::int64_t result;
        switch (rng() % 3) {
          case 0:
            return m.Set(actor, f, static_cast<std::int64_t>(rng() % 1000) - 500, "v");
          case 1:
            m.IncrBy(actor, f, static_cast<std::int64_t>(rng() % 9) - 4, &result, &delta);
            return delta;
          default:
            return m.Remove(f);
        }
      });
  h.Run(300);
  FuzzDecoder<AddWinsMap>(h.Encodings(), 5000, 2);
}

TEST_CASE("decoders: ORSortedSet rejects mutated encodings it could not have written") {
  testing::History<ORSortedSet> h(
      23, [](std::mt19937_64& rng, ORSortedSet& z, const std::string& actor) {
        const std::string m = testing::RandomElement(rng, 6);
        ORSortedSet delta;
        double score;
        switch (rng() % 3) {
          case 0:
            return z.Add(actor, m, static_cast<std::int64_t>(rng() % 1000), (rng() % 100) / 3.0);
          case 1:
            z.IncrBy(actor, m, 0.25, &score, &delta);
            return delta;
          default:
            return z.Remove(m);
        }
      });
  h.Run(300);
  FuzzDecoder<ORSortedSet>(h.Encodings(), 5000, 3);
}

TEST_CASE("decoders: Sequence rejects mutated encodings it could not have written") {
  testing::History<Sequence> h(25, [](std::mt19937_64& rng, Sequence& s, const std::string& actor) {
    std::optional<std::string> popped;
    switch (rng() % 4) {
      case 0:
        return s.PushFront(actor, "v" + std::to_string(rng() % 10));
      case 1:
        return s.PushBack(actor, std::string(rng() % 3, 'x'));  // empty values too
      case 2:
        return s.PopFront(&popped);
      default:
        return s.PopBack(&popped);
    }
  });
  h.Run(300);
  FuzzDecoder<Sequence>(h.Encodings(), 5000, 5);
}

TEST_CASE("decoders: HllRegisters accepts only the canonical Redis form") {
  std::mt19937_64 rng(24);
  std::vector<std::string> corpus;
  HllRegisters h;
  for (int i = 0; i < 400; ++i) {
    corpus.push_back(h.Add("e" + std::to_string(rng())).Encode());
    if (i % 40 == 0) corpus.push_back(h.Encode());
  }
  corpus.push_back(h.Encode());
  FuzzDecoder<HllRegisters>(corpus, 3000, 4);
}

TEST_CASE("decoders: HllState accepts only what it could have written") {
  std::mt19937_64 rng(25);
  std::vector<std::string> corpus;
  HllState h;
  for (int i = 0; i < 300; ++i) {
    HllRegisters r = h.registers();
    r.Add("e" + std::to_string(rng()));
    if (i % 50 == 49) {
      corpus.push_back(
          h.Reset(1000 + i, "n" + std::to_string(i % 3), i % 100 == 99 ? nullptr : &r).Encode());
    } else {
      corpus.push_back(h.Raise(r).Encode());
    }
    if (i % 40 == 0) corpus.push_back(h.Encode());
  }
  corpus.push_back(h.Encode());
  FuzzDecoder<HllState>(corpus, 3000, 6);
}

TEST_CASE("decoders: contexts reject non-canonical forms") {
  ORSet s, out;
  s.Add("a", "x");
  const std::string good = s.Encode();  // 'S', 1 actor "a", vv 1, no cloud, 1 member x {0:1}
  REQUIRE(ORSet::Decode(good, &out));
  const std::string ctx_a = std::string(
      "\x01\x01"
      "a",
      3);
  auto with_ctx = [&](const std::string& ctx) { return "S" + ctx + std::string("\x00", 1); };
  CHECK(ORSet::Decode(with_ctx(ctx_a + std::string("\x01\x00", 2)), &out));        // vv a:1, empty
  CHECK_FALSE(ORSet::Decode(with_ctx(ctx_a + std::string("\x00\x00", 2)), &out));  // unused actor
  // A cloud dot right after the vector would have folded into it.
  CHECK_FALSE(ORSet::Decode(with_ctx(ctx_a + std::string("\x01\x01\x00\x02", 4)), &out));
  CHECK(ORSet::Decode(with_ctx(ctx_a + std::string("\x01\x01\x00\x03", 4)), &out));
  // Actors out of order, repeated, empty.
  CHECK_FALSE(ORSet::Decode(with_ctx(std::string("\x02\x01"
                                                 "b\x01"
                                                 "a\x01\x01\x00",
                                                 8)),
                            &out));
  CHECK_FALSE(ORSet::Decode(with_ctx(std::string("\x02\x01"
                                                 "a\x01"
                                                 "a\x01\x01\x00",
                                                 8)),
                            &out));
  CHECK_FALSE(ORSet::Decode(with_ctx(std::string("\x01\x00\x01\x00", 4)), &out));
  // An overlong varint (vv 1 as 0x81 0x00).
  CHECK_FALSE(ORSet::Decode(with_ctx(ctx_a + std::string("\x81\x00\x00", 3)), &out));
  // A member whose dot the context does not cover.
  CHECK_FALSE(ORSet::Decode("S" + ctx_a + std::string("\x01\x00\x01\x01x\x01\x00\x02", 8), &out));
  CHECK(ORSet::Decode("S" + ctx_a + std::string("\x01\x00\x01\x01x\x01\x00\x01", 8), &out));
  // A map's bytes are not a set's.
  AddWinsMap m;
  m.Set("a", "f", 1, "v");
  CHECK_FALSE(ORSet::Decode(m.Encode(), &out));
}

}  // namespace dynakv::crdt
