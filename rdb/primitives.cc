#include "rdb/primitives.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "rdb/lzf.h"
#include "types/set.h"

namespace dynakv::rdb {

namespace {

constexpr unsigned char kLen6 = 0x00;
constexpr unsigned char kLen14 = 0x40;
constexpr unsigned char kLen32 = 0x80;
constexpr unsigned char kLen64 = 0x81;
constexpr unsigned char kEncoded = 0xC0;  // 11xxxxxx: the low 6 bits name a string encoding
enum StringEncoding { kInt8 = 0, kInt16 = 1, kInt32 = 2, kLzf = 3 };

// LZF can expand a stream at most this much (a 3-byte reference yields 264 bytes): a claimed
// length beyond it is corrupt, and must not be allocated.
constexpr std::uint64_t kLzfMaxRatio = 89;

void PutLittleEndian(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t ReadBigEndian(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::uint64_t ReadLittleEndian(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// rdbTryIntegerEncoding + rdbEncodeInteger: the 8/16/32-bit form of a canonical integer.
bool PutIntegerString(std::string* out, std::string_view s) {
  std::int64_t v;
  if (s.size() > 11 || !types::Set::AsInteger(s, &v)) return false;
  if (v >= INT8_MIN && v <= INT8_MAX) {
    out->push_back(static_cast<char>(kEncoded | kInt8));
    PutLittleEndian(out, static_cast<std::uint64_t>(v), 1);
  } else if (v >= INT16_MIN && v <= INT16_MAX) {
    out->push_back(static_cast<char>(kEncoded | kInt16));
    PutLittleEndian(out, static_cast<std::uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out->push_back(static_cast<char>(kEncoded | kInt32));
    PutLittleEndian(out, static_cast<std::uint64_t>(v), 4);
  } else {
    return false;
  }
  return true;
}

// rdbSaveLzfStringObject.
bool PutLzfString(std::string* out, std::string_view s) {
  if (s.size() <= 4) return false;
  std::string packed;
  const std::size_t n = LzfCompress(s, s.size() - 4, &packed);
  if (n == 0) return false;
  out->push_back(static_cast<char>(kEncoded | kLzf));
  PutLength(out, n);
  PutLength(out, s.size());
  out->append(packed);
  return true;
}

bool Take(std::string_view* in, std::size_t n, std::string_view* out) {
  if (in->size() < n) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

void PutLength(std::string* out, std::uint64_t len) {
  if (len < (1u << 6)) {
    out->push_back(static_cast<char>(kLen6 | len));
  } else if (len < (1u << 14)) {
    out->push_back(static_cast<char>(kLen14 | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    out->push_back(static_cast<char>(kLen32));
    for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  } else {
    out->push_back(static_cast<char>(kLen64));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

void PutString(std::string* out, std::string_view s, bool compress) {
  if (PutIntegerString(out, s)) return;
  if (compress && s.size() > 20 && PutLzfString(out, s)) return;
  PutLength(out, s.size());
  out->append(s);
}

void PutBinaryDouble(std::string* out, double value) {
  PutLittleEndian(out, std::bit_cast<std::uint64_t>(value), 8);
}

bool GetLength(std::string_view* in, std::uint64_t* len, bool* encoded) {
  if (encoded != nullptr) *encoded = false;
  if (in->empty()) return false;
  const auto first = static_cast<unsigned char>(in->front());
  std::string_view bytes;
  switch (first >> 6) {
    case 0:
      *len = first & 0x3f;
      in->remove_prefix(1);
      return true;
    case 1:
      if (!Take(in, 2, &bytes)) return false;
      *len = ((first & 0x3fu) << 8) | static_cast<unsigned char>(bytes[1]);
      return true;
    case 3:
      if (encoded == nullptr) return false;
      *encoded = true;
      *len = first & 0x3f;
      in->remove_prefix(1);
      return true;
  }
  if (first == kLen32) {
    if (!Take(in, 5, &bytes)) return false;
    *len = ReadBigEndian(bytes.substr(1), 4);
    return true;
  }
  if (first == kLen64) {
    if (!Take(in, 9, &bytes)) return false;
    *len = ReadBigEndian(bytes.substr(1), 8);
    return true;
  }
  return false;
}

bool GetLength(std::string_view* in, std::uint64_t* len) { return GetLength(in, len, nullptr); }

bool GetString(std::string_view* in, std::string* out) {
  bool encoded;
  std::uint64_t len;
  if (!GetLength(in, &len, &encoded)) return false;
  std::string_view bytes;
  if (!encoded) {
    if (!Take(in, len, &bytes)) return false;
    out->assign(bytes);
    return true;
  }
  char text[24];
  std::int64_t v;
  switch (len) {
    case kInt8:
      if (!Take(in, 1, &bytes)) return false;
      v = static_cast<std::int8_t>(ReadLittleEndian(bytes, 1));
      break;
    case kInt16:
      if (!Take(in, 2, &bytes)) return false;
      v = static_cast<std::int16_t>(ReadLittleEndian(bytes, 2));
      break;
    case kInt32:
      if (!Take(in, 4, &bytes)) return false;
      v = static_cast<std::int32_t>(ReadLittleEndian(bytes, 4));
      break;
    case kLzf: {
      std::uint64_t clen, raw_len;
      if (!GetLength(in, &clen) || !GetLength(in, &raw_len)) return false;
      if (clen == 0 || raw_len == 0 || raw_len / kLzfMaxRatio > clen) return false;
      if (!Take(in, clen, &bytes)) return false;
      out->clear();
      return LzfDecompress(bytes, raw_len, out);
    }
    default:
      return false;
  }
  const std::to_chars_result r = std::to_chars(text, text + sizeof(text), v);
  out->assign(text, r.ptr);
  return true;
}

bool GetBinaryDouble(std::string_view* in, double* value) {
  std::string_view bytes;
  if (!Take(in, 8, &bytes)) return false;
  *value = std::bit_cast<double>(ReadLittleEndian(bytes, 8));
  return true;
}

bool GetStringDouble(std::string_view* in, double* value) {
  if (in->empty()) return false;
  const auto len = static_cast<unsigned char>(in->front());
  in->remove_prefix(1);
  switch (len) {
    case 253:
      *value = std::numeric_limits<double>::quiet_NaN();
      return true;
    case 254:
      *value = std::numeric_limits<double>::infinity();
      return true;
    case 255:
      *value = -std::numeric_limits<double>::infinity();
      return true;
  }
  std::string_view bytes;
  if (!Take(in, len, &bytes)) return false;
  const std::string text(bytes);  // strtod needs a terminator
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && !text.empty();
}

}  // namespace dynakv::rdb
