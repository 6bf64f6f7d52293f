#include "coding.h"

#include <array>

namespace dynakv::cluster::coding {

void PutVarint64(std::string* dst, std::uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

void PutVarsint64(std::string* dst, std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  PutVarint64(dst, (bits << 1) ^ (value < 0 ? ~std::uint64_t{0} : 0));
}

void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

bool GetVarint64(std::string_view* input, std::uint64_t* value) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < input->size() && i < 10; ++i) {
    const auto byte = static_cast<std::uint8_t>((*input)[i]);
    // The 10th byte holds only the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return false;
    result |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      // A zero final byte after others means a padded (non-canonical) encoding.
      if (i > 0 && byte == 0) return false;
      input->remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

bool GetVarsint64(std::string_view* input, std::int64_t* value) {
  std::uint64_t raw;
  if (!GetVarint64(input, &raw)) return false;
  *value = static_cast<std::int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  return true;
}

bool GetLengthPrefixed(std::string_view* input, std::string_view* bytes) {
  std::uint64_t length;
  if (!GetVarint64(input, &length) || length > input->size()) return false;
  *bytes = input->substr(0, length);
  input->remove_prefix(length);
  return true;
}

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> MakeReverse() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<std::uint8_t>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kReverse = MakeReverse();

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16 |
                                static_cast<std::uint8_t>(bytes[i + 1]) << 8 |
                                static_cast<std::uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(group >> shift) & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) group |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(group >> 6) & 63]);
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* bytes) {
  // A single leftover character cannot carry a whole byte.
  if (text.size() % 4 == 1) return false;
  bytes->clear();
  bytes->reserve(text.size() * 3 / 4);
  std::uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    const int sextet = kReverse[static_cast<std::uint8_t>(c)];
    if (sextet < 0) return false;
    group = (group << 6) | static_cast<std::uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes->push_back(static_cast<char>((group >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, or two texts would decode to the same bytes.
  return (group & ((1u << bits) - 1)) == 0;
}

}  // namespace dynakv::cluster::coding
