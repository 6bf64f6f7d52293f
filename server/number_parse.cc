#include "number_parse.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace dynakv::server {

namespace {

// Room for any "%.17Lf" rendering of a finite long double (the largest has 4933 integer digits)
// and for the longest text string2ld agrees to parse.
constexpr std::size_t kLongDoubleBuffer = kMaxLongDoubleChars;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool ParseLongLong(std::string_view text, long long* value) {
  // Redis rejects anything of LONG_STR_SIZE (21) bytes or more before looking at it.
  if (text.empty() || text.size() > kMaxLongLongChars) return false;
  if (text.size() == 1 && text[0] == '0') {
    *value = 0;
    return true;
  }
  std::size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) {
    i = 1;
    if (text.size() == 1) return false;
  }
  // The first digit must be 1-9: "0" alone was handled above, so "01" and "-0" are rejected.
  if (text[i] < '1' || text[i] > '9') return false;
  // More than 19 digits is out of range anyway; at most 19 cannot overflow 64 unsigned bits.
  if (text.size() - i > 19) return false;
  unsigned long long v = 0;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    v = v * 10 + static_cast<unsigned long long>(text[i] - '0');
  }
  constexpr auto kMax = static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  if (negative) {
    if (v > kMax + 1) return false;
    // Negate in unsigned arithmetic so LLONG_MIN needs no signed overflow.
    *value = static_cast<long long>(0ull - v);
  } else {
    if (v > kMax) return false;
    *value = static_cast<long long>(v);
  }
  return true;
}

bool ParseLongDouble(std::string_view text, long double* value) {
  if (text.empty() || text.size() >= kLongDoubleBuffer) return false;
  char buf[kLongDoubleBuffer];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';

  errno = 0;
  char* end = nullptr;
  const long double v = std::strtold(buf, &end);
  if (std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  // An embedded NUL stops strtold early, which the length check catches.
  if (*end != '\0' || static_cast<std::size_t>(end - buf) != text.size()) return false;
  if (errno == ERANGE && (std::isinf(v) || std::fpclassify(v) == FP_ZERO)) return false;
  if (errno == EINVAL || std::isnan(v)) return false;
  *value = v;
  return true;
}

std::string FormatLongDouble(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[kLongDoubleBuffer];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", value);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) return std::string();
  std::size_t len = static_cast<std::size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (buf[len - 1] == '0') --len;
    if (buf[len - 1] == '.') --len;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, len);
}

bool ParseCursor(std::string_view text, std::uint64_t* value) {
  // strtoul would skip leading space, but Redis refuses it explicitly.
  if (text.empty()) {
    *value = 0;  // strtoul finds no digits and leaves the end pointer on the terminator
    return true;
  }
  std::size_t i = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return false;  // a lone sign: strtoul stops before it
  std::uint64_t v = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (v > (kMax - digit) / 10) return false;  // strtoul's ERANGE
    v = v * 10 + digit;
  }
  *value = negative ? 0 - v : v;
  return true;
}

}  // namespace dynakv::server
