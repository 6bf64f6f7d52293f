// Bit-level helpers behind the bitmap commands (cmd_bitops.cc), on plain byte arrays with
// Redis's bit order: bit 0 is the most significant bit of byte 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace dynakv::server {

// The number of set bits in p[0..count).
std::uint64_t PopCount(const std::uint8_t* p, std::size_t count);

// The position of the first bit equal to `bit` (0 or 1) in p[0..count), as Redis's
// redisBitpos: looking for a 1 and finding none gives -1; looking for a 0 and finding none
// gives count * 8 (the first bit past the end, which reads as 0).
long long BitPos(const std::uint8_t* p, std::size_t count, int bit);

// BITFIELD's integers: `bits` (1..64) bits starting at bit `offset`; p must hold every byte
// they touch.
std::uint64_t GetUnsignedBitfield(const std::uint8_t* p, std::uint64_t offset, int bits);
std::int64_t GetSignedBitfield(const std::uint8_t* p, std::uint64_t offset, int bits);
void SetUnsignedBitfield(std::uint8_t* p, std::uint64_t offset, int bits, std::uint64_t value);
void SetSignedBitfield(std::uint8_t* p, std::uint64_t offset, int bits, std::int64_t value);

// What BITFIELD does when a SET or INCRBY does not fit its type.
enum class BitfieldOverflow { kWrap, kSat, kFail };

// Whether value + incr fits an unsigned (or signed) integer of `bits` bits: 0 when it does,
// 1 on overflow, -1 on underflow. On overflow or underflow *limit is the value to store under
// `how` (the wrapped or saturated one; unchanged for kFail). Redis's check*BitfieldOverflow.
int CheckUnsignedBitfieldOverflow(std::uint64_t value, std::int64_t incr, int bits,
                                  BitfieldOverflow how, std::uint64_t* limit);
int CheckSignedBitfieldOverflow(std::int64_t value, std::int64_t incr, int bits,
                                BitfieldOverflow how, std::int64_t* limit);

// One SET (`incr` false: store `value`, reply the old value) or INCRBY (add `value`, reply the
// new value) of a BITFIELD field at p, as Redis does it: out-of-range results wrap or saturate;
// under kFail they are refused (no reply value, nothing written).
struct BitfieldWrite {
  std::optional<long long> reply;  // nullopt: refused by OVERFLOW FAIL
  bool changed = false;            // the field's bits changed
};
BitfieldWrite WriteBitfield(std::uint8_t* p, std::uint64_t offset, int bits, bool is_signed,
                            bool incr, std::int64_t value, BitfieldOverflow how);

}  // namespace dynakv::server
