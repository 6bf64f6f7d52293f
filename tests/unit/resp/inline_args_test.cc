// SplitInlineArgs must tokenize exactly like Redis's sdssplitargs, quirks included.

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "resp/request_parser.h"

namespace dynakv::resp {
namespace {

using namespace std::string_literals;
using Args = std::vector<std::string>;

Args Split(std::string_view line) {
  Args args;
  REQUIRE_MESSAGE(SplitInlineArgs(line, &args), line);
  return args;
}

bool Rejects(std::string_view line) {
  Args args;
  return !SplitInlineArgs(line, &args);
}

TEST_CASE("plain words") {
  CHECK(Split("") == Args{});
  CHECK(Split("   ") == Args{});
  CHECK(Split("GET") == Args{"GET"});
  CHECK(Split("SET k v") == Args{"SET", "k", "v"});
  CHECK(Split(" \t SET\tk  \r v \n") == Args{"SET", "k", "v"});
}

TEST_CASE("double quotes take C escapes") {
  CHECK(Split("\"a b\"") == Args{"a b"});
  CHECK(Split("\"\"") == Args{""});
  CHECK(Split(R"("\n\r\t\b\a\\\"")") == Args{"\n\r\t\b\a\\\""});
  CHECK(Split(R"("\x41\x6a\x4A\x00z")") == Args{"AjJ\0z"s});
  CHECK(Split(R"("\xff")") == Args{"\xff"});
  // Not a complete \xHH: the backslash escapes the 'x' like any other character.
  CHECK(Split(R"("\x4")") == Args{"x4"});
  CHECK(Split(R"("\xzz")") == Args{"xzz"});
  CHECK(Split(R"("\q")") == Args{"q"});
  CHECK(Split("\"'\"") == Args{"'"});
}

TEST_CASE("single quotes take only \\'") {
  CHECK(Split("'a b'") == Args{"a b"});
  CHECK(Split("''") == Args{""});
  CHECK(Split(R"('it\'s')") == Args{"it's"});
  CHECK(Split(R"('a\nb\x41')") == Args{R"(a\nb\x41)"});
  CHECK(Split("'\"'") == Args{"\""});
}

TEST_CASE("quotes may open inside a word but must close at its end") {
  CHECK(Split("foo\"bar baz\"") == Args{"foobar baz"});
  CHECK(Split("a'b c' d") == Args{"ab c", "d"});
  CHECK(Split("\"a\"\tb") == Args{"a", "b"});
  CHECK(Rejects("\"a\"b"));
  CHECK(Rejects("'a'b"));
  CHECK(Rejects("\"a\"\"b\""));
}

TEST_CASE("unterminated quotes are rejected") {
  CHECK(Rejects("\""));
  CHECK(Rejects("'"));
  CHECK(Rejects("SET \"k v"));
  CHECK(Rejects("SET 'k v"));
  CHECK(Rejects(R"("abc\")"));
  CHECK(Rejects(R"('abc\')"));
}

TEST_CASE("Redis's C-string quirks") {
  // A NUL ends the line.
  CHECK(Split("GET a\0b"s) == Args{"GET", "a"});
  CHECK(Rejects("\"a\0\""s));
  // \v and \f separate words only where blanks are skipped, not inside a word.
  CHECK(Split("\v\fGET") == Args{"GET"});
  CHECK(Split("a\vb") == Args{"a\vb"});
  CHECK(Split("\"a\"\v") == Args{"a"});
}

TEST_CASE("existing strings are reused and extras dropped") {
  Args args = {"one", "two", "three", "four"};
  REQUIRE(SplitInlineArgs("x y", &args));
  CHECK(args == Args{"x", "y"});
  REQUIRE(SplitInlineArgs("a b c", &args));
  CHECK(args == Args{"a", "b", "c"});
}

}  // namespace
}  // namespace dynakv::resp
