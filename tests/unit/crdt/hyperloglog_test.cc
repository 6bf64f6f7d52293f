#include "crdt/hyperloglog.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dynakv::crdt::hll {
namespace {

constexpr std::size_t kMax = 3000;

std::string Header(std::uint8_t encoding) {
  std::string header("HYLL", 4);
  header.push_back(static_cast<char>(encoding));
  header.append(11, '\0');
  return header;
}

std::string Body(const std::string& hll) { return hll.substr(kHeaderSize); }

unsigned DenseRegister(const std::string& hll, int index) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(hll.data()) + kHeaderSize;
  const std::size_t byte = static_cast<std::size_t>(index) * 6 / 8;
  const unsigned fb = static_cast<unsigned>(index * 6) & 7;
  const unsigned b1 = byte + 1 < kDenseSize - kHeaderSize ? p[byte + 1] : 0;
  return ((p[byte] >> fb) | (b1 << (8 - fb))) & 63;
}

TEST_CASE("a new HLL is sparse: the header and one XZERO over all 16384 registers") {
  const std::string hll = NewSparse();
  CHECK(hll == Header(kSparse) + "\x7f\xff");
  CHECK(LooksValid(hll));
  std::uint64_t card = 99;
  CHECK(CachedCardinality(hll, &card));
  CHECK(card == 0);
  bool invalid = false;
  CHECK(Count(hll, &invalid) == 0);
  CHECK_FALSE(invalid);
}

TEST_CASE("Redis's validity checks: magic, encoding, the dense size") {
  CHECK_FALSE(LooksValid(""));
  CHECK_FALSE(LooksValid("HYLL"));
  std::string bad_magic = NewSparse();
  bad_magic[0] = 'h';
  CHECK_FALSE(LooksValid(bad_magic));
  std::string bad_encoding = NewSparse();
  bad_encoding[4] = 2;
  CHECK_FALSE(LooksValid(bad_encoding));
  CHECK_FALSE(LooksValid(Header(kDense) + std::string(100, '\0')));
  CHECK(LooksValid(Header(kDense) + std::string(kDenseSize - kHeaderSize, '\0')));
}

TEST_CASE("the cached cardinality is little endian; its top bit marks it stale") {
  std::string hll = NewSparse();
  SetCachedCardinality(&hll, 0x0102030405060708ULL);
  CHECK(hll.substr(8, 8) == std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  std::uint64_t card = 0;
  CHECK(CachedCardinality(hll, &card));
  CHECK(card == 0x0102030405060708ULL);
  InvalidateCache(&hll);
  CHECK(static_cast<std::uint8_t>(hll[15]) == 0x81);
  CHECK_FALSE(CachedCardinality(hll, &card));
}

TEST_CASE("sparse registers split ZERO/XZERO runs and merge equal neighbours up to 4") {
  std::string hll = NewSparse();
  CHECK(Set(&hll, 1000, 2, kMax) == 1);
  // XZERO:1000 VAL:2x1 XZERO:15383
  CHECK(Body(hll) == std::string("\x43\xe7\x84\x7c\x16", 5));
  CHECK(Set(&hll, 1000, 2, kMax) == 0);  // not larger: unchanged
  CHECK(Set(&hll, 1000, 1, kMax) == 0);
  // Registers 1001..1003 set to 2 merge into one VAL of length 4; 1004 starts another.
  for (int index : {1001, 1002, 1003}) CHECK(Set(&hll, index, 2, kMax) == 1);
  CHECK(Body(hll) == std::string("\x43\xe7\x87\x7c\x13", 5));
  CHECK(Set(&hll, 1004, 2, kMax) == 1);
  CHECK(Body(hll) == std::string("\x43\xe7\x87\x84\x7c\x12", 6));
  // A run of up to 64 zeros is a one-byte ZERO: ZERO:10 VAL:5x1 XZERO:989 ...
  CHECK(Set(&hll, 10, 5, kMax) == 1);
  CHECK(Body(hll).substr(0, 4) == std::string("\x09\x90\x43\xdc", 4));
  // Raising one register inside a VAL run splits it (VAL:2x1 VAL:3x1 VAL:2x2), and the last
  // part merges with the VAL:2x1 after it (VAL:2x3).
  CHECK(Set(&hll, 1001, 3, kMax) == 1);
  CHECK(Body(hll) == std::string("\x09\x90\x43\xdc\x84\x88\x86\x7c\x12", 9));
  bool invalid = false;
  Count(hll, &invalid);
  CHECK_FALSE(invalid);
}

TEST_CASE("Register reads one register of either encoding; -1 past a corrupt body") {
  std::string hll = NewSparse();
  CHECK(Register(hll, 0) == 0);
  CHECK(Set(&hll, 5, 3, kMax) == 1);
  CHECK(Set(&hll, 16383, 4, kMax) == 1);
  CHECK(Register(hll, 5) == 3);
  CHECK(Register(hll, 6) == 0);
  CHECK(Register(hll, 16383) == 4);
  REQUIRE(SparseToDense(&hll));
  CHECK(Register(hll, 5) == 3);
  CHECK(Register(hll, 16383) == 4);
  CHECK(Register(Header(kSparse) + "\x7f\xfe", 16383) == -1);
}

TEST_CASE("a value over 32 or growth past the limit turns a sparse HLL dense, same registers") {
  std::string hll = NewSparse();
  CHECK(Set(&hll, 0, 7, kMax) == 1);
  CHECK(Set(&hll, 16383, 9, kMax) == 1);
  SetCachedCardinality(&hll, 2);
  CHECK(Set(&hll, 500, 33, kMax) == 1);
  REQUIRE(hll.size() == kDenseSize);
  CHECK(Encoding(hll) == kDense);
  CHECK(hll.substr(8, 8) == std::string("\x02\0\0\0\0\0\0\0", 8));  // the cache is kept
  CHECK(DenseRegister(hll, 0) == 7);
  CHECK(DenseRegister(hll, 16383) == 9);
  CHECK(DenseRegister(hll, 500) == 33);
  CHECK(DenseRegister(hll, 1) == 0);

  // Scattered registers grow the sparse form by up to 3 bytes each: past 40 bytes it is dense.
  std::string small = NewSparse();
  int index = 0;
  while (Encoding(small) == kSparse) {
    REQUIRE(index < 16384);
    CHECK(Set(&small, index, 1, 40) == 1);
    index += 100;
  }
  CHECK(small.size() == kDenseSize);
  for (int i = 0; i < index; i += 100) CHECK(DenseRegister(small, i) == 1);
}

TEST_CASE("dense registers pack 6 bits LSB first across byte boundaries") {
  std::string hll = NewSparse();
  REQUIRE(SparseToDense(&hll));
  CHECK(Set(&hll, 0, 63, kMax) == 1);
  CHECK(Set(&hll, 1, 1, kMax) == 1);
  const auto* p = reinterpret_cast<const std::uint8_t*>(hll.data()) + kHeaderSize;
  CHECK(p[0] == 0x7f);  // register 0 = 111111, register 1's low 2 bits = 01
  CHECK(p[1] == 0x00);
  CHECK(Set(&hll, 16383, 42, kMax) == 1);  // the last register: the top 6 bits of the last byte
  CHECK(p[kDenseSize - kHeaderSize - 1] == (42 << 2));
}

TEST_CASE("the estimate is Redis's: within its standard error, the same for sparse and dense") {
  for (int n : {1, 10, 100, 1000, 20000, 200000}) {
    CAPTURE(n);
    std::string sparse = NewSparse();
    std::vector<std::uint8_t> raw(kRegisters, 0);
    for (int i = 0; i < n; ++i) {
      const std::string element = "element:" + std::to_string(i);
      CHECK(Add(&sparse, element, kMax) >= 0);
      int index = 0;
      std::uint8_t count = 0;
      PatternOf(element, &index, &count);
      if (count > raw[static_cast<std::size_t>(index)])
        raw[static_cast<std::size_t>(index)] = count;
    }
    bool invalid = false;
    const std::uint64_t estimate = Count(sparse, &invalid);
    CHECK_FALSE(invalid);
    CHECK(std::fabs(static_cast<double>(estimate) - n) <= std::max(1.0, 0.03 * n));
    CHECK(CountRaw(raw.data()) == estimate);
    std::string dense = sparse;
    REQUIRE(SparseToDense(&dense));
    CHECK(Count(dense, &invalid) == estimate);
    std::vector<std::uint8_t> merged(kRegisters, 0);
    REQUIRE(MergeInto(merged.data(), sparse));
    CHECK(merged == raw);
  }
}

TEST_CASE("random register updates: sparse, dense and a plain array model always agree") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    std::string hll = NewSparse();
    std::vector<std::uint8_t> model(kRegisters, 0);
    // Clustered indexes make runs, merges and splits of every opcode kind.
    const int base = static_cast<int>(rng() % kRegisters);
    const std::size_t limit = round % 2 == 0 ? kMax : 200;
    for (int step = 0; step < 400; ++step) {
      const int index = (base + static_cast<int>(rng() % 300)) % kRegisters;
      const auto count = static_cast<std::uint8_t>(1 + rng() % (step % 50 == 49 ? 40 : 6));
      const int changed = Set(&hll, index, count, limit);
      REQUIRE(changed >= 0);
      CHECK(changed == (count > model[static_cast<std::size_t>(index)] ? 1 : 0));
      if (changed) model[static_cast<std::size_t>(index)] = count;
      if (Encoding(hll) == kSparse) CHECK(hll.size() <= std::max<std::size_t>(limit, 18));
    }
    std::vector<std::uint8_t> merged(kRegisters, 0);
    REQUIRE(MergeInto(merged.data(), hll));
    CHECK(merged == model);
    for (int i = 0; i < kRegisters; i += 97)
      CHECK(Register(hll, i) == model[static_cast<std::size_t>(i)]);
    bool invalid = false;
    CHECK(Count(hll, &invalid) == CountRaw(model.data()));
    CHECK_FALSE(invalid);
  }
}

TEST_CASE("a corrupt sparse body is reported, never read past") {
  std::string short_runs = Header(kSparse) + "\x7f\xfe";  // covers 16383 registers
  bool invalid = false;
  Count(short_runs, &invalid);
  CHECK(invalid);
  std::vector<std::uint8_t> max(kRegisters, 0);
  CHECK_FALSE(MergeInto(max.data(), short_runs));
  CHECK(Set(&short_runs, 16383, 1, kMax) == -1);
  std::string too_long = NewSparse() + "\xff";
  CHECK_FALSE(SparseToDense(&too_long));
  CHECK_FALSE(MergeInto(max.data(), too_long));
  std::string cut = Header(kSparse) + "\x7f";  // an XZERO missing its second byte
  invalid = false;
  Count(cut, &invalid);
  CHECK(invalid);
}

TEST_CASE("MurmurHash64A: length and tail bytes all count") {
  const char data[] = "0123456789abcdef";
  std::vector<std::uint64_t> hashes;
  for (int len = 0; len <= 16; ++len) hashes.push_back(MurmurHash64A(data, len, 0xadc83b19ULL));
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    for (std::size_t j = i + 1; j < hashes.size(); ++j) CHECK(hashes[i] != hashes[j]);
  }
  CHECK(MurmurHash64A(data, 5, 1) != MurmurHash64A(data, 5, 2));
}

}  // namespace
}  // namespace dynakv::server::hll
