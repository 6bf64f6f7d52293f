// Single-request behaviour of RequestParser: every frame type, every protocol error with its exact
// text, and every limit. Split/pipelined/fuzzed streams live in request_parser_stream_test.cc.

#include "resp/request_parser.h"

#include <doctest/doctest.h>

#include <climits>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::resp {
namespace {

using namespace std::string_literals;

struct Result {
  ParseStatus status;
  std::size_t consumed;
  std::vector<std::string> argv;
  std::string error;
};

Result ParseOnce(std::string_view input, ParserLimits limits = {}) {
  RequestParser parser(limits);
  std::size_t consumed = 12345;
  std::vector<std::string_view> argv;
  Result r;
  r.status = parser.Parse(input, &consumed, &argv);
  r.consumed = consumed;
  if (r.status == ParseStatus::kRequest) r.argv.assign(argv.begin(), argv.end());
  r.error = parser.error();
  return r;
}

void CheckRequest(std::string_view input, const std::vector<std::string>& expected,
                  std::size_t expected_consumed, ParserLimits limits = {}) {
  CAPTURE(input);
  Result r = ParseOnce(input, limits);
  REQUIRE(r.status == ParseStatus::kRequest);
  CHECK(r.consumed == expected_consumed);
  CHECK(r.argv == expected);
  CHECK(r.error.empty());
}

void CheckError(std::string_view input, std::string_view message, ParserLimits limits = {}) {
  CAPTURE(input);
  Result r = ParseOnce(input, limits);
  REQUIRE(r.status == ParseStatus::kError);
  CHECK(r.consumed == 0);
  CHECK(r.error == message);
}

void CheckNeedMore(std::string_view input, ParserLimits limits = {}) {
  CAPTURE(input);
  Result r = ParseOnce(input, limits);
  CHECK(r.status == ParseStatus::kNeedMore);
  CHECK(r.consumed == 0);
  CHECK(r.error.empty());
}

TEST_CASE("multibulk requests") {
  CheckRequest("*1\r\n$4\r\nPING\r\n", {"PING"}, 14);
  CheckRequest("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", {"GET", "k"}, 20);
  // Trailing bytes (the next pipelined request) are left alone.
  CheckRequest("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n", {"GET", "k"}, 20);
  // Payloads are binary-safe: CR, LF, NUL and '*' / '$' inside a bulk are data.
  CheckRequest("*2\r\n$3\r\nSET\r\n$6\r\na\r\n\0*$\r\n"s, {"SET", "a\r\n\0*$"s}, 25);
  CheckRequest("*2\r\n$0\r\n\r\n$0\r\n\r\n", {"", ""}, 16);
  // Arguments are views into the input, not copies.
  std::string input = "*1\r\n$5\r\nhello\r\n";
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  REQUIRE(parser.Parse(input, &consumed, &argv) == ParseStatus::kRequest);
  REQUIRE(argv.size() == 1);
  CHECK(argv[0].data() == input.data() + 8);
}

TEST_CASE("empty and negative multibulk counts are skipped like Redis") {
  CheckRequest("*0\r\n", {}, 4);
  CheckRequest("*-1\r\n", {}, 5);
  CheckRequest("*-5\r\n*1\r\n$1\r\nx\r\n", {}, 5);
  CheckRequest("*-9223372036854775808\r\n", {}, 23);
}

TEST_CASE("incomplete multibulk requests need more") {
  for (std::string_view partial :
       {"*", "*2", "*2\r", "*2\r\n", "*2\r\n$", "*2\r\n$3", "*2\r\n$3\r", "*2\r\n$3\r\n",
        "*2\r\n$3\r\nGE", "*2\r\n$3\r\nGET", "*2\r\n$3\r\nGET\r", "*2\r\n$3\r\nGET\r\n",
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r"}) {
    CheckNeedMore(partial);
  }
  // Redis only judges a bulk header once its line is complete.
  CheckNeedMore("*1\r\nx");
  CheckNeedMore("*1\r\nx\r");
}

TEST_CASE("inline requests") {
  CheckRequest("PING\r\n", {"PING"}, 6);
  CheckRequest("PING\n", {"PING"}, 5);
  CheckRequest("SET k v\r\nGET k\r\n", {"SET", "k", "v"}, 9);
  CheckRequest("  SET\t k   v  \r\n", {"SET", "k", "v"}, 16);
  CheckRequest("SET \"a b\" 'c d'\r\n", {"SET", "a b", "c d"}, 17);
  CheckRequest("ECHO \"\\x41\\n\\t\\\"\" 'it\\'s'\n", {"ECHO", "A\n\t\"", "it's"}, 26);
  // A line is not a multibulk header unless it starts with '*'.
  CheckRequest("$3\r\n", {"$3"}, 4);
  CheckRequest("GET *\r\n", {"GET", "*"}, 7);
  // Only the CR right before the LF belongs to the terminator.
  CheckRequest("PING\r\r\n", {"PING"}, 7);
  CheckNeedMore("PING");
  CheckNeedMore("PING\r");
}

TEST_CASE("blank inline lines are empty requests") {
  CheckRequest("\r\n", {}, 2);
  CheckRequest("\n", {}, 1);
  CheckRequest("   \t \r\n", {}, 7);
  CheckRequest("\r\nPING\r\n", {}, 2);
}

TEST_CASE("inline arguments are owned by the parser until the next call") {
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  std::string input = "SET \"a\\x42\" plain\r\n";
  REQUIRE(parser.Parse(input, &consumed, &argv) == ParseStatus::kRequest);
  input.assign(input.size(), '#');  // the request's bytes are gone; the arguments are not
  REQUIRE(argv.size() == 3);
  CHECK(argv[0] == "SET");
  CHECK(argv[1] == "aB");
  CHECK(argv[2] == "plain");
}

TEST_CASE("protocol errors carry Redis's texts") {
  CheckError("*x\r\n", "Protocol error: invalid multibulk length");
  CheckError("*1\r\nx\r\n", "Protocol error: expected '$', got 'x'");
  CheckError("*2\r\n$1\r\na\r\n*\r\n", "Protocol error: expected '$', got '*'");
  CheckError("*1\r\n\r\n", "Protocol error: expected '$', got '\r'");
  CheckError("*1\r\n$x\r\n", "Protocol error: invalid bulk length");
  CheckError("*1\r\n$-1\r\n", "Protocol error: invalid bulk length");
  CheckError("*1\r\n$\r\n", "Protocol error: invalid bulk length");
  CheckError("*1\r\n$1\r\nab\r\n", "Protocol error: expected CRLF after bulk");
  CheckError("*1\r\n$1\r\na\n\r", "Protocol error: expected CRLF after bulk");
  CheckError("*1\r\n$1\r\na\rx", "Protocol error: expected CRLF after bulk");
  CheckError("SET \"a\r\n", "Protocol error: unbalanced quotes in request");
  CheckError("SET 'a\r\n", "Protocol error: unbalanced quotes in request");
  CheckError("SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request");
  CheckError("SET 'a'b\r\n", "Protocol error: unbalanced quotes in request");
}

TEST_CASE("header lines must end in CRLF") {
  CheckError("*1\rX", "Protocol error: invalid multibulk length");
  CheckError("*1\r\r\n", "Protocol error: invalid multibulk length");
  CheckError("*1\r\n$1\rXa\r\n", "Protocol error: invalid bulk length");
}

TEST_CASE("counts are parsed as strictly as Redis's string2ll") {
  for (std::string_view bad : {"", "+1", " 1", "1 ", "01", "00", "-0", "-", "--1", "1x", "0x1",
                               "1.0", "99999999999999999999", "123456789012345678901",
                               "9223372036854775808", "-9223372036854775809"}) {
    std::string mbulk = "*" + std::string(bad) + "\r\n";
    CheckError(mbulk, "Protocol error: invalid multibulk length");
    std::string bulk = "*1\r\n$" + std::string(bad) + "\r\n";
    CheckError(bulk, "Protocol error: invalid bulk length");
  }
}

TEST_CASE("multibulk count limit") {
  ParserLimits limits;
  limits.max_multibulk_len = 3;
  CheckNeedMore("*3\r\n", limits);
  CheckError("*4\r\n", "Protocol error: invalid multibulk length", limits);
  // The default is INT_MAX, as in Redis; announcing it costs nothing until arguments arrive.
  CheckNeedMore("*2147483647\r\n");
  CheckError("*2147483648\r\n", "Protocol error: invalid multibulk length");
}

TEST_CASE("bulk length limit") {
  ParserLimits limits;
  limits.max_bulk_len = 10;
  CheckRequest("*1\r\n$10\r\n0123456789\r\n", {"0123456789"}, 21, limits);
  CheckError("*1\r\n$11\r\n", "Protocol error: invalid bulk length", limits);
  CheckNeedMore("*1\r\n$536870912\r\n");
  CheckError("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length");
  // A huge announced length must not overflow the "is the payload here yet" arithmetic.
  limits.max_bulk_len = LLONG_MAX;
  CheckNeedMore("*1\r\n$9223372036854775807\r\nabc\r\n", limits);
}

TEST_CASE("line length limits") {
  ParserLimits limits;
  limits.max_inline_len = 16;
  // Inline: at most 16 bytes before the LF.
  CheckNeedMore(std::string(16, 'a'), limits);
  CheckRequest(std::string(16, 'a') + "\n", {std::string(16, 'a')}, 17, limits);
  CheckError(std::string(17, 'a'), "Protocol error: too big inline request", limits);
  CheckError(std::string(17, 'a') + "\n", "Protocol error: too big inline request", limits);
  // Multibulk headers: at most 16 bytes before the CR, counting the '*' or '$'.
  CheckNeedMore("*" + std::string(15, '1'), limits);
  CheckError("*" + std::string(16, '1'), "Protocol error: too big mbulk count string", limits);
  CheckNeedMore("*1\r\n$" + std::string(15, '1'), limits);
  CheckError("*1\r\n$" + std::string(16, '1'), "Protocol error: too big bulk count string", limits);
  // A bulk payload is not a line: it may be far longer than the line limit.
  const std::string payload(100, 'p');
  CheckRequest("*1\r\n$100\r\n" + payload + "\r\n", {payload}, 112, limits);
}

TEST_CASE("default line limit is Redis's 64 KB") {
  CheckNeedMore(std::string(64 * 1024, 'a'));
  CheckError(std::string(64 * 1024 + 1, 'a'), "Protocol error: too big inline request");
  CheckError("*" + std::string(64 * 1024, 'x'), "Protocol error: too big mbulk count string");
}

TEST_CASE("unauthenticated limits") {
  ParserLimits limits;
  limits.unauthenticated = true;
  std::string ten = "*10\r\n";
  for (int i = 0; i < 10; ++i) ten += "$1\r\nx\r\n";
  CheckRequest(ten, std::vector<std::string>(10, "x"), ten.size(), limits);
  CheckError("*11\r\n", "Protocol error: unauthenticated multibulk length", limits);
  CheckNeedMore("*1\r\n$16384\r\n", limits);
  CheckError("*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length", limits);
  // A malformed count is still reported as malformed.
  CheckError("*1x\r\n", "Protocol error: invalid multibulk length", limits);
  // The same requests are fine once authenticated.
  CheckNeedMore("*11\r\n");
  CheckNeedMore("*1\r\n$16385\r\n");
}

TEST_CASE("limits can change between requests") {
  RequestParser parser({.unauthenticated = true});
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  CHECK(parser.limits().unauthenticated);
  parser.set_limits({});
  CHECK_FALSE(parser.limits().unauthenticated);
  CHECK(parser.Parse("*11\r\n", &consumed, &argv) == ParseStatus::kNeedMore);
}

TEST_CASE("an error is final") {
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  REQUIRE(parser.Parse("*x\r\n", &consumed, &argv) == ParseStatus::kError);
  CHECK(parser.Parse("PING\r\n", &consumed, &argv) == ParseStatus::kError);
  CHECK(consumed == 0);
  CHECK(parser.error() == "Protocol error: invalid multibulk length");
}

TEST_CASE("completed arguments and headers are never read again") {
  // White-box: after the parser has seen the first arguments, overwrite their framing with junk.
  // A parser that rescanned from the request start would now fail; ours resumes where it was.
  const std::string full = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  const std::size_t seen = full.find("value") + 2;
  REQUIRE(parser.Parse(std::string_view(full).substr(0, seen), &consumed, &argv) ==
          ParseStatus::kNeedMore);
  std::string mangled = full;
  mangled.replace(0, 4, "####");   // "*3\r\n"
  mangled.replace(4, 4, "####");   // "$3\r\n"
  mangled.replace(13, 4, "####");  // "$1\r\n"
  REQUIRE(parser.Parse(mangled, &consumed, &argv) == ParseStatus::kRequest);
  CHECK(consumed == full.size());
  REQUIRE(argv.size() == 3);
  CHECK(argv[0] == "SET");
  CHECK(argv[1] == "k");
  CHECK(argv[2] == "value");
}

TEST_CASE("a partial line is not searched again for its terminator") {
  // White-box, same idea: plant a newline in bytes already searched. Resuming finds the real one.
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  REQUIRE(parser.Parse("GET ke", &consumed, &argv) == ParseStatus::kNeedMore);
  REQUIRE(parser.Parse("GET\nkey\r\n", &consumed, &argv) == ParseStatus::kRequest);
  CHECK(consumed == 9);
  CHECK(argv == std::vector<std::string_view>{"GET", "key"});
}

TEST_CASE("a caller that drops seen bytes gets a restart, not a crash") {
  RequestParser parser;
  std::size_t consumed = 0;
  std::vector<std::string_view> argv;
  REQUIRE(parser.Parse("*2\r\n$3\r\nGET\r\n$1\r\n", &consumed, &argv) == ParseStatus::kNeedMore);
  CHECK(parser.Parse("*2\r\n", &consumed, &argv) == ParseStatus::kNeedMore);
  REQUIRE(parser.Parse("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", &consumed, &argv) ==
          ParseStatus::kRequest);
  CHECK(argv == std::vector<std::string_view>{"GET", "k"});
}

}  // namespace
}  // namespace dynakv::resp
