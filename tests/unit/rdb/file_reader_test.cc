// RdbWriter's files read back through RdbReader fed whole and byte by byte; every cut, a flipped
// checksum byte, an unknown opcode and a newer version are refused at the offset they occur.
#include "rdb/file_reader.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "rdb/file_writer.h"
#include "rdb/primitives.h"
#include "rdb_test_util.h"
#include "types/hash.h"

namespace dynakv::rdb {
namespace {

struct Collected : RdbSink {
  std::vector<std::string> keys;
  std::vector<std::uint64_t> dbs;
  std::vector<std::int64_t> expiries;
  std::vector<std::string> skipped;
  std::vector<std::string> aux;
  bool OnKey(RdbKey& key, std::string*) override {
    keys.push_back(key.key + "=" + (key.value.object ? "object" : key.value.string));
    dbs.push_back(key.db);
    expiries.push_back(key.expire_at_ms);
    return true;
  }
  void OnSkippedKey(std::uint64_t, std::string_view key, std::string_view type) override {
    skipped.push_back(std::string(key) + ":" + std::string(type));
  }
  void OnAux(std::string_view name, std::string_view) override { aux.emplace_back(name); }
};

// A DUMP payload's value (type byte and value), without its footer.
std::string ValueOf(std::string_view payload_hex) {
  const std::string payload = FromHex(payload_hex);
  return payload.substr(0, payload.size() - 10);
}

std::string SampleFile() {
  std::string file;
  RdbWriter writer([&](std::string_view bytes) {
    file.append(bytes);
    return true;
  });
  REQUIRE(writer.Begin("7.0.15", 1700000000, 1000));
  REQUIRE(writer.SelectDb(0, 2, 1));
  std::string s;
  EncodeString("hello", {}, &s);
  REQUIRE(writer.Key("a", s, 0));
  REQUIRE(writer.Key("h", ValueOf(kRedisDumpHash), 4102444800000));
  REQUIRE(writer.SelectDb(3, 1, 0));
  std::string big;
  EncodeString(std::string(1000, 'x'), {}, &big);  // LZF-compressed
  REQUIRE(writer.Key(std::string("b\0in", 4), big, 0));
  REQUIRE(writer.Finish());
  return file;
}

RdbReadError ReadExpectingError(const std::string& file) {
  Collected sink;
  RdbReader reader(types::TypeLimits{}, sink);
  reader.Feed(file);
  CHECK_FALSE(reader.Finish());
  return reader.error();
}

TEST_CASE("a written file reads back whole and fed byte by byte") {
  const std::string file = SampleFile();
  for (int piece : {0, 1, 7}) {
    Collected sink;
    RdbReader reader(types::TypeLimits{}, sink);
    if (piece == 0) {
      CHECK(reader.Feed(file));
    } else {
      for (std::size_t i = 0; i < file.size(); i += piece) {
        CHECK(reader.Feed(std::string_view(file).substr(i, piece)));
      }
    }
    REQUIRE(reader.Finish());
    CHECK(reader.version() == 10);
    CHECK(reader.keys() == 3);
    CHECK(reader.bytes_read() == file.size());
    REQUIRE(sink.keys.size() == 3);
    CHECK(sink.keys[0] == "a=hello");
    CHECK(sink.keys[1] == "h=object");
    CHECK(sink.keys[2] == std::string("b\0in=", 5) + std::string(1000, 'x'));
    CHECK(sink.dbs == std::vector<std::uint64_t>{0, 0, 3});
    CHECK(sink.expiries == std::vector<std::int64_t>{0, 4102444800000, 0});
    CHECK(sink.aux ==
          std::vector<std::string>{"redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"});
  }
}

TEST_CASE("bytes after the checksum are handed back, not read") {
  const std::string file = SampleFile();
  Collected sink;
  RdbReader reader(types::TypeLimits{}, sink);
  CHECK(reader.Feed(file + "*1\r\n"));
  CHECK(reader.Feed("$4\r\nPING\r\n"));
  CHECK(reader.done());
  CHECK(reader.TakeBytesAfterEof() == "*1\r\n$4\r\nPING\r\n");
}

TEST_CASE("a file cut anywhere is refused, never taken as complete") {
  const std::string file = SampleFile();
  for (std::size_t cut = 0; cut < file.size(); ++cut) {
    const RdbReadError error = ReadExpectingError(file.substr(0, cut));
    CHECK(error.offset <= cut);
    CHECK_FALSE(error.reason.empty());
  }
  CHECK(ReadExpectingError(file.substr(0, file.size() - 3)).reason ==
        "unexpected end of file in the checksum");
}

TEST_CASE("a flipped checksum byte, an unknown opcode and a newer version are refused") {
  const std::string file = SampleFile();
  std::string flipped = file;
  flipped.back() ^= 1;
  const RdbReadError sum = ReadExpectingError(flipped);
  CHECK(sum.offset == file.size() - 9);
  CHECK(sum.reason.find("wrong RDB checksum") == 0);

  // An unknown type byte where the first key's type should be.
  const std::size_t first_key = file.find(std::string("\xfb\x02\x01", 3)) + 3;
  std::string opcode = file;
  opcode[first_key] = static_cast<char>(0xF0);
  const RdbReadError op = ReadExpectingError(opcode);
  CHECK(op.offset == first_key);
  CHECK(op.reason == "unknown opcode or object type 240");

  std::string v12 = file;
  v12.replace(5, 4, "0012");
  const RdbReadError version = ReadExpectingError(v12);
  CHECK(version.offset == 0);
  CHECK(version.reason == "unsupported RDB version 12 (this server reads versions 1 to 10)");

  CHECK(ReadExpectingError("NOTANRDBFILE").reason == "wrong signature: not an RDB file");
}

TEST_CASE("stream and module keys are skipped and counted") {
  // A stream (type 15) with one listpack node, no groups; then a string key.
  std::string body = "REDIS0009";
  body.push_back(static_cast<char>(15));
  PutString(&body, "st");
  PutLength(&body, 1);
  PutString(&body, std::string(16, '\0'));
  PutString(&body, "listpack-bytes");
  PutLength(&body, 1);  // length
  PutLength(&body, 5);  // last id ms
  PutLength(&body, 0);  // last id seq
  PutLength(&body, 0);  // groups
  // A module value (type 7): module id, then a UINT and a STRING opcode, then EOF.
  body.push_back(static_cast<char>(7));
  PutString(&body, "mod");
  PutLength(&body, 12345);
  PutLength(&body, 2);
  PutLength(&body, 7);
  PutLength(&body, 5);
  PutString(&body, "data");
  PutLength(&body, 0);
  std::string s;
  EncodeString("v", {}, &s);
  body.push_back(s[0]);
  PutString(&body, "k");
  body.append(s.substr(1));
  body.push_back(static_cast<char>(0xFF));
  body.append(8, '\0');  // checksum disabled
  Collected sink;
  RdbReader reader(types::TypeLimits{}, sink);
  CHECK(reader.Feed(body));
  REQUIRE(reader.Finish());
  CHECK(reader.keys() == 1);
  CHECK(reader.skipped_keys() == 2);
  CHECK(sink.skipped == std::vector<std::string>{"st:stream", "mod:module"});
}

}  // namespace
}  // namespace dynakv::rdb
