// Fuzzes the glob matcher (server/glob.h) that KEYS, SCAN MATCH and CONFIG GET run on client
// patterns. Input: [flags byte][pattern length byte] then the pattern, and the rest is the text.
// flags bit 0: nocase. Besides not crashing, checks what any correct matcher must do:
//   - the text with every byte escaped matches the text, with or without nocase;
//   - a text matches itself followed by "*", and "*" matches any non-empty text;
//   - a pattern without special bytes matches exactly the equal text (nocase: equal but case);
//   - case folding: with nocase, upper-casing the letters of the text changes nothing.
//   - differential: the result equals a straightforward dynamic-programming matcher below, which
//     reads the same pattern syntax (tokens first, then a table over pattern x text positions).
// The recursive matcher overflows the stack on huge patterns ("*a" x 200000): run with
// -max_len=4096 until it is iterative (scripts/fuzz.sh does).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "glob.h"

namespace {

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool HasSpecial(std::string_view s) { return s.find_first_of("*?[\\") != std::string_view::npos; }

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

unsigned char Fold(unsigned char c) {
  return static_cast<unsigned char>(Lower(static_cast<char>(c)));
}

// One pattern token: '*', '?', a literal byte, or a bracket class.
struct Token {
  enum Kind { kStar, kAny, kLiteral, kClass } kind = kLiteral;
  unsigned char literal = 0;
  bool negate = false;
  // Class items: an escaped byte (compared exactly, as Redis does), a range, or a plain byte.
  struct Item {
    enum Kind { kEscaped, kRange, kByte } kind;
    unsigned char a, b;
  };
  std::vector<Item> items;

  bool Matches(unsigned char c, bool nocase) const {
    switch (kind) {
      case kStar:
      case kAny:
        return true;
      case kLiteral:
        return nocase ? Fold(literal) == Fold(c) : literal == c;
      case kClass:
        break;
    }
    bool hit = false;
    for (const Item& item : items) {
      if (item.kind == Item::kEscaped) {
        hit = hit || item.a == c;
      } else if (item.kind == Item::kByte) {
        hit = hit || (nocase ? Fold(item.a) == Fold(c) : item.a == c);
      } else {
        // Redis compares range ends as signed chars (x86) and, in nocase mode, folds them with
        // glibc's tolower, which maps a negative byte other than -1 to its unsigned value.
        const auto as_signed = [](unsigned char b) {
          return static_cast<int>(static_cast<signed char>(b));
        };
        const auto lower = [](int v) {
          return v < -1 ? v + 256 : (v >= 'A' && v <= 'Z' ? v + 32 : v);
        };
        int lo = std::min(as_signed(item.a), as_signed(item.b));
        int hi = std::max(as_signed(item.a), as_signed(item.b));
        int x = as_signed(c);
        if (nocase) {
          lo = lower(lo);
          hi = lower(hi);
          x = lower(x);
        }
        hit = hit || (x >= lo && x <= hi);
      }
    }
    return hit != negate;
  }
};

std::vector<Token> Tokenize(std::string_view p) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < p.size()) {
    Token t;
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '*') {
      while (i < p.size() && p[i] == '*') ++i;
      tokens.emplace_back().kind = Token::kStar;
      continue;
    }
    if (c == '?') {
      t.kind = Token::kAny;
      ++i;
    } else if (c == '\\' && i + 1 < p.size()) {
      t.literal = static_cast<unsigned char>(p[i + 1]);
      i += 2;
    } else if (c == '[') {
      t.kind = Token::kClass;
      ++i;
      if (i < p.size() && p[i] == '^') {
        t.negate = true;
        ++i;
      }
      while (i < p.size() && p[i] != ']') {  // unterminated: the class runs to the end
        const auto b = static_cast<unsigned char>(p[i]);
        if (b == '\\' && i + 1 < p.size()) {
          t.items.push_back({Token::Item::kEscaped, static_cast<unsigned char>(p[i + 1]), 0});
          i += 2;
        } else if (i + 2 < p.size() && p[i + 1] == '-') {
          t.items.push_back({Token::Item::kRange, b, static_cast<unsigned char>(p[i + 2])});
          i += 3;
        } else {
          t.items.push_back({Token::Item::kByte, b, 0});
          ++i;
        }
      }
      if (i < p.size()) ++i;  // the ']'
    } else {
      t.literal = c;
      ++i;
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// match[i][j]: tokens i.. match text j..; rows kept two at a time.
bool ReferenceMatch(std::string_view pattern, std::string_view text, bool nocase) {
  // As stringmatchlen: the empty text matches only the empty pattern.
  if (text.empty()) return pattern.empty();
  const std::vector<Token> tokens = Tokenize(pattern);
  const std::size_t n = text.size();
  std::vector<char> next(n + 1, 0), cur(n + 1, 0);
  next[n] = 1;
  for (std::size_t i = tokens.size(); i-- > 0;) {
    const Token& t = tokens[i];
    cur[n] = t.kind == Token::kStar ? next[n] : 0;
    for (std::size_t j = n; j-- > 0;) {
      if (t.kind == Token::kStar) {
        cur[j] = next[j] || cur[j + 1];
      } else {
        cur[j] = t.Matches(static_cast<unsigned char>(text[j]), nocase) && next[j + 1];
      }
    }
    std::swap(cur, next);
  }
  return next[0] != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dynakv::server::GlobMatch;
  dynakv::fuzz::InputReader in(data, size);
  const bool nocase = (in.Byte() & 1) != 0;
  const std::string_view pattern = in.Bytes(in.Byte());
  const std::string_view text = in.Rest();

  const bool match = GlobMatch(pattern, text, nocase);
  FUZZ_CHECK(match == ReferenceMatch(pattern, text, nocase));
  if (nocase) {
    std::string upper(text);
    for (char& c : upper) c = Upper(c);
    // Only where no escaped byte is compared: Redis compares those case-sensitively.
    if (pattern.find('\\') == std::string_view::npos) {
      FUZZ_CHECK(GlobMatch(pattern, upper, true) == match);
    }
  }
  if (!HasSpecial(pattern)) {
    FUZZ_CHECK(match == (nocase ? EqualNoCase(pattern, text) : pattern == text));
  }
  if (!text.empty()) {
    std::string escaped;
    for (char c : text) {
      escaped += '\\';
      escaped += c;
    }
    FUZZ_CHECK(GlobMatch(escaped, text, nocase));
    FUZZ_CHECK(GlobMatch("*", text, nocase));
    if (!HasSpecial(text)) FUZZ_CHECK(GlobMatch(std::string(text) + "*", text, nocase));
  }
  return 0;
}
