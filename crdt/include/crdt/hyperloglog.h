// HyperLogLog values in Redis's exact representation, so a value written here reads back as
// the same bytes Redis would hold after the same operations (and Redis reads ours):
//
//   "HYLL" | encoding (0 dense, 1 sparse) | 3 zero bytes | cached cardinality (8 bytes, little
//   endian; the top bit of the last byte set: stale) | registers
//
// 16384 registers of 6 bits (P = 14), fed by MurmurHash64A with Redis's seed. Dense: the
// registers packed LSB first, 12288 bytes. Sparse: run lengths of ZERO (00xxxxxx, 1-64
// registers), XZERO (01xxxxxx yyyyyyyy, 1-16384) and VAL (1vvvvvxx: value 1-32, 1-4 registers)
// opcodes; a value above 32, or a sparse form past hll-sparse-max-bytes, turns it dense.
// The cardinality estimate is Redis's (Ertl's improved estimator), so counts match exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::crdt::hll {

inline constexpr int kRegisters = 1 << 14;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kDenseSize = kHeaderSize + (kRegisters * 6 + 7) / 8;
inline constexpr std::uint8_t kDense = 0;
inline constexpr std::uint8_t kSparse = 1;

// Redis's MurmurHash64A (endian-neutral variant).
std::uint64_t MurmurHash64A(const void* key, int len, std::uint64_t seed);

// The register an element lands in and the length of its 0...01 run (1..51).
void PatternOf(std::string_view element, int* index, std::uint8_t* count);

// A new, empty HLL: sparse, one XZERO opcode over every register, cache valid (0).
std::string NewSparse();

// Whether `value` passes Redis's isHLLObjectOrReply checks (magic, known encoding, the exact
// size of a dense one). A sparse body is only validated as it is walked.
bool LooksValid(std::string_view value);

std::uint8_t Encoding(std::string_view hll);

// The cached cardinality, when valid.
bool CachedCardinality(std::string_view hll, std::uint64_t* card);
void SetCachedCardinality(std::string* hll, std::uint64_t card);
void InvalidateCache(std::string* hll);

// Sets register `index` to `count` when that is larger than its value: 1 when it changed, 0
// when not, -1 when a sparse body is corrupt. May turn a sparse HLL dense (on a value over 32
// or growth past `sparse_max_bytes`). The cache is invalidated on a change of a sparse HLL
// only, as Redis does (PFADD invalidates it itself).
int Set(std::string* hll, int index, std::uint8_t count, std::size_t sparse_max_bytes);

// The value of register `index`; -1 when a sparse body is corrupt before reaching it.
int Register(std::string_view hll, int index);

// PFADD of one element: Set() of its register and run length.
int Add(std::string* hll, std::string_view element, std::size_t sparse_max_bytes);

// Rewrites a sparse HLL as a dense one (cache bytes kept); false when the body is corrupt.
bool SparseToDense(std::string* hll);

// max[i] = MAX(max[i], register i of `hll`), for PFCOUNT of several keys and PFMERGE; false
// when a sparse body is corrupt.
bool MergeInto(std::uint8_t* max, std::string_view hll);

// The estimated cardinality of a dense or sparse HLL; *invalid is set for a corrupt body.
std::uint64_t Count(std::string_view hll, bool* invalid);
// The same for one byte per register (kRegisters bytes).
std::uint64_t CountRaw(const std::uint8_t* registers);

}  // namespace dynakv::crdt::hll
