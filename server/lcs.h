// The longest common subsequence of two strings, as Redis's LCS command computes it (the
// classic dynamic-programming table, walked back from the end), so ties resolve the same way
// and the same matches come out in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::server {

// One run of consecutive matching bytes: a[a_start..a_end] == b[b_start..b_end].
struct LcsMatch {
  std::uint32_t a_start;
  std::uint32_t a_end;
  std::uint32_t b_start;
  std::uint32_t b_end;
  std::uint32_t length() const { return a_end - a_start + 1; }
};

struct LcsResult {
  std::uint32_t length = 0;
  std::string sequence;           // when asked for
  std::vector<LcsMatch> matches;  // when asked for: from the end of the strings backwards
};

// The bytes the table for strings of these lengths takes ((alen + 1) * (blen + 1) 32-bit cells).
std::uint64_t LcsTableBytes(std::size_t alen, std::size_t blen);

// Computes the LCS of a and b. With `walk` the table is walked back to fill `sequence` and
// `matches` (runs shorter than min_match_len left out); without it only `length` is set.
LcsResult ComputeLcs(std::string_view a, std::string_view b, bool walk,
                     std::uint64_t min_match_len);

}  // namespace dynakv::server
