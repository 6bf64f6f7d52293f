#include "glob.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace dynakv::server {
namespace {

TEST_CASE("glob literals, ? and *") {
  CHECK(GlobMatch("hello", "hello"));
  CHECK_FALSE(GlobMatch("hello", "hell"));
  CHECK_FALSE(GlobMatch("hell", "hello"));
  CHECK(GlobMatch("h?llo", "hallo"));
  CHECK_FALSE(GlobMatch("h?llo", "hllo"));
  CHECK(GlobMatch("h*llo", "hllo"));
  CHECK(GlobMatch("h*llo", "heeeello"));
  CHECK(GlobMatch("*", "anything"));
  CHECK(GlobMatch("user:*", "user:"));
  CHECK(GlobMatch("user:*", "user:42"));
  CHECK_FALSE(GlobMatch("user:*", "users:42"));
  CHECK(GlobMatch("*:42", "user:42"));
  CHECK(GlobMatch("a*b*c", "aXXbYYc"));
  CHECK_FALSE(GlobMatch("a*b*c", "aXXbYY"));
  CHECK(GlobMatch("a**b", "ab"));
  CHECK(GlobMatch("a*", "a"));
  CHECK(GlobMatch("a***", "a"));
  CHECK_FALSE(GlobMatch("?", ""));
  CHECK_FALSE(GlobMatch("a", ""));
  CHECK(GlobMatch("", ""));
  CHECK_FALSE(GlobMatch("", "a"));
  // stringmatchlen's own quirk: with an empty text the loop never runs, so "*" does not match.
  CHECK_FALSE(GlobMatch("*", ""));
}

TEST_CASE("glob character classes") {
  CHECK(GlobMatch("h[ae]llo", "hello"));
  CHECK(GlobMatch("h[ae]llo", "hallo"));
  CHECK_FALSE(GlobMatch("h[ae]llo", "hillo"));
  CHECK(GlobMatch("h[^e]llo", "hallo"));
  CHECK_FALSE(GlobMatch("h[^e]llo", "hello"));
  CHECK(GlobMatch("h[a-c]llo", "hbllo"));
  CHECK_FALSE(GlobMatch("h[a-c]llo", "hdllo"));
  CHECK(GlobMatch("h[c-a]llo", "hbllo"));  // reversed ranges are swapped
  CHECK(GlobMatch("[0-9][0-9]", "42"));
  CHECK_FALSE(GlobMatch("[0-9][0-9]", "4x"));
  // As in Redis, "a-]" is a range up to ']', which leaves the class unterminated.
  CHECK_FALSE(GlobMatch("[a-]", "-"));
  CHECK(GlobMatch("[a-]", "^"));
  CHECK_FALSE(GlobMatch("[]]", "]"));  // an empty class matches nothing
  // An unterminated class keeps what it listed.
  CHECK(GlobMatch("[ab", "a"));
  CHECK_FALSE(GlobMatch("[ab", "c"));
  CHECK_FALSE(GlobMatch("[", "a"));
  CHECK(GlobMatch("[^", "x"));
}

TEST_CASE("glob escapes") {
  CHECK(GlobMatch("a\\*b", "a*b"));
  CHECK_FALSE(GlobMatch("a\\*b", "aXb"));
  CHECK(GlobMatch("\\?", "?"));
  CHECK_FALSE(GlobMatch("\\?", "x"));
  CHECK(GlobMatch("[\\]]", "]"));
  CHECK(GlobMatch("[\\^a]", "^"));
  CHECK(GlobMatch("[x\\-z]", "-"));
  CHECK_FALSE(GlobMatch("[x\\-z]", "y"));  // the escaped '-' is not a range
  CHECK(GlobMatch("a\\", "a\\"));          // a trailing backslash is literal
  CHECK(GlobMatch("\\\\", "\\"));
}

TEST_CASE("glob nocase") {
  CHECK_FALSE(GlobMatch("HELLO", "hello"));
  CHECK(GlobMatch("HELLO", "hello", true));
  CHECK(GlobMatch("h?L*", "HeLLO", true));
  CHECK(GlobMatch("[A-C]x", "bX", true));
  CHECK(GlobMatch("[abc]", "B", true));
  CHECK_FALSE(GlobMatch("[abc]", "B"));
  CHECK(GlobMatch("maxmemory*", "MAXMEMORY-POLICY", true));
}

TEST_CASE("glob is binary safe") {
  const std::string key("a\0b\xff", 4);
  CHECK(GlobMatch(std::string_view("a\0b*", 4), key));
  CHECK(GlobMatch("a?b?", key));
  CHECK_FALSE(GlobMatch("a", key));  // no stop at the NUL
  CHECK(GlobMatch("*\xff", key));
  CHECK(GlobMatch("a?b[\x80-\xff]", key));
  CHECK_FALSE(GlobMatch("a?b[\x01-\x7f]", key));
}

TEST_CASE("glob gives up early on pathological patterns") {
  // Without the give-up rule this backtracks exponentially and would not finish.
  const std::string text(200, 'a');
  CHECK_FALSE(GlobMatch("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
  CHECK(GlobMatch("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*", text));
}

// Each expectation below is what redis-server 7.0 answers to KEYS <pattern> with <text> the only
// key (checked by hand against a real one); the differential integration test in
// test_glob_patterns.cc compares many more against a running redis-server.
struct RedisCase {
  std::string pattern;
  std::string text;
  bool match;
};

TEST_CASE("glob odd cases match Redis 7.0") {
  const RedisCase cases[] = {
      {"[!a]", "b", false},  // only '^' negates
      {"[!a]", "!", true},
      {"[a-]", "a", true},  // "a-]" is the range ']'..'a' and the class is unterminated
      {"[a-]", "]", true},
      {"[a-]", "-", false},
      {"[a-]x", "ax", false},  // ...so the 'x' is still inside it
      {"[a-]x", "a", true},
      {"[z-a]", "m", true},
      {"[z-a]", "z", true},
      {"[^z-a]", "m", false},
      {"a\\", "a\\", true},
      {"a\\", "a", false},
      {"\\", "\\", true},
      {"[\\", "\\", true},
      {"[\\", "a", false},
      {"[a\\", "\\", true},
      {"[]a]", "a", false},  // "[]" is an empty class, then "a]" is literal
      {"[]a]", "]", false},
      {"[]", "]", false},
      {"[^]", "x", true},
      {"[^", "x", true},
      {"[", "[", false},
      {"[", "x", false},
      {"[ab", "b", true},
      {"[ab", "ab", false},
      {"x[a-", "xa", true},
      {"x[a-", "x-", true},
      {"[a-c-e]", "d", false},
      {"[a-c-e]", "-", true},
      {"*[a", "xa", true},
      {"*[a", "x[", false},
      {"a*\\", "ab\\", true},
      {"*\\*", "a*", true},
      {"*\\*", "a", false},
      {"[\\-]", "-", true},
      {"[a\\-z]", "b", false},
      {"**", "a", true},
      {"a*b*", "ab", true},
      {"?*?", "ab", true},
      {"?*?", "a", false},
      {"*?", "a", true},
      {"[*]", "*", true},
      {"[*]", "a", false},
      {"[?]", "a", false},
      // Ranges compare bytes as signed chars, as stringmatchlen does.
      {"[\x01-\xff]", "a", false},
      {"[\x01-\xff]", "\x01", true},
      {"[\x01-\xff]", "\xff", true},
      {"[\x01-\xff]", std::string(1, '\0'), true},
      {"[\x80-\xff]", "\x90", true},
      {"[\x7f-\x80]", "a", true},
      {"[\x7f-\x80]", "\x81", true},
  };
  for (const RedisCase& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.text);
    CHECK(GlobMatch(c.pattern, c.text) == c.match);
  }
}

std::string Repeat(std::string_view part, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += part;
  return out;
}

TEST_CASE("glob fails a match that needs a 1001st '*', as Redis 7 does") {
  const std::string a1000(1000, 'a');
  const std::string a1001(1001, 'a');
  CHECK(GlobMatch(Repeat("*a", 1000) + "b", a1000 + "b"));
  CHECK_FALSE(GlobMatch(Repeat("*a", 1001), a1001));
  CHECK_FALSE(GlobMatch(Repeat("*a", 1001) + "b", a1001 + "b"));
  // The 1001st '*' may end the pattern: it takes the rest without going deeper.
  CHECK(GlobMatch(Repeat("*a", 1000) + "*", a1000 + "x"));
  CHECK_FALSE(GlobMatch(Repeat("*a", 1001) + "*", a1001 + "x"));
  CHECK(GlobMatch(Repeat("*a", 999) + "*?*", a1001));
  CHECK(GlobMatch(Repeat("*a", 1000) + "?*", a1001));
  CHECK(GlobMatch(Repeat("a*", 1000) + "b", a1000 + "b"));
  CHECK_FALSE(GlobMatch(Repeat("a*", 1001) + "b", a1001 + "b"));
  CHECK(GlobMatch(Repeat("a*", 1001), a1001));
  // A run of '*' counts once; escaped and bracketed ones not at all.
  CHECK(GlobMatch(std::string(5000, '*') + "a", "ba"));
  CHECK(GlobMatch(Repeat("[*]*", 1001), std::string(1001, '*')));
  CHECK(GlobMatch(Repeat("\\**", 1001), std::string(1001, '*')));
  CHECK_FALSE(GlobMatch(Repeat("\\**", 1001) + "a", std::string(1001, '*') + "a"));
}

TEST_CASE("glob answers at once for a pattern with a '*' per byte of a large key") {
  // This crashed the node: one stack frame per '*'. A match that gets past 1000 of them fails,
  // and failing takes a few thousand steps, not the product of the sizes.
  const std::string key(200 * 1000, 'a');
  const std::string pattern = Repeat("*a", 200 * 1000) + "b";
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(GlobMatch(pattern, key));
  CHECK_FALSE(GlobMatch(pattern, key, /*nocase=*/true));
  // Below the limit the work stays linear in the key for such patterns.
  CHECK(GlobMatch(Repeat("*a", 1000), key));
  CHECK_FALSE(GlobMatch(Repeat("*a", 1000) + "b", key));
  CHECK(GlobMatch(Repeat("*a", 1000) + "*", key));
  // The part after the last '*' is matched once, against the end of the key: this would be
  // 100000 starts times 100000 bytes by backtracking (and is, in Redis).
  const std::string tail = std::string(100 * 1000, 'a');
  CHECK_FALSE(GlobMatch("*" + tail + "b", key));
  CHECK(GlobMatch("*" + tail, key));
  CHECK(GlobMatch("a*" + tail, key));
  CHECK(GlobMatch("?*?" + tail, key, /*nocase=*/true));
  CHECK_FALSE(GlobMatch("*" + key + "a", key));  // longer than the key
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(1));
}

TEST_CASE("glob: the last part after '*' is anchored at the end, the others are searched") {
  CHECK(GlobMatch("*ab", "abab"));
  CHECK(GlobMatch("*ab", "xab"));
  CHECK_FALSE(GlobMatch("*ab", "aba"));
  CHECK(GlobMatch("*a*ab", "aab"));
  CHECK_FALSE(GlobMatch("*a*ab", "ab"));
  CHECK(GlobMatch("*[ab]?", "xbz"));
  CHECK(GlobMatch("a*b*c", "abbbcbc"));
  CHECK(GlobMatch("*\\", "x\\"));
  CHECK_FALSE(GlobMatch("*[", "x["));  // an unterminated class listing nothing matches nothing
  CHECK_FALSE(GlobMatch("*[", "x"));
  CHECK(GlobMatch("*?", "x"));
  CHECK_FALSE(GlobMatch("*??", "x"));
}

TEST_CASE("glob nocase folds ranges after swapping them, and never escaped bytes in a class") {
  CHECK(GlobMatch("[A-C]", "b", true));
  CHECK(GlobMatch("[a-c]", "B", true));
  // [a-Z] swaps to 'Z'..'a', then folds to 'z'..'a': nothing is in it.
  CHECK_FALSE(GlobMatch("[a-Z]", "a", true));
  CHECK_FALSE(GlobMatch("[a-Z]", "_", true));
  CHECK(GlobMatch("[a-Z]", "_"));
  CHECK_FALSE(GlobMatch("[\\A]", "a", true));
  CHECK(GlobMatch("[\\A]", "A", true));
  CHECK(GlobMatch("\\A", "a", true));  // outside a class an escaped byte folds
}

}  // namespace
}  // namespace dynakv::server

namespace dynakv::server {

TEST_CASE("glob nocase folds high bytes of a class range as glibc's tolower does") {
  // Redis passes signed chars to tolower(); glibc maps -128..-2 to 128..254 and keeps -1 (0xff).
  CHECK(GlobMatch("[\x80-\xff]", "\x85", /*nocase=*/false));
  CHECK_FALSE(GlobMatch("[\x80-\xff]", "\x85", /*nocase=*/true));
  CHECK(GlobMatch("[\x92-&]", "\x95", /*nocase=*/false));
  CHECK_FALSE(GlobMatch("[\x92-&]", "\x95", /*nocase=*/true));
  CHECK(GlobMatch("[\x80-\x90]", "\x85", /*nocase=*/true));
  // Found by the glob fuzzer: an unterminated class whose first range spans the sign change.
  CHECK_FALSE(GlobMatch("[\x92-&_ll?[^5", "-", /*nocase=*/true));
}

}  // namespace dynakv::server
