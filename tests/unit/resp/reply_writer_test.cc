// ReplyWriter output, byte for byte, in RESP2 and RESP3.

#include "resp/reply_writer.h"

#include <doctest/doctest.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::resp {
namespace {

using namespace std::string_literals;

std::string Write(int protocol, const std::function<void(ReplyWriter&)>& emit) {
  std::string out = "prefix|";  // replies are appended, never overwrite
  ReplyWriter writer(&out, protocol);
  emit(writer);
  REQUIRE(out.rfind("prefix|", 0) == 0);
  return out.substr(7);
}

void CheckBoth(const std::function<void(ReplyWriter&)>& emit, std::string_view resp2,
               std::string_view resp3) {
  CHECK(Write(2, emit) == resp2);
  CHECK(Write(3, emit) == resp3);
}

void CheckSame(const std::function<void(ReplyWriter&)>& emit, std::string_view both) {
  CheckBoth(emit, both, both);
}

TEST_CASE("protocol is chosen per writer and can change") {
  std::string out;
  ReplyWriter writer(&out);
  CHECK(writer.protocol() == 2);
  CHECK(writer.buffer() == &out);
  writer.Null();
  writer.set_protocol(3);
  CHECK(writer.protocol() == 3);
  writer.Null();
  CHECK(out == "$-1\r\n_\r\n");
}

TEST_CASE("simple strings and errors") {
  CheckSame([](ReplyWriter& w) { w.Simple("PONG"); }, "+PONG\r\n");
  CheckSame([](ReplyWriter& w) { w.Ok(); }, "+OK\r\n");
  CheckSame([](ReplyWriter& w) { w.Error("ERR syntax error"); }, "-ERR syntax error\r\n");
  CheckSame([](ReplyWriter& w) { w.Error("-WRONGTYPE bad"); }, "-WRONGTYPE bad\r\n");
  // CR and LF would end the error early and desynchronise the client.
  CheckSame([](ReplyWriter& w) { w.Error("ERR unknown command 'a\r\nb\n'"); },
            "-ERR unknown command 'a  b '\r\n");
}

TEST_CASE("integers") {
  CheckSame([](ReplyWriter& w) { w.Integer(0); }, ":0\r\n");
  CheckSame([](ReplyWriter& w) { w.Integer(-1); }, ":-1\r\n");
  CheckSame([](ReplyWriter& w) { w.Integer(1234567); }, ":1234567\r\n");
  CheckSame([](ReplyWriter& w) { w.Integer(LLONG_MAX); }, ":9223372036854775807\r\n");
  CheckSame([](ReplyWriter& w) { w.Integer(LLONG_MIN); }, ":-9223372036854775808\r\n");
}

TEST_CASE("bulk strings") {
  CheckSame([](ReplyWriter& w) { w.Bulk("hello"); }, "$5\r\nhello\r\n");
  CheckSame([](ReplyWriter& w) { w.Bulk(""); }, "$0\r\n\r\n");
  CheckSame([](ReplyWriter& w) { w.Bulk("a\r\n\0b"s); }, "$5\r\na\r\n\0b\r\n"s);
  const std::string big(100000, 'z');
  CheckSame([&](ReplyWriter& w) { w.Bulk(big); }, "$100000\r\n" + big + "\r\n");
}

TEST_CASE("bulk slot is filled in place") {
  std::string out = "+OK\r\n";
  ReplyWriter writer(&out);
  char* slot = writer.BulkSlot(5);
  std::memcpy(slot, "value", 5);
  CHECK(out == "+OK\r\n$5\r\nvalue\r\n");
  writer.BulkSlot(0);
  CHECK(out == "+OK\r\n$5\r\nvalue\r\n$0\r\n\r\n");
}

TEST_CASE("past its limit the writer drops replies instead of growing the buffer") {
  std::string out;
  ReplyWriter writer(&out);
  CHECK(writer.room() == SIZE_MAX);
  writer.set_limit(21);
  CHECK(writer.room() == 21);
  writer.ArrayHeader(3);
  writer.Bulk("0123456789");  // 4 + 17 bytes: at the limit, not past it
  CHECK_FALSE(writer.over_limit());
  CHECK(writer.room() == 0);
  writer.Bulk("0123456789");  // passes it: the value is still written whole
  CHECK(writer.over_limit());
  const std::string kept = out;
  CHECK(kept == "*3\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n");
  writer.Bulk("dropped");
  CHECK(writer.BulkSlot(1000) == nullptr);
  writer.Ok();
  writer.Error("ERR dropped");
  writer.Integer(1);
  writer.Null();
  writer.ArrayHeader(1);
  writer.MapHeader(1);
  writer.SetHeader(1);
  writer.Double(1.5);
  writer.Bool(true);
  writer.Verbatim("dropped");
  writer.Simple("dropped");
  writer.NullArray();
  CHECK(out == kept);
  // The buffer drained (the client wrote it): replies are appended again.
  out.clear();
  CHECK_FALSE(writer.over_limit());
  writer.Ok();
  CHECK(out == "+OK\r\n");
  writer.set_limit(0);
  writer.Bulk(std::string(100, 'x'));
  CHECK_FALSE(writer.over_limit());
}

TEST_CASE("nulls") {
  CheckBoth([](ReplyWriter& w) { w.Null(); }, "$-1\r\n", "_\r\n");
  CheckBoth([](ReplyWriter& w) { w.NullArray(); }, "*-1\r\n", "_\r\n");
}

TEST_CASE("aggregates") {
  CheckSame([](ReplyWriter& w) { w.ArrayHeader(0); }, "*0\r\n");
  CheckSame(
      [](ReplyWriter& w) {
        w.ArrayHeader(2);
        w.Bulk("a");
        w.Integer(1);
      },
      "*2\r\n$1\r\na\r\n:1\r\n");
  CheckBoth(
      [](ReplyWriter& w) {
        w.MapHeader(2);
        w.Bulk("k1");
        w.Bulk("v1");
        w.Bulk("k2");
        w.Null();
      },
      "*4\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n$-1\r\n",
      "%2\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n_\r\n");
  CheckBoth([](ReplyWriter& w) { w.MapHeader(0); }, "*0\r\n", "%0\r\n");
  CheckBoth([](ReplyWriter& w) { w.SetHeader(3); }, "*3\r\n", "~3\r\n");
  CheckBoth([](ReplyWriter& w) { w.SetHeader(0); }, "*0\r\n", "~0\r\n");
}

TEST_CASE("booleans") {
  CheckBoth([](ReplyWriter& w) { w.Bool(true); }, ":1\r\n", "#t\r\n");
  CheckBoth([](ReplyWriter& w) { w.Bool(false); }, ":0\r\n", "#f\r\n");
}

void CheckDouble(double value, std::string_view text) {
  CAPTURE(text);
  const std::string resp2 = "$" + std::to_string(text.size()) + "\r\n" + std::string(text) + "\r\n";
  const std::string resp3 = "," + std::string(text) + "\r\n";
  CheckBoth([&](ReplyWriter& w) { w.Double(value); }, resp2, resp3);
}

TEST_CASE("doubles are formatted like Redis's addReplyDouble") {
  CheckDouble(0, "0");
  CheckDouble(-0.0, "-0");
  CheckDouble(3, "3");
  CheckDouble(-42, "-42");
  CheckDouble(1.5, "1.5");
  CheckDouble(0.1, "0.10000000000000001");
  CheckDouble(-2.5e-10, "-2.5000000000000002e-10");
  CheckDouble(9007199254740991.0, "9007199254740991");  // 2^53 - 1, integer fast path
  CheckDouble(9007199254740992.0, "9007199254740992");  // 2^53, snprintf path
  CheckDouble(1e16, "10000000000000000");
  CheckDouble(1e17, "1e+17");
  CheckDouble(1e300, "1.0000000000000001e+300");
  CheckDouble(std::numeric_limits<double>::infinity(), "inf");
  CheckDouble(-std::numeric_limits<double>::infinity(), "-inf");
  CheckDouble(std::numeric_limits<double>::quiet_NaN(), "nan");
  CheckDouble(-std::numeric_limits<double>::quiet_NaN(), "nan");
}

TEST_CASE("doubles match %.17g across magnitudes") {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 5000; ++i) {
    double value = std::ldexp(mantissa(rng), exponent(rng));
    if (i % 3 == 0) value = std::round(value * 1000);  // integral values take the fast path
    char expected[64];
    std::snprintf(expected, sizeof(expected), "%.17g", value);
    const std::string got = Write(3, [&](ReplyWriter& w) { w.Double(value); });
    CHECK(got == "," + std::string(expected) + "\r\n");
  }
}

TEST_CASE("verbatim strings") {
  CheckBoth([](ReplyWriter& w) { w.Verbatim("# Server\r\nredis_version:7.0.15\r\n"); },
            "$32\r\n# Server\r\nredis_version:7.0.15\r\n\r\n",
            "=36\r\ntxt:# Server\r\nredis_version:7.0.15\r\n\r\n");
  CheckBoth([](ReplyWriter& w) { w.Verbatim("", "mkd"); }, "$0\r\n\r\n", "=4\r\nmkd:\r\n");
  // The format is exactly three characters: padded with spaces, or cut.
  CheckBoth([](ReplyWriter& w) { w.Verbatim("x", "md"); }, "$1\r\nx\r\n", "=5\r\nmd :x\r\n");
  CheckBoth([](ReplyWriter& w) { w.Verbatim("x", "markdown"); }, "$1\r\nx\r\n", "=5\r\nmar:x\r\n");
}

TEST_CASE("commands are encoded as arrays of bulk strings") {
  CHECK(EncodeCommand({}) == "*0\r\n");
  CHECK(EncodeCommand({"PING"}) == "*1\r\n$4\r\nPING\r\n");
  CHECK(EncodeCommand({"SET", "k", ""}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  CHECK(EncodeCommand({"SET", "k", "a\r\n\0"s}) ==
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\n\0\r\n"s);
}

}  // namespace
}  // namespace dynakv::resp

namespace dynakv::resp {
namespace {

// What the owner of a writer with shared chunks sends: the buffer with the chunks put in.
std::string Interleave(const std::string& out, const SharedChunks& chunks) {
  std::string whole;
  std::size_t from = 0;
  for (const SharedChunk& chunk : chunks.list) {
    whole.append(out, from, chunk.at - from);
    whole.append(chunk.bytes);
    from = chunk.at;
  }
  return whole + out.substr(from);
}

}  // namespace

TEST_CASE("reply writer: BulkShared references large payloads, byte-identical to Bulk") {
  const auto big = std::make_shared<const std::string>(5000, 'v');
  const auto other = std::make_shared<const std::string>("second");
  std::string copied;
  ReplyWriter plain(&copied);
  CHECK_FALSE(plain.shares());
  plain.ArrayHeader(3);
  plain.BulkShared(*big, big);  // no chunks: copied
  plain.Integer(7);
  plain.BulkShared(*other, other);
  CHECK(big.use_count() == 1);

  std::string out;
  SharedChunks chunks;
  ReplyWriter writer(&out);
  writer.set_shared(&chunks);
  CHECK(writer.shares());
  writer.ArrayHeader(3);
  writer.BulkShared(*big, big);
  writer.Integer(7);
  writer.BulkShared(*other, other);
  CHECK(chunks.list.size() == 2);
  CHECK(chunks.bytes == 5006);
  CHECK(big.use_count() == 2);
  CHECK(out.size() + chunks.bytes == copied.size());
  CHECK(writer.size() == copied.size());
  CHECK(Interleave(out, chunks) == copied);

  SUBCASE("Truncate drops the chunks past the cut") {
    const std::size_t cut = chunks.list[1].at - 3;  // inside "$6\r\n" of the second bulk
    writer.Truncate(cut);
    CHECK(chunks.list.size() == 1);
    CHECK(chunks.bytes == 5000);
    CHECK(other.use_count() == 1);
    CHECK(Interleave(out, chunks) == copied.substr(0, cut + 5000));
  }
  SUBCASE("the output limit counts chunk bytes") {
    writer.set_limit(1000);
    CHECK(writer.over_limit());
    CHECK(writer.room() == 0);
    writer.BulkShared(*big, big);  // dropped
    CHECK(chunks.list.size() == 2);
  }
  chunks.clear();
  CHECK(big.use_count() == 1);
}

}  // namespace dynakv::resp
