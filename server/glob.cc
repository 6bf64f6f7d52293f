#include "glob.h"

#include <cstddef>

namespace dynakv::server {

namespace {

unsigned char Fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

bool SameByte(unsigned char a, unsigned char b, bool nocase) {
  return nocase ? Fold(a) == Fold(b) : a == b;
}

// Matches [p, p+plen) against [s, s+slen). `give_up` is set once a '*' has tried every start
// position for the rest of the pattern without success: an earlier '*' consuming more bytes
// cannot help then, so the whole match fails at once instead of backtracking exponentially
// (Redis's skipLongerMatches, added against patterns like "a*a*a*a*b").
bool Match(const unsigned char* p, std::size_t plen, const unsigned char* s, std::size_t slen,
           bool nocase, bool* give_up) {
  while (plen > 0 && slen > 0) {
    switch (p[0]) {
      case '*':
        while (plen > 1 && p[1] == '*') {
          ++p;
          --plen;
        }
        if (plen == 1) return true;  // a trailing '*' matches whatever is left
        while (slen > 0) {
          if (Match(p + 1, plen - 1, s, slen, nocase, give_up)) return true;
          if (*give_up) return false;
          ++s;
          --slen;
        }
        *give_up = true;
        return false;
      case '?':
        ++s;
        --slen;
        break;
      case '[': {
        ++p;
        --plen;
        const bool negate = plen > 0 && p[0] == '^';
        if (negate) {
          ++p;
          --plen;
        }
        bool match = false;
        while (true) {
          if (plen == 0) {
            // Unterminated class: step back so the advance below lands on the pattern's end.
            --p;
            ++plen;
            break;
          }
          if (p[0] == '\\' && plen >= 2) {
            ++p;
            --plen;
            if (p[0] == s[0]) match = true;  // Redis compares escaped bytes case-sensitively
          } else if (p[0] == ']') {
            break;
          } else if (plen >= 3 && p[1] == '-') {
            unsigned char lo = p[0];
            unsigned char hi = p[2];
            unsigned char c = s[0];
            if (lo > hi) {
              const unsigned char t = lo;
              lo = hi;
              hi = t;
            }
            if (nocase) {
              lo = Fold(lo);
              hi = Fold(hi);
              c = Fold(c);
            }
            p += 2;
            plen -= 2;
            if (c >= lo && c <= hi) match = true;
          } else if (SameByte(p[0], s[0], nocase)) {
            match = true;
          }
          ++p;
          --plen;
        }
        if (negate) match = !match;
        if (!match) return false;
        ++s;
        --slen;
        break;
      }
      case '\\':
        if (plen >= 2) {
          ++p;
          --plen;
        }
        [[fallthrough]];
      default:
        if (!SameByte(p[0], s[0], nocase)) return false;
        ++s;
        --slen;
        break;
    }
    ++p;
    --plen;
    if (slen == 0) {
      while (plen > 0 && p[0] == '*') {
        ++p;
        --plen;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  bool give_up = false;
  return Match(reinterpret_cast<const unsigned char*>(pattern.data()), pattern.size(),
               reinterpret_cast<const unsigned char*>(text.data()), text.size(), nocase,
               &give_up);
}

}  // namespace dynakv::server
