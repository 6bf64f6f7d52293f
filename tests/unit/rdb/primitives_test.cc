// CRC-64, LZF and the RDB string forms, checked against values redis-server 7.0 produced.
#include "rdb/primitives.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "rdb/crc64.h"
#include "rdb/dump_payload.h"
#include "rdb/lzf.h"
#include "rdb_test_util.h"

namespace dynakv::rdb {

TEST_CASE("Crc64 is Redis's crc64 (Jones polynomial, reflected)") {
  CHECK(Crc64(0, "123456789") == 0xe9c6d914c4b8d9caull);
  CHECK(Crc64(0, "") == 0);
  // Incremental over any split, including the 8-byte fast path and the byte tail.
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over again.";
  const std::uint64_t whole = Crc64(0, text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    CHECK(Crc64(Crc64(0, text.substr(0, cut)), text.substr(cut)) == whole);
  }
}

TEST_CASE("LZF compresses exactly as Redis and round-trips") {
  // The string of redis-server's DUMP (test vector s_big): 300 characters of "abcde".
  const std::string dumped = FromHex(kRedisDumpBigString);
  const std::string body = dumped.substr(1, dumped.size() - 11);  // no type byte, no footer
  std::string_view in = body;
  std::string value;
  REQUIRE(GetString(&in, &value));
  CHECK(in.empty());
  REQUIRE(value.size() == 300);
  CHECK(value.find_first_not_of("abcde") == std::string::npos);
  std::string out;
  PutString(&out, value);
  CHECK(ToHex(out) == ToHex(body));

  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string in;
    const std::size_t n = rng() % 3000;
    const int alphabet = 1 + static_cast<int>(rng() % 255);
    for (std::size_t i = 0; i < n; ++i) in.push_back(static_cast<char>(rng() % alphabet));
    std::string packed;
    const std::size_t len = LzfCompress(in, in.size() + in.size() / 16 + 16, &packed);
    if (in.empty()) {
      CHECK(len == 0);
      continue;
    }
    REQUIRE(len == packed.size());
    std::string back;
    REQUIRE(LzfDecompress(packed, in.size(), &back));
    CHECK(back == in);
    // Any other claimed length is refused, and leaves the output alone.
    std::string wrong = "keep";
    CHECK_FALSE(LzfDecompress(packed, in.size() + 1, &wrong));
    CHECK(wrong == "keep");
  }
}

TEST_CASE("LZF refuses what does not fit in the bound") {
  std::string packed;
  const std::string random_bytes = "q8#kz!1Lm0pX7a?Rt";
  CHECK(LzfCompress(random_bytes, random_bytes.size() - 4, &packed) == 0);
  CHECK(packed.empty());
}

TEST_CASE("LZF decompression of arbitrary bytes never reads or writes out of bounds") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string in;
    const std::size_t n = rng() % 40;
    for (std::size_t i = 0; i < n; ++i) in.push_back(static_cast<char>(rng()));
    std::string out;
    const bool ok = LzfDecompress(in, rng() % 200, &out);
    if (!ok) CHECK(out.empty());
  }
}

TEST_CASE("Lengths in every width") {
  for (std::uint64_t len : {0ull, 63ull, 64ull, 16383ull, 16384ull, 4294967295ull, 4294967296ull,
                            18446744073709551615ull}) {
    std::string out;
    PutLength(&out, len);
    std::string_view in = out;
    std::uint64_t back = 0;
    REQUIRE(GetLength(&in, &back));
    CHECK(back == len);
    CHECK(in.empty());
  }
  std::string out;
  PutLength(&out, 16383);
  CHECK(ToHex(out) == "7fff");
  out.clear();
  PutLength(&out, 70000);
  CHECK(ToHex(out) == "8000011170");
}

TEST_CASE("Strings: integer encodings, LZF, plain, as rdbSaveRawString") {
  auto enc = [](std::string_view s) {
    std::string out;
    PutString(&out, s);
    return ToHex(out);
  };
  CHECK(enc("12345") == "c13930");  // redis-server: DUMP of "12345"
  CHECK(enc("hello") == "0568656c6c6f");
  CHECK(enc("-1") == "c0ff");
  CHECK(enc("-129") == "c17fff");
  CHECK(enc("2147483647") == "c2ffffff7f");
  CHECK(enc("2147483648") == "0a32313437343833363438");  // past 32 bits: plain text
  CHECK(enc("007") == "03303037");                       // not canonical: plain
  CHECK(enc("-0") == "022d30");
  // 54 a's and 30 b's, as redis-server compressed them (test vector s_comp).
  CHECK(enc(std::string(54, 'a') + std::string(30, 'b')) == "c30e4054016161e02b000062e01200016262");
  for (std::string_view s : {"0", "-2147483648", "12345678901", "", "x", "abcdefghijklmnopqrstu"}) {
    std::string out;
    PutString(&out, s);
    std::string_view in = out;
    std::string back;
    REQUIRE(GetString(&in, &back));
    CHECK(back == s);
    CHECK(in.empty());
  }
}

TEST_CASE("Doubles") {
  std::string out;
  PutBinaryDouble(&out, 2.5);
  std::string_view in = out;
  double d = 0;
  REQUIRE(GetBinaryDouble(&in, &d));
  CHECK(d == 2.5);
  const std::string old_form = std::string(
                                   "\x03"
                                   "1.5",
                                   4) +
                               "\xfe" + "\xff";
  in = old_form;
  REQUIRE(GetStringDouble(&in, &d));
  CHECK(d == 1.5);
  REQUIRE(GetStringDouble(&in, &d));
  CHECK(d == std::numeric_limits<double>::infinity());
  REQUIRE(GetStringDouble(&in, &d));
  CHECK(d == -std::numeric_limits<double>::infinity());
}

TEST_CASE("Dump payload framing: version and checksum") {
  const std::string payload = FromHex(kRedisDumpInt);  // redis-server's DUMP of "12345"
  std::string_view value;
  REQUIRE(OpenDumpPayload(payload, &value));
  CHECK(ToHex(value) == "00c13930");
  CHECK(MakeDumpPayload(value) == payload);

  std::string bad = payload;
  bad[1] ^= 1;  // body changed: checksum fails
  CHECK_FALSE(OpenDumpPayload(bad, &value));
  bad = payload;
  bad[payload.size() - 1] ^= 1;  // checksum changed
  CHECK_FALSE(OpenDumpPayload(bad, &value));
  CHECK_FALSE(OpenDumpPayload(payload.substr(0, 9), &value));
  // A newer RDB version is refused even with a right checksum.
  std::string newer(value);
  newer += '\x0b';
  newer += '\x00';
  const std::uint64_t crc = Crc64(0, newer);
  for (int i = 0; i < 8; ++i) newer.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  CHECK_FALSE(OpenDumpPayload(newer, &value));
}

}  // namespace dynakv::rdb
