#include "wire.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace dynakv::crdt::wire {

void PutVarint(std::string* dst, std::uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

void PutSignedVarint(std::string* dst, std::int64_t value) {
  const auto u = static_cast<std::uint64_t>(value);
  PutVarint(dst, (u << 1) ^ (value < 0 ? ~std::uint64_t{0} : 0));
}

void PutBytes(std::string* dst, std::string_view bytes) {
  PutVarint(dst, bytes.size());
  dst->append(bytes);
}

void PutDouble(std::string* dst, double value) {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) dst->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

bool GetVarint(std::string_view* in, std::uint64_t* value) {
  std::uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
    if (in->empty()) return false;
    const auto byte = static_cast<std::uint8_t>(in->front());
    in->remove_prefix(1);
    // The tenth byte may only hold the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return false;
    result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      // A trailing zero byte is an overlong form of a shorter varint.
      if (i > 0 && byte == 0) return false;
      *value = result;
      return true;
    }
  }
  return false;
}

bool GetSignedVarint(std::string_view* in, std::int64_t* value) {
  std::uint64_t u;
  if (!GetVarint(in, &u)) return false;
  *value = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool GetBytes(std::string_view* in, std::string_view* bytes, std::uint64_t max_len) {
  std::uint64_t len;
  if (!GetVarint(in, &len) || len > max_len || len > in->size()) return false;
  *bytes = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

bool GetDouble(std::string_view* in, double* value) {
  if (in->size() < 8) return false;
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) {
    bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>((*in)[i])) << (8 * i);
  }
  in->remove_prefix(8);
  *value = std::bit_cast<double>(bits);
  return !std::isnan(*value);
}

}  // namespace dynakv::crdt::wire
