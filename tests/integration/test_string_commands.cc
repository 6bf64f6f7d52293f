// String commands over the wire, with the exact replies Redis 7 gives.
#include <doctest/doctest.h>

#include <string>

#include "harness.h"

using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;

namespace {

const Reply kOk = Reply::Status("OK");
const Reply kSyntax = Reply::Error("ERR syntax error");
const Reply kNotInt = Reply::Error("ERR value is not an integer or out of range");
const Reply kNotFloat = Reply::Error("ERR value is not a valid float");
const Reply kOverflow = Reply::Error("ERR increment or decrement would overflow");

// A TTL reply within [lo, hi]: expiry is checked with a margin for the time the test takes.
void CheckTtlBetween(const Reply& ttl, long long lo, long long hi) {
  REQUIRE(ttl.type == Reply::Type::kInteger);
  CHECK(ttl.integer >= lo);
  CHECK(ttl.integer <= hi);
}

long long NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE_FIXTURE(ServerFixture, "GET and SET basics") {
  auto& c = client;
  CHECK(c.Command({"GET", "missing"}) == Reply::Nil());
  CHECK(c.Command({"SET", "k", "v"}) == kOk);
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
  CHECK(c.Command({"SET", "k", "v2"}) == kOk);
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v2"));
  CHECK(c.Command({"SET", "empty", ""}) == kOk);
  CHECK(c.Command({"GET", "empty"}) == Reply::Bulk(""));
  CHECK(c.Command({"GET"}) == Reply::Error("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Command({"SET", "k"}) == Reply::Error("ERR wrong number of arguments for 'set' command"));
  CHECK(c.Command({"GET", "k", "extra"}) ==
        Reply::Error("ERR wrong number of arguments for 'get' command"));
  // Command names are case-insensitive.
  CHECK(c.Command({"sEt", "lower", "x"}) == kOk);
  CHECK(c.Command({"get", "lower"}) == Reply::Bulk("x"));
}

TEST_CASE_FIXTURE(ServerFixture, "SET options") {
  auto& c = client;
  SUBCASE("EX and PX set a TTL") {
    CHECK(c.Command({"SET", "k", "v", "EX", "100"}) == kOk);
    CheckTtlBetween(c.Command({"TTL", "k"}), 99, 100);
    CHECK(c.Command({"SET", "k", "v", "px", "100000"}) == kOk);
    CheckTtlBetween(c.Command({"PTTL", "k"}), 99000, 100000);
  }
  SUBCASE("EXAT and PXAT take absolute unix times") {
    long long now_s = NowMs() / 1000;
    CHECK(c.Command({"SET", "k", "v", "EXAT", std::to_string(now_s + 100)}) == kOk);
    CheckTtlBetween(c.Command({"TTL", "k"}), 98, 100);
    CHECK(c.Command({"SET", "k", "v", "PXAT", std::to_string(NowMs() + 50000)}) == kOk);
    CheckTtlBetween(c.Command({"PTTL", "k"}), 48000, 50000);
    // An absolute time in the past stores nothing readable.
    CHECK(c.Command({"SET", "past", "v", "PXAT", std::to_string(NowMs() - 1000)}) == kOk);
    CHECK(c.Command({"GET", "past"}) == Reply::Nil());
  }
  SUBCASE("NX and XX") {
    CHECK(c.Command({"SET", "k", "v", "XX"}) == Reply::Nil());
    CHECK(c.Command({"GET", "k"}) == Reply::Nil());
    CHECK(c.Command({"SET", "k", "v", "NX"}) == kOk);
    CHECK(c.Command({"SET", "k", "v2", "NX"}) == Reply::Nil());
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v"));
    CHECK(c.Command({"SET", "k", "v3", "XX"}) == kOk);
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v3"));
  }
  SUBCASE("KEEPTTL keeps the expiry, a plain SET clears it") {
    CHECK(c.Command({"SET", "k", "v", "EX", "100"}) == kOk);
    CHECK(c.Command({"SET", "k", "v2", "KEEPTTL"}) == kOk);
    CheckTtlBetween(c.Command({"TTL", "k"}), 99, 100);
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v2"));
    CHECK(c.Command({"SET", "k", "v3"}) == kOk);
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
  }
  SUBCASE("GET returns the old value") {
    CHECK(c.Command({"SET", "k", "v1", "GET"}) == Reply::Nil());
    CHECK(c.Command({"SET", "k", "v2", "GET"}) == Reply::Bulk("v1"));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v2"));
    // NX with GET (allowed since 7.0): returns the old value and does not overwrite.
    CHECK(c.Command({"SET", "k", "v3", "NX", "GET"}) == Reply::Bulk("v2"));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v2"));
    CHECK(c.Command({"SET", "k", "v4", "XX", "GET", "EX", "100"}) == Reply::Bulk("v2"));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("v4"));
    CheckTtlBetween(c.Command({"TTL", "k"}), 99, 100);
  }
  SUBCASE("conflicting or malformed options") {
    CHECK(c.Command({"SET", "k", "v", "NX", "XX"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "EX", "10", "PX", "10000"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "EX", "10", "EXAT", "10"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "KEEPTTL", "EX", "10"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "EX"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "BOGUS"}) == kSyntax);
    CHECK(c.Command({"SET", "k", "v", "EX", "abc"}) == kNotInt);
    CHECK(c.Command({"SET", "k", "v", "EX", "0"}) ==
          Reply::Error("ERR invalid expire time in 'set' command"));
    CHECK(c.Command({"SET", "k", "v", "PX", "-5"}) ==
          Reply::Error("ERR invalid expire time in 'set' command"));
    CHECK(c.Command({"SET", "k", "v", "EX", "9223372036854775807"}) ==
          Reply::Error("ERR invalid expire time in 'set' command"));
    // None of the failed commands wrote anything.
    CHECK(c.Command({"EXISTS", "k"}) == Reply::Int(0));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "SETNX SETEX PSETEX") {
  auto& c = client;
  CHECK(c.Command({"SETNX", "k", "a"}) == Reply::Int(1));
  CHECK(c.Command({"SETNX", "k", "b"}) == Reply::Int(0));
  CHECK(c.Command({"GET", "k"}) == Reply::Bulk("a"));

  CHECK(c.Command({"SETEX", "e", "100", "v"}) == kOk);
  CHECK(c.Command({"GET", "e"}) == Reply::Bulk("v"));
  CheckTtlBetween(c.Command({"TTL", "e"}), 99, 100);
  CHECK(c.Command({"PSETEX", "p", "100000", "v"}) == kOk);
  CheckTtlBetween(c.Command({"PTTL", "p"}), 99000, 100000);

  CHECK(c.Command({"SETEX", "e", "0", "v"}) ==
        Reply::Error("ERR invalid expire time in 'setex' command"));
  CHECK(c.Command({"PSETEX", "e", "-1", "v"}) ==
        Reply::Error("ERR invalid expire time in 'psetex' command"));
  CHECK(c.Command({"SETEX", "e", "x", "v"}) == kNotInt);
  CHECK(c.Command({"SETEX", "e", "10"}) ==
        Reply::Error("ERR wrong number of arguments for 'setex' command"));
}

TEST_CASE_FIXTURE(ServerFixture, "GETSET GETDEL GETEX") {
  auto& c = client;
  SUBCASE("GETSET") {
    CHECK(c.Command({"GETSET", "k", "a"}) == Reply::Nil());
    CHECK(c.Command({"GETSET", "k", "b"}) == Reply::Bulk("a"));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("b"));
    // GETSET discards the TTL like SET does.
    CHECK(c.Command({"EXPIRE", "k", "100"}) == Reply::Int(1));
    CHECK(c.Command({"GETSET", "k", "c"}) == Reply::Bulk("b"));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
  }
  SUBCASE("GETDEL") {
    CHECK(c.Command({"GETDEL", "k"}) == Reply::Nil());
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"GETDEL", "k"}) == Reply::Bulk("v"));
    CHECK(c.Command({"EXISTS", "k"}) == Reply::Int(0));
  }
  SUBCASE("GETEX options") {
    CHECK(c.Command({"GETEX", "missing", "EX", "10"}) == Reply::Nil());
    CHECK(c.Command({"EXISTS", "missing"}) == Reply::Int(0));
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"GETEX", "k"}) == Reply::Bulk("v"));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
    CHECK(c.Command({"GETEX", "k", "EX", "100"}) == Reply::Bulk("v"));
    CheckTtlBetween(c.Command({"TTL", "k"}), 99, 100);
    CHECK(c.Command({"GETEX", "k", "PX", "200000"}) == Reply::Bulk("v"));
    CheckTtlBetween(c.Command({"PTTL", "k"}), 199000, 200000);
    CHECK(c.Command({"GETEX", "k", "EXAT", std::to_string(NowMs() / 1000 + 300)}) ==
          Reply::Bulk("v"));
    CheckTtlBetween(c.Command({"TTL", "k"}), 298, 300);
    CHECK(c.Command({"GETEX", "k", "PXAT", std::to_string(NowMs() + 400000)}) == Reply::Bulk("v"));
    CheckTtlBetween(c.Command({"PTTL", "k"}), 398000, 400000);
    CHECK(c.Command({"GETEX", "k", "PERSIST"}) == Reply::Bulk("v"));
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
  }
  SUBCASE("GETEX errors") {
    CHECK(c.Command({"SET", "k", "v"}) == kOk);
    CHECK(c.Command({"GETEX", "k", "EX", "0"}) ==
          Reply::Error("ERR invalid expire time in 'getex' command"));
    CHECK(c.Command({"GETEX", "k", "PX", "-1"}) ==
          Reply::Error("ERR invalid expire time in 'getex' command"));
    CHECK(c.Command({"GETEX", "k", "PERSIST", "EX", "10"}) == kSyntax);
    CHECK(c.Command({"GETEX", "k", "EX", "10", "PX", "10"}) == kSyntax);
    CHECK(c.Command({"GETEX", "k", "FOO"}) == kSyntax);
    CHECK(c.Command({"GETEX", "k", "EX", "ten"}) == kNotInt);
    CHECK(c.Command({"TTL", "k"}) == Reply::Int(-1));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "MGET MSET MSETNX") {
  auto& c = client;
  CHECK(c.Command({"MSET", "a", "1", "b", "2", "c", "3"}) == kOk);
  CHECK(c.Command({"MGET", "a", "missing", "c", "b"}) ==
        Reply::Array({Reply::Bulk("1"), Reply::Nil(), Reply::Bulk("3"), Reply::Bulk("2")}));
  // A repeated key: the last value wins.
  CHECK(c.Command({"MSET", "d", "x", "d", "y"}) == kOk);
  CHECK(c.Command({"GET", "d"}) == Reply::Bulk("y"));
  CHECK(c.Command({"MSET", "a"}) ==
        Reply::Error("ERR wrong number of arguments for 'mset' command"));
  CHECK(c.Command({"MSET", "a", "1", "b"}) ==
        Reply::Error("ERR wrong number of arguments for 'mset' command"));

  CHECK(c.Command({"MSETNX", "x", "1", "y", "2"}) == Reply::Int(1));
  CHECK(c.Command({"MSETNX", "y", "20", "z", "30"}) == Reply::Int(0));
  CHECK(c.Command({"MGET", "x", "y", "z"}) ==
        Reply::Array({Reply::Bulk("1"), Reply::Bulk("2"), Reply::Nil()}));
  CHECK(c.Command({"MSETNX", "x"}) ==
        Reply::Error("ERR wrong number of arguments for 'msetnx' command"));
}

TEST_CASE_FIXTURE(ServerFixture, "INCR DECR INCRBY DECRBY") {
  auto& c = client;
  CHECK(c.Command({"INCR", "n"}) == Reply::Int(1));
  CHECK(c.Command({"INCR", "n"}) == Reply::Int(2));
  CHECK(c.Command({"DECR", "n"}) == Reply::Int(1));
  CHECK(c.Command({"DECR", "m"}) == Reply::Int(-1));
  CHECK(c.Command({"INCRBY", "n", "41"}) == Reply::Int(42));
  CHECK(c.Command({"INCRBY", "n", "-50"}) == Reply::Int(-8));
  CHECK(c.Command({"DECRBY", "n", "-10"}) == Reply::Int(2));
  CHECK(c.Command({"DECRBY", "n", "5"}) == Reply::Int(-3));
  CHECK(c.Command({"GET", "n"}) == Reply::Bulk("-3"));
  // The result is stored as a string the other commands see.
  CHECK(c.Command({"APPEND", "n", "0"}) == Reply::Int(3));
  CHECK(c.Command({"INCR", "n"}) == Reply::Int(-29));

  SUBCASE("values that are not integers") {
    for (const char* bad : {"abc", "1.5", " 1", "1 ", "01", "", "+1", "99999999999999999999"}) {
      CAPTURE(bad);
      CHECK(c.Command({"SET", "s", bad}) == kOk);
      CHECK(c.Command({"INCR", "s"}) == kNotInt);
      CHECK(c.Command({"GET", "s"}) == Reply::Bulk(bad));
    }
    CHECK(c.Command({"INCRBY", "n", "x"}) == kNotInt);
    CHECK(c.Command({"DECRBY", "n", "1.0"}) == kNotInt);
  }
  SUBCASE("overflow") {
    CHECK(c.Command({"SET", "big", "9223372036854775807"}) == kOk);
    CHECK(c.Command({"INCR", "big"}) == kOverflow);
    CHECK(c.Command({"INCRBY", "big", "1"}) == kOverflow);
    CHECK(c.Command({"GET", "big"}) == Reply::Bulk("9223372036854775807"));
    CHECK(c.Command({"SET", "small", "-9223372036854775808"}) == kOk);
    CHECK(c.Command({"DECR", "small"}) == kOverflow);
    CHECK(c.Command({"DECRBY", "small", "1"}) == kOverflow);
    CHECK(c.Command({"DECRBY", "n", "-9223372036854775808"}) ==
          Reply::Error("ERR decrement would overflow"));
    CHECK(c.Command({"INCRBY", "small", "9223372036854775807"}) == Reply::Int(-1));
  }
}

TEST_CASE_FIXTURE(ServerFixture, "INCRBYFLOAT") {
  auto& c = client;
  CHECK(c.Command({"SET", "f", "10.50"}) == kOk);
  CHECK(c.Command({"INCRBYFLOAT", "f", "0.1"}) == Reply::Bulk("10.6"));
  CHECK(c.Command({"INCRBYFLOAT", "f", "-5"}) == Reply::Bulk("5.6"));
  CHECK(c.Command({"GET", "f"}) == Reply::Bulk("5.6"));
  CHECK(c.Command({"SET", "f", "5.0e3"}) == kOk);
  CHECK(c.Command({"INCRBYFLOAT", "f", "2.0e2"}) == Reply::Bulk("5200"));
  CHECK(c.Command({"INCRBYFLOAT", "new", "3"}) == Reply::Bulk("3"));
  CHECK(c.Command({"INCRBYFLOAT", "new", "-3.5"}) == Reply::Bulk("-0.5"));
  CHECK(c.Command({"INCRBYFLOAT", "new", "0.5"}) == Reply::Bulk("0"));

  CHECK(c.Command({"INCRBYFLOAT", "f", "abc"}) == kNotFloat);
  CHECK(c.Command({"SET", "s", "abc"}) == kOk);
  CHECK(c.Command({"INCRBYFLOAT", "s", "1"}) == kNotFloat);
  CHECK(c.Command({"INCRBYFLOAT", "f", "inf"}) ==
        Reply::Error("ERR increment would produce NaN or Infinity"));
  CHECK(c.Command({"GET", "f"}) == Reply::Bulk("5200"));
  CHECK(c.Command({"INCRBYFLOAT", "f"}) ==
        Reply::Error("ERR wrong number of arguments for 'incrbyfloat' command"));
}

TEST_CASE_FIXTURE(ServerFixture, "APPEND STRLEN GETRANGE SETRANGE") {
  auto& c = client;
  SUBCASE("APPEND and STRLEN") {
    CHECK(c.Command({"STRLEN", "k"}) == Reply::Int(0));
    CHECK(c.Command({"APPEND", "k", "Hello"}) == Reply::Int(5));
    CHECK(c.Command({"APPEND", "k", " World"}) == Reply::Int(11));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("Hello World"));
    CHECK(c.Command({"STRLEN", "k"}) == Reply::Int(11));
    CHECK(c.Command({"APPEND", "k", ""}) == Reply::Int(11));
  }
  SUBCASE("GETRANGE") {
    CHECK(c.Command({"SET", "k", "This is a string"}) == kOk);
    CHECK(c.Command({"GETRANGE", "k", "0", "3"}) == Reply::Bulk("This"));
    CHECK(c.Command({"GETRANGE", "k", "-3", "-1"}) == Reply::Bulk("ing"));
    CHECK(c.Command({"GETRANGE", "k", "0", "-1"}) == Reply::Bulk("This is a string"));
    CHECK(c.Command({"GETRANGE", "k", "10", "100"}) == Reply::Bulk("string"));
    CHECK(c.Command({"GETRANGE", "k", "-100", "3"}) == Reply::Bulk("This"));
    CHECK(c.Command({"GETRANGE", "k", "5", "2"}) == Reply::Bulk(""));
    CHECK(c.Command({"GETRANGE", "k", "100", "200"}) == Reply::Bulk(""));
    CHECK(c.Command({"GETRANGE", "missing", "0", "-1"}) == Reply::Bulk(""));
    CHECK(c.Command({"GETRANGE", "k", "a", "1"}) == kNotInt);
  }
  SUBCASE("SETRANGE") {
    CHECK(c.Command({"SET", "k", "Hello World"}) == kOk);
    CHECK(c.Command({"SETRANGE", "k", "6", "Redis"}) == Reply::Int(11));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("Hello Redis"));
    CHECK(c.Command({"SETRANGE", "k", "11", "!"}) == Reply::Int(12));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk("Hello Redis!"));
    // Writing past the end pads with zero bytes.
    CHECK(c.Command({"SETRANGE", "pad", "6", "Redis"}) == Reply::Int(11));
    CHECK(c.Command({"GET", "pad"}) == Reply::Bulk(std::string("\0\0\0\0\0\0Redis", 11)));
    CHECK(c.Command({"SETRANGE", "k", "14", "x"}) == Reply::Int(15));
    CHECK(c.Command({"GET", "k"}) == Reply::Bulk(std::string("Hello Redis!\0\0x", 15)));
    // An empty value on a missing key creates nothing.
    CHECK(c.Command({"SETRANGE", "none", "5", ""}) == Reply::Int(0));
    CHECK(c.Command({"EXISTS", "none"}) == Reply::Int(0));
    CHECK(c.Command({"SETRANGE", "k", "-1", "v"}) == Reply::Error("ERR offset is out of range"));
    CHECK(c.Command({"SETRANGE", "k", "536870912", "x"}) ==
          Reply::Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    CHECK(c.Command({"SETRANGE", "k", "x", "v"}) == kNotInt);
  }
}

TEST_CASE_FIXTURE(ServerFixture, "binary-safe and big values") {
  auto& c = client;
  SUBCASE("embedded NUL and CRLF, in keys and values") {
    std::string key("k\0\r\n", 4);
    std::string value("a\0b\r\nc\r\n\0", 9);
    CHECK(c.Command({key, value}).IsError());  // an unknown command name, not a crash
    CHECK(c.Command({"SET", key, value}) == kOk);
    CHECK(c.Command({"GET", key}) == Reply::Bulk(value));
    CHECK(c.Command({"STRLEN", key}) == Reply::Int(9));
    CHECK(c.Command({"APPEND", key, std::string("\0", 1)}) == Reply::Int(10));
    CHECK(c.Command({"GETRANGE", key, "1", "4"}) == Reply::Bulk(std::string("\0b\r\n", 4)));
    CHECK(c.Command({"EXISTS", "k"}) == Reply::Int(0));
  }
  SUBCASE("1 MB and 16 MB values round-trip") {
    for (std::size_t size : {std::size_t{1} << 20, std::size_t{16} << 20}) {
      CAPTURE(size);
      std::string value = dynakv::itest::RandomBytes(size, size);
      std::string key = "big" + std::to_string(size);
      CHECK(c.Command({"SET", key, value}) == kOk);
      CHECK(c.Command({"STRLEN", key}) == Reply::Int(static_cast<long long>(size)));
      Reply got = c.Command({"GET", key});
      REQUIRE(got.type == Reply::Type::kString);
      CHECK(got.str.size() == size);
      CHECK((got.str == value));
      CHECK(c.Command({"GETRANGE", key, "-4", "-1"}) == Reply::Bulk(value.substr(size - 4)));
    }
    // A highly compressible big value too.
    std::string zeros(8 << 20, 'z');
    CHECK(c.Command({"SET", "zeros", zeros}) == kOk);
    CHECK((c.Command({"GET", "zeros"}).str == zeros));
  }
}
