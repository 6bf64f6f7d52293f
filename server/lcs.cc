#include "lcs.h"

namespace dynakv::server {

std::uint64_t LcsTableBytes(std::size_t alen, std::size_t blen) {
  return (static_cast<std::uint64_t>(alen) + 1) * (static_cast<std::uint64_t>(blen) + 1) *
         sizeof(std::uint32_t);
}

LcsResult ComputeLcs(std::string_view a, std::string_view b, bool walk,
                     std::uint64_t min_match_len) {
  const auto alen = static_cast<std::uint32_t>(a.size());
  const auto blen = static_cast<std::uint32_t>(b.size());
  const std::size_t width = static_cast<std::size_t>(blen) + 1;
  // table[i * width + j]: the LCS length of a[0..i) and b[0..j).
  std::vector<std::uint32_t> table((static_cast<std::size_t>(alen) + 1) * width, 0);
  auto at = [&](std::uint32_t i, std::uint32_t j) -> std::uint32_t& {
    return table[static_cast<std::size_t>(i) * width + j];
  };
  for (std::uint32_t i = 1; i <= alen; ++i) {
    for (std::uint32_t j = 1; j <= blen; ++j) {
      if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  LcsResult result;
  result.length = at(alen, blen);
  if (!walk) return result;

  // Walk back from the end, building the sequence backwards and tracking the current run of
  // matches; a run is emitted when it breaks or reaches the start of either string.
  result.sequence.assign(result.length, '\0');
  std::uint32_t idx = result.length;
  bool in_run = false;
  LcsMatch run{};
  std::uint32_t i = alen;
  std::uint32_t j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result.sequence[idx - 1] = a[i - 1];
      if (!in_run) {
        run = {i - 1, i - 1, j - 1, j - 1};
        in_run = true;
      } else if (run.a_start == i && run.b_start == j) {
        --run.a_start;
        --run.b_start;
      } else {
        emit = true;
      }
      if (run.a_start == 0 || run.b_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (in_run) emit = true;
    }
    if (emit) {
      if (min_match_len == 0 || run.length() >= min_match_len) result.matches.push_back(run);
      in_run = false;
    }
  }
  return result;
}

}  // namespace dynakv::server
