#include "glob.h"

#include <doctest/doctest.h>

#include <string>

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

}  // namespace
}  // namespace dynakv::server
