#include "glob.h"

#include <cstddef>
#include <utility>

namespace dynakv::server {

namespace {

// Redis 7 stops recursing at this depth: a match that needs a 1001st '*' (not the pattern's
// last) fails. Kept so a pattern answers as it does in Redis.
constexpr int kMaxStars = 1000;

int Fold(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// Redis folds a class range's ends and the byte with tolower() on signed chars. glibc's table
// answers a negative byte other than EOF (-1, byte 0xff) with its unsigned value, so in nocase
// mode such a byte compares as 128..254 while 0xff stays -1.
int RedisToLower(int c) { return c < -1 ? c + 256 : Fold(c); }

// stringmatchlen reads bytes through `char`, signed where Redis runs, so a class range compares
// -128..127: [\x01-\xff] is the range -1..1 and does not hold 'a'. Equality is unaffected.
int Signed(char c) { return static_cast<signed char>(c); }

bool SameByte(char a, char b, bool nocase) {
  return nocase ? Fold(static_cast<unsigned char>(a)) == Fold(static_cast<unsigned char>(b))
                : a == b;
}

// Matches the one-byte token at p[*i] ('?', a class, an escaped or a plain byte; never '*')
// against `c` and moves *i past it. Where the token ends depends only on the pattern, never on
// `c`, exactly as in stringmatchlen.
bool MatchToken(std::string_view p, std::size_t* i, char c, bool nocase) {
  std::size_t k = *i;
  switch (p[k]) {
    case '?':
      *i = k + 1;
      return true;
    case '[': {
      ++k;
      const bool negate = k < p.size() && p[k] == '^';
      if (negate) ++k;
      bool match = false;
      // An unterminated class ends with the pattern and keeps what it listed.
      while (k < p.size() && !(p[k] == ']')) {
        if (p[k] == '\\' && p.size() - k >= 2) {
          ++k;
          if (p[k] == c) match = true;  // Redis compares escaped bytes case-sensitively
        } else if (p.size() - k >= 3 && p[k + 1] == '-') {
          int lo = Signed(p[k]);
          int hi = Signed(p[k + 2]);
          int ch = Signed(c);
          if (lo > hi) std::swap(lo, hi);  // reversed ranges are swapped, then folded
          if (nocase) {
            lo = RedisToLower(lo);
            hi = RedisToLower(hi);
            ch = RedisToLower(ch);
          }
          k += 2;  // "a-]" is a range up to ']', which leaves the class unterminated
          if (ch >= lo && ch <= hi) match = true;
        } else if (SameByte(p[k], c, nocase)) {
          match = true;
        }
        ++k;
      }
      *i = k < p.size() ? k + 1 : p.size();
      return match != negate;
    }
    case '\\':
      if (p.size() - k >= 2) ++k;  // a trailing backslash is a literal one
      [[fallthrough]];
    default:
      *i = k + 1;
      return SameByte(p[k], c, nocase);
  }
}

}  // namespace

// Iterative, with one backtracking point: the last '*' seen. Every other token takes exactly one
// byte, so when the part after the last '*' fails at some start, only a later start for that
// '*' can help: an earlier '*' taking more bytes would just move the same part further right
// (Redis's skipLongerMatches makes the same argument). Each '*' is passed once, and each start
// tried for it costs at most the length of the part after it; the part after the pattern's last
// '*' is tried once, against the end of the text. So O(|pattern| + |text| * longest part between
// two '*'), whatever the number of '*', in constant space; Redis's recursion takes a stack frame
// per '*' and |text| * the longest part after any '*'.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  // stringmatchlen's loop never runs on an empty text: only the empty pattern matches it.
  if (text.empty()) return pattern.empty();
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star_p = kNone;   // the token after the last '*' run passed
  std::size_t star_s = 0;       // where that run's match currently ends in the text
  std::size_t part_tokens = 0;  // tokens between that run and the next
  int stars = 0;
  while (s < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;  // a trailing '*' takes whatever is left
      if (++stars > kMaxStars) return false;
      // The part up to the next '*' takes one byte per token: count them (no further than the
      // text goes), to know when no start is left for it and whether it is the last part.
      const std::size_t left = text.size() - s;
      std::size_t q = p;
      part_tokens = 0;
      while (q < pattern.size() && pattern[q] != '*' && part_tokens <= left) {
        MatchToken(pattern, &q, '\0', nocase);
        ++part_tokens;
      }
      if (part_tokens > left) return false;
      if (q == pattern.size()) {
        // The last part must end the text: a single try, where backtracking would try every
        // start (O(|text| * part) for "*aaaa...b" against a long run of 'a's).
        for (s = text.size() - part_tokens; p < pattern.size(); ++s) {
          if (!MatchToken(pattern, &p, text[s], nocase)) return false;
        }
        return true;
      }
      star_p = p;
      star_s = s;
      continue;
    }
    if (p < pattern.size()) {
      std::size_t next = p;
      if (MatchToken(pattern, &next, text[s], nocase)) {
        p = next;
        ++s;
        continue;
      }
    }
    if (star_p == kNone || text.size() - star_s <= part_tokens) return false;
    p = star_p;
    s = ++star_s;
  }
  // The text is used up: what is left of the pattern must be '*' only.
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace dynakv::server
