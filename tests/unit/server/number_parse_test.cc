#include "number_parse.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

namespace dynakv::server {
namespace {

bool Ll(std::string_view text, long long* out) { return ParseLongLong(text, out); }

bool Rejected(std::string_view text) {
  long long v = 12345;
  const bool ok = ParseLongLong(text, &v);
  CHECK(v == 12345);  // a rejected parse leaves the output alone
  return !ok;
}

long double Ld(std::string_view text) {
  long double v = 0;
  REQUIRE(ParseLongDouble(text, &v));
  return v;
}

bool LdRejected(std::string_view text) {
  long double v = 0;
  return !ParseLongDouble(text, &v);
}

TEST_CASE("ParseLongLong accepts canonical decimal integers") {
  long long v = 0;
  CHECK(Ll("0", &v));
  CHECK(v == 0);
  CHECK(Ll("7", &v));
  CHECK(v == 7);
  CHECK(Ll("-1", &v));
  CHECK(v == -1);
  CHECK(Ll("1234567890", &v));
  CHECK(v == 1234567890);
  CHECK(Ll("9223372036854775807", &v));
  CHECK(v == std::numeric_limits<long long>::max());
  CHECK(Ll("-9223372036854775808", &v));
  CHECK(v == std::numeric_limits<long long>::min());
}

TEST_CASE("ParseLongLong rejects what Redis's string2ll rejects") {
  CHECK(Rejected(""));
  CHECK(Rejected("-"));
  CHECK(Rejected("-0"));
  CHECK(Rejected("+1"));
  CHECK(Rejected(" 1"));
  CHECK(Rejected("1 "));
  CHECK(Rejected("  12"));
  CHECK(Rejected("012"));
  CHECK(Rejected("00"));
  CHECK(Rejected("0x1"));
  CHECK(Rejected("1e3"));
  CHECK(Rejected("1.0"));
  CHECK(Rejected("abc"));
  CHECK(Rejected("12a"));
  CHECK(Rejected(std::string_view("1\0", 2)));
  CHECK(Rejected("9223372036854775808"));
  CHECK(Rejected("-9223372036854775809"));
  CHECK(Rejected("18446744073709551615"));
  CHECK(Rejected("99999999999999999999"));  // 20 digits: would wrap 64 unsigned bits
  CHECK(Rejected("-99999999999999999999"));  // 21 bytes: over the length limit
  CHECK(Rejected("100000000000000000000"));
}

TEST_CASE("ParseLongDouble follows string2ld") {
  CHECK(Ld("10.5") == 10.5L);
  CHECK(Ld("-3") == -3.0L);
  CHECK(Ld("+1") == 1.0L);
  CHECK(Ld("1e3") == 1000.0L);
  CHECK(Ld("5.0e3") == 5000.0L);
  CHECK(Ld("0x10") == 16.0L);
  CHECK(Ld(".5") == 0.5L);
  CHECK(std::isinf(Ld("inf")));
  CHECK(Ld("-inf") < 0);

  CHECK(LdRejected(""));
  CHECK(LdRejected(" 1"));
  CHECK(LdRejected("\t1"));
  CHECK(LdRejected("1 "));
  CHECK(LdRejected("1.5x"));
  CHECK(LdRejected("abc"));
  CHECK(LdRejected("nan"));
  CHECK(LdRejected("-nan"));
  CHECK(LdRejected(std::string_view("1\0" "5", 3)));
  CHECK(LdRejected("1e99999"));   // overflow
  CHECK(LdRejected("1e-99999"));  // underflow to zero
  CHECK(LdRejected(std::string(kMaxLongDoubleChars, '1')));
}

TEST_CASE("FormatLongDouble prints like ld2string's human mode") {
  CHECK(FormatLongDouble(Ld("10.5") + Ld("0.1")) == "10.6");
  CHECK(FormatLongDouble(Ld("5.0e3")) == "5000");
  CHECK(FormatLongDouble(3.0L) == "3");
  CHECK(FormatLongDouble(0.0L) == "0");
  CHECK(FormatLongDouble(-0.0L) == "0");
  CHECK(FormatLongDouble(-1.5L) == "-1.5");
  CHECK(FormatLongDouble(Ld("15") + Ld("-1.5e-3")) == "14.9985");
  CHECK(FormatLongDouble(1e-18L) == "0");  // below the 17 printed decimals
  CHECK(FormatLongDouble(1e20L) == "100000000000000000000");
  CHECK(FormatLongDouble(std::numeric_limits<long double>::infinity()) == "inf");
  CHECK(FormatLongDouble(-std::numeric_limits<long double>::infinity()) == "-inf");
  // The largest finite value still fits and reads back.
  const std::string huge = FormatLongDouble(std::numeric_limits<long double>::max());
  CHECK(huge.size() > 4000);
  CHECK(Ld(huge) == std::numeric_limits<long double>::max());
}

TEST_CASE("ParseCursor accepts what Redis's strtoul-based cursor parsing accepts") {
  std::uint64_t v = 99;
  CHECK(ParseCursor("0", &v));
  CHECK(v == 0);
  CHECK(ParseCursor("123", &v));
  CHECK(v == 123);
  CHECK(ParseCursor("18446744073709551615", &v));
  CHECK(v == std::numeric_limits<std::uint64_t>::max());
  CHECK(ParseCursor("+5", &v));
  CHECK(v == 5);
  CHECK(ParseCursor("-1", &v));
  CHECK(v == std::numeric_limits<std::uint64_t>::max());
  CHECK(ParseCursor("", &v));
  CHECK(v == 0);
  CHECK(ParseCursor("007", &v));
  CHECK(v == 7);

  CHECK_FALSE(ParseCursor(" 5", &v));
  CHECK_FALSE(ParseCursor("5 ", &v));
  CHECK_FALSE(ParseCursor("5x", &v));
  CHECK_FALSE(ParseCursor("+", &v));
  CHECK_FALSE(ParseCursor("-", &v));
  CHECK_FALSE(ParseCursor("abc", &v));
  CHECK_FALSE(ParseCursor("18446744073709551616", &v));
  CHECK_FALSE(ParseCursor("99999999999999999999", &v));
}

}  // namespace
}  // namespace dynakv::server
