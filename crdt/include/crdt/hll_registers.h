// A Redis HyperLogLog as a convergent value: 16384 registers of 6 bits (P = 14, MurmurHash64A
// with Redis's seed), joined register-wise by max, which is commutative, associative and
// idempotent, and loses no PFADD: the max of two sketches is the sketch of the union.
//
// The bytes are Redis's own HLL string ("HYLL", encoding, 3 zero bytes, 8-byte cached
// cardinality, then dense or sparse registers; see crdt/hyperloglog.h), so a joined value is
// still a value PFCOUNT, PFMERGE and a real Redis read. Redis itself may hold the same registers
// in several byte forms (a sparse body's run split differently, dense or sparse, a cache valid or
// not); FromRedis reads all of them, and ToRedis writes one canonical form, a function of the
// registers alone, so replicas with the same registers hold identical bytes:
//   - sparse, with the fewest opcodes a greedy run split gives, while every register is <= 32
//     and the string stays within 3000 bytes (Redis's default hll-sparse-max-bytes); else dense;
//   - the cached cardinality marked stale (Redis recomputes it on the next PFCOUNT).
// Deleting an HLL key is not causal here: registers carry no dots (see README).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::crdt {

class HllRegisters {
 public:
  static constexpr int kRegisters = 1 << 14;
  static constexpr std::size_t kSparseMaxBytes = 3000;

  // PFADD of one element: raises its register; the delta holds only that register (and is
  // all-zero, encoding to 18 bytes, when nothing changed).
  HllRegisters Add(std::string_view element);
  void Join(const HllRegisters& other);

  // From / to one byte per register (kRegisters bytes), the form the server's PFMERGE and
  // multi-key PFCOUNT gather registers into; only the low 6 bits of each byte are taken.
  static HllRegisters FromRegisters(const std::uint8_t* registers);
  void CopyTo(std::uint8_t* registers) const;
  std::uint8_t at(int index) const { return registers_[index]; }
  bool IsZero() const;
  std::uint64_t Count() const;  // PFCOUNT: Redis's estimator, so the same number Redis gives

  // Any HLL string Redis accepts (dense or sparse, any split, cache valid or stale); false for
  // a wrong magic or encoding, a dense one of the wrong size, or a sparse body not covering
  // exactly 16384 registers.
  static bool FromRedis(std::string_view bytes, HllRegisters* hll);
  std::string ToRedis() const;  // the canonical form above

  // Canonical encoding = ToRedis; Decode accepts only canonical bytes (and register values a
  // PFADD can produce, <= 51).
  std::string Encode() const { return ToRedis(); }
  static bool Decode(std::string_view bytes, HllRegisters* hll);

  // The element's register and run length (Redis's hllPatLen): for tests against Redis.
  static void PatternOf(std::string_view element, int* index, std::uint8_t* count);

 private:
  std::array<std::uint8_t, kRegisters> registers_{};
};

// Register-wise max of two Redis HLL strings, written canonically; false if either is not one.
bool JoinRedisHll(std::string_view a, std::string_view b, std::string* out);

}  // namespace dynakv::crdt
