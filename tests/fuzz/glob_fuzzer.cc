// Fuzzes the glob matcher (server/glob.h) that KEYS, SCAN MATCH and CONFIG GET run on client
// patterns. Input: [flags byte][pattern length byte] then the pattern, and the rest is the text.
// flags bit 0: nocase. Besides not crashing, checks what any correct matcher must do:
//   - the text with every byte escaped matches the text, with or without nocase;
//   - a text matches itself followed by "*", and "*" matches any non-empty text;
//   - a pattern without special bytes matches exactly the equal text (nocase: equal but case);
//   - case folding: with nocase, upper-casing the letters of the text changes nothing.
// The recursive matcher overflows the stack on huge patterns ("*a" x 200000): run with
// -max_len=4096 until it is iterative (scripts/fuzz.sh does).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dynakv::server::GlobMatch;
  dynakv::fuzz::InputReader in(data, size);
  const bool nocase = (in.Byte() & 1) != 0;
  const std::string_view pattern = in.Bytes(in.Byte());
  const std::string_view text = in.Rest();

  const bool match = GlobMatch(pattern, text, nocase);
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
