// Conversions between numbers and the text clients send and store. Each one accepts exactly what
// its Redis counterpart (string2ll, string2ld, ld2string, the SCAN cursor's strtoul) accepts,
// because clients depend on which spellings are numbers: "012", "+1" and " 1" are not integers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::server {

// Longest decimal text of a long long ("-9223372036854775808"), the longest value INCR can parse.
inline constexpr std::size_t kMaxLongLongChars = 20;

// Text of string2ld's limit (Redis's MAX_LONG_DOUBLE_CHARS): longer values are never floats.
inline constexpr std::size_t kMaxLongDoubleChars = 5 * 1024;

// Strict decimal integer, like Redis string2ll: optional '-', no leading zeros ("0" itself
// aside), no '+', no spaces, no overflow. So a value stored by INCR reads back unchanged.
bool ParseLongLong(std::string_view text, long long* value);

// Like Redis string2ld (strtold underneath): decimal, exponent, hex and "inf" spellings are
// accepted, but not leading space, trailing bytes, NaN, or a value that overflows.
bool ParseLongDouble(std::string_view text, long double* value);

// Like Redis ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros and dot, "-0" as "0",
// infinities as "inf"/"-inf". 17 digits make 10.5 + 0.1 print as "10.6".
std::string FormatLongDouble(long double value);

// A SCAN cursor, accepted as strtoul() accepts it in Redis (optional sign, a '-' wraps around,
// the empty string is 0) but without leading space, trailing bytes or overflow.
bool ParseCursor(std::string_view text, std::uint64_t* value);

}  // namespace dynakv::server
