#include "bit_ops.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace dynakv::server {
namespace {

TEST_CASE("PopCount counts set bits at any length and alignment") {
  std::vector<std::uint8_t> bytes(37);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 37);
  for (std::size_t from = 0; from < 9; ++from) {
    for (std::size_t len = 0; from + len <= bytes.size(); ++len) {
      std::uint64_t expected = 0;
      for (std::size_t i = from; i < from + len; ++i) {
        for (int bit = 0; bit < 8; ++bit) expected += (bytes[i] >> bit) & 1;
      }
      CHECK(PopCount(bytes.data() + from, len) == expected);
    }
  }
}

TEST_CASE("BitPos: bit 0 is the top bit of byte 0; no 1 is -1, no 0 is the bit past the end") {
  const std::uint8_t ones[] = {0xff, 0xff, 0xf7};
  CHECK(BitPos(ones, 3, 0) == 20);
  CHECK(BitPos(ones, 2, 0) == 16);
  CHECK(BitPos(ones, 3, 1) == 0);
  const std::uint8_t zeros[] = {0x00, 0x00, 0x01};
  CHECK(BitPos(zeros, 3, 1) == 23);
  CHECK(BitPos(zeros, 2, 1) == -1);
  CHECK(BitPos(zeros, 3, 0) == 0);
  CHECK(BitPos(zeros, 0, 1) == -1);
  CHECK(BitPos(zeros, 0, 0) == 0);
}

TEST_CASE("bitfields are big-endian bit strings at any offset; signed ones sign-extend") {
  std::uint8_t bytes[9] = {};
  SetUnsignedBitfield(bytes, 3, 8, 0xab);
  CHECK(bytes[0] == 0x15);  // 000 10101
  CHECK(bytes[1] == 0x60);  // 011 00000
  CHECK(GetUnsignedBitfield(bytes, 3, 8) == 0xab);
  CHECK(GetSignedBitfield(bytes, 3, 8) == -85);
  CHECK(GetSignedBitfield(bytes, 3, 4) == -6);  // 1010
  SetSignedBitfield(bytes, 5, 64, -2);
  CHECK(GetSignedBitfield(bytes, 5, 64) == -2);
  CHECK(GetUnsignedBitfield(bytes, 5, 63) == 0x7fffffffffffffffULL);
  CHECK(GetSignedBitfield(bytes, 0, 1) == 0);
  SetUnsignedBitfield(bytes, 0, 1, 1);
  CHECK(GetSignedBitfield(bytes, 0, 1) == -1);
}

TEST_CASE("unsigned overflow: wrap modulo 2^bits, saturate at 0 and max, fail reports it") {
  std::uint64_t limit = 0;
  CHECK(CheckUnsignedBitfieldOverflow(250, 5, 8, BitfieldOverflow::kWrap, &limit) == 0);
  CHECK(CheckUnsignedBitfieldOverflow(250, 10, 8, BitfieldOverflow::kWrap, &limit) == 1);
  CHECK(limit == 4);
  CHECK(CheckUnsignedBitfieldOverflow(250, 10, 8, BitfieldOverflow::kSat, &limit) == 1);
  CHECK(limit == 255);
  CHECK(CheckUnsignedBitfieldOverflow(3, -5, 8, BitfieldOverflow::kSat, &limit) == -1);
  CHECK(limit == 0);
  CHECK(CheckUnsignedBitfieldOverflow(3, -5, 8, BitfieldOverflow::kWrap, &limit) == 1);
  CHECK(limit == 254);
  limit = 77;
  CHECK(CheckUnsignedBitfieldOverflow(3, -5, 8, BitfieldOverflow::kFail, &limit) == -1);
  CHECK(limit == 77);
  // SET checks the value alone: -1 as u8 is out of range.
  CHECK(CheckUnsignedBitfieldOverflow(static_cast<std::uint64_t>(-1), 0, 8, BitfieldOverflow::kWrap,
                                      &limit) == 1);
  CHECK(limit == 255);
}

TEST_CASE("signed overflow: wrap two's complement, saturate at min and max") {
  std::int64_t limit = 0;
  CHECK(CheckSignedBitfieldOverflow(100, 27, 8, BitfieldOverflow::kWrap, &limit) == 0);
  CHECK(CheckSignedBitfieldOverflow(100, 28, 8, BitfieldOverflow::kWrap, &limit) == 1);
  CHECK(limit == -128);
  CHECK(CheckSignedBitfieldOverflow(100, 28, 8, BitfieldOverflow::kSat, &limit) == 1);
  CHECK(limit == 127);
  CHECK(CheckSignedBitfieldOverflow(-100, -29, 8, BitfieldOverflow::kSat, &limit) == -1);
  CHECK(limit == -128);
  CHECK(CheckSignedBitfieldOverflow(-100, -29, 8, BitfieldOverflow::kWrap, &limit) == 1);
  CHECK(limit == 127);
  CHECK(CheckSignedBitfieldOverflow(INT64_MAX, 1, 64, BitfieldOverflow::kWrap, &limit) == 1);
  CHECK(limit == INT64_MIN);
  CHECK(CheckSignedBitfieldOverflow(INT64_MIN, -1, 64, BitfieldOverflow::kSat, &limit) == -1);
  CHECK(limit == INT64_MIN);
  CHECK(CheckSignedBitfieldOverflow(-5, 3, 64, BitfieldOverflow::kSat, &limit) == 0);
}

TEST_CASE("WriteBitfield: SET replies the old value, INCRBY the new one; FAIL writes nothing") {
  std::uint8_t bytes[9] = {};
  BitfieldWrite w = WriteBitfield(bytes, 0, 8, false, false, 200, BitfieldOverflow::kWrap);
  CHECK(w.reply == 0);
  CHECK(w.changed);
  w = WriteBitfield(bytes, 0, 8, false, true, 100, BitfieldOverflow::kWrap);
  CHECK(w.reply == 44);  // 300 mod 256
  w = WriteBitfield(bytes, 0, 8, false, true, 300, BitfieldOverflow::kSat);
  CHECK(w.reply == 255);
  w = WriteBitfield(bytes, 0, 8, false, true, 1, BitfieldOverflow::kFail);
  CHECK_FALSE(w.reply.has_value());
  CHECK_FALSE(w.changed);
  CHECK(bytes[0] == 255);
  w = WriteBitfield(bytes, 0, 8, false, false, 255, BitfieldOverflow::kWrap);
  CHECK(w.reply == 255);
  CHECK_FALSE(w.changed);  // the same bits
  // i5 (-16..15) over bits 4-8, which hold 11110 (-2): -20 saturates to -16.
  w = WriteBitfield(bytes, 4, 5, true, false, -20, BitfieldOverflow::kSat);
  CHECK(w.reply == -2);
  CHECK(GetSignedBitfield(bytes, 4, 5) == -16);
  w = WriteBitfield(bytes, 4, 5, true, true, -1, BitfieldOverflow::kWrap);
  CHECK(w.reply == 15);
}

}  // namespace
}  // namespace dynakv::server
