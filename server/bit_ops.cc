#include "bit_ops.h"

#include <bit>
#include <cstring>

namespace dynakv::server {

namespace {

// Eight bytes at a time (memcpy: the bytes need not be aligned), four words per round so the
// additions do not wait on one another. Always inlined into each variant below, so the builtin
// is expanded under that variant's target.
[[gnu::always_inline]] inline std::uint64_t PopCountLoop(const std::uint8_t* p, std::size_t count) {
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, 32);
    a += static_cast<std::uint64_t>(__builtin_popcountll(w[0]));
    b += static_cast<std::uint64_t>(__builtin_popcountll(w[1]));
    c += static_cast<std::uint64_t>(__builtin_popcountll(w[2]));
    d += static_cast<std::uint64_t>(__builtin_popcountll(w[3]));
  }
  for (; i < count; ++i) a += static_cast<std::uint64_t>(__builtin_popcount(p[i]));
  return a + b + c + d;
}

#if defined(__x86_64__)
// The POPCNT instruction where the CPU has it (nearly every x86-64 since 2008); the build does
// not assume it.
__attribute__((target("popcnt"))) std::uint64_t PopCountHardware(const std::uint8_t* p,
                                                                 std::size_t count) {
  return PopCountLoop(p, count);
}
#endif

std::uint64_t PopCountPortable(const std::uint8_t* p, std::size_t count) {
  return PopCountLoop(p, count);
}

}  // namespace

std::uint64_t PopCount(const std::uint8_t* p, std::size_t count) {
#if defined(__x86_64__)
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  if (has_popcnt) return PopCountHardware(p, count);
#endif
  return PopCountPortable(p, count);
}

long long BitPos(const std::uint8_t* p, std::size_t count, int bit) {
  // The byte that cannot hold the bit looked for: skip those whole.
  const std::uint8_t skip = bit ? 0x00 : 0xff;
  std::size_t i = 0;
  while (i < count && p[i] == skip) ++i;
  if (i == count) return bit ? -1 : static_cast<long long>(count) * 8;
  const std::uint8_t byte = bit ? p[i] : static_cast<std::uint8_t>(~p[i]);
  // The first set bit counted from the most significant one.
  return static_cast<long long>(i) * 8 + std::countl_zero(byte);
}

std::uint64_t GetUnsignedBitfield(const std::uint8_t* p, std::uint64_t offset, int bits) {
  std::uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    const std::uint64_t bit = (p[offset >> 3] >> (7 - (offset & 7))) & 1;
    value = (value << 1) | bit;
  }
  return value;
}

std::int64_t GetSignedBitfield(const std::uint8_t* p, std::uint64_t offset, int bits) {
  std::uint64_t value = GetUnsignedBitfield(p, offset, bits);
  // Two's complement: the top bit of the field is the sign, spread over the higher bits.
  if (bits < 64 && (value & (std::uint64_t{1} << (bits - 1)))) value |= ~std::uint64_t{0} << bits;
  return static_cast<std::int64_t>(value);
}

void SetUnsignedBitfield(std::uint8_t* p, std::uint64_t offset, int bits, std::uint64_t value) {
  for (int j = 0; j < bits; ++j, ++offset) {
    const unsigned bit = (value >> (bits - 1 - j)) & 1;
    const unsigned shift = 7 - (offset & 7);
    std::uint8_t& byte = p[offset >> 3];
    byte = static_cast<std::uint8_t>((byte & ~(1u << shift)) | (bit << shift));
  }
}

void SetSignedBitfield(std::uint8_t* p, std::uint64_t offset, int bits, std::int64_t value) {
  SetUnsignedBitfield(p, offset, bits, static_cast<std::uint64_t>(value));
}

int CheckUnsignedBitfieldOverflow(std::uint64_t value, std::int64_t incr, int bits,
                                  BitfieldOverflow how, std::uint64_t* limit) {
  const std::uint64_t max = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
  // As Redis computes them: the room left above and below, as signed 64-bit numbers.
  const auto maxincr = static_cast<std::int64_t>(max - value);
  const auto minincr = static_cast<std::int64_t>(std::uint64_t{0} - value);
  int result = 0;
  if (value > max || (incr > 0 && incr > maxincr)) {
    result = 1;
    if (how == BitfieldOverflow::kSat) *limit = max;
  } else if (incr < 0 && incr < minincr) {
    result = -1;
    if (how == BitfieldOverflow::kSat) *limit = 0;
  }
  if (result != 0 && how == BitfieldOverflow::kWrap) {
    const std::uint64_t mask = bits == 64 ? 0 : ~std::uint64_t{0} << bits;
    *limit = (value + static_cast<std::uint64_t>(incr)) & ~mask;
    return 1;  // Redis reports any wrap as an overflow
  }
  return result;
}

int CheckSignedBitfieldOverflow(std::int64_t value, std::int64_t incr, int bits,
                                BitfieldOverflow how, std::int64_t* limit) {
  const std::int64_t max = bits == 64 ? INT64_MAX : (std::int64_t{1} << (bits - 1)) - 1;
  const std::int64_t min = -max - 1;
  // These may wrap; they are only used once `value` is known to be in range, where they do not.
  const auto maxincr = static_cast<std::int64_t>(static_cast<std::uint64_t>(max) -
                                                 static_cast<std::uint64_t>(value));
  const auto minincr = static_cast<std::int64_t>(static_cast<std::uint64_t>(min) -
                                                 static_cast<std::uint64_t>(value));
  int result = 0;
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    result = 1;
    if (how == BitfieldOverflow::kSat) *limit = max;
  } else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr)) {
    result = -1;
    if (how == BitfieldOverflow::kSat) *limit = min;
  }
  if (result != 0 && how == BitfieldOverflow::kWrap) {
    std::uint64_t sum = static_cast<std::uint64_t>(value) + static_cast<std::uint64_t>(incr);
    if (bits < 64) {
      // The field's sign bit spread over the higher bits, or the higher bits cleared.
      const std::uint64_t mask = ~std::uint64_t{0} << bits;
      if (sum & (std::uint64_t{1} << (bits - 1))) {
        sum |= mask;
      } else {
        sum &= ~mask;
      }
    }
    *limit = static_cast<std::int64_t>(sum);
    return 1;
  }
  return result;
}

BitfieldWrite WriteBitfield(std::uint8_t* p, std::uint64_t offset, int bits, bool is_signed,
                            bool incr, std::int64_t value, BitfieldOverflow how) {
  BitfieldWrite write;
  int overflowed;
  if (is_signed) {
    const std::int64_t old_value = GetSignedBitfield(p, offset, bits);
    std::int64_t wrapped = 0;
    std::int64_t new_value;
    if (incr) {
      overflowed = CheckSignedBitfieldOverflow(old_value, value, bits, how, &wrapped);
      // The sum as 64-bit two's complement arithmetic (it cannot overflow when not flagged).
      new_value = overflowed ? wrapped
                             : static_cast<std::int64_t>(static_cast<std::uint64_t>(old_value) +
                                                         static_cast<std::uint64_t>(value));
    } else {
      overflowed = CheckSignedBitfieldOverflow(value, 0, bits, how, &wrapped);
      new_value = overflowed ? wrapped : value;
    }
    if (overflowed && how == BitfieldOverflow::kFail) return write;
    write.reply = incr ? new_value : old_value;
    SetSignedBitfield(p, offset, bits, new_value);
    write.changed = old_value != new_value;
    return write;
  }
  const std::uint64_t old_value = GetUnsignedBitfield(p, offset, bits);
  std::uint64_t wrapped = 0;
  std::uint64_t new_value;
  if (incr) {
    overflowed = CheckUnsignedBitfieldOverflow(old_value, value, bits, how, &wrapped);
    new_value = overflowed ? wrapped : old_value + static_cast<std::uint64_t>(value);
  } else {
    new_value = static_cast<std::uint64_t>(value);
    overflowed = CheckUnsignedBitfieldOverflow(new_value, 0, bits, how, &wrapped);
    if (overflowed) new_value = wrapped;
  }
  if (overflowed && how == BitfieldOverflow::kFail) return write;
  write.reply = static_cast<long long>(incr ? new_value : old_value);
  SetUnsignedBitfield(p, offset, bits, new_value);
  write.changed = old_value != new_value;
  return write;
}

}  // namespace dynakv::server
