#include "cluster/bus_protocol.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace dynakv::cluster::bus {
namespace {

// Feeds `bytes` to `reader` in pieces of the given sizes (cycled), collecting frames as copies.
struct Collected {
  std::vector<FrameType> types;
  std::vector<std::uint64_t> ids;
  std::vector<std::string> payloads;
  bool error = false;
};

Collected Feed(FrameReader& reader, const std::string& bytes,
               const std::vector<std::size_t>& cuts) {
  Collected out;
  std::size_t pos = 0;
  std::size_t cut = 0;
  while (pos < bytes.size() && !out.error) {
    const std::size_t want = std::min(bytes.size() - pos, cuts[cut++ % cuts.size()]);
    std::size_t available = 0;
    char* area = reader.WritableArea(want, &available);
    REQUIRE(available >= want);
    std::copy(bytes.data() + pos, bytes.data() + pos + want, area);
    reader.Commit(want);
    pos += want;
    Frame frame;
    for (;;) {
      const FrameReader::Status status = reader.Next(&frame);
      if (status == FrameReader::Status::kNeedMore) break;
      if (status == FrameReader::Status::kError) {
        out.error = true;
        break;
      }
      out.types.push_back(frame.type);
      out.ids.push_back(frame.id);
      out.payloads.emplace_back(frame.payload);
    }
  }
  return out;
}

std::string SampleStream() {
  std::string stream;
  stream += EncodeFrame(FrameType::kHello, 0, EncodeHello("node-a"));
  stream += EncodeFrame(FrameType::kPing, 1, "");
  stream += EncodeFrame(FrameType::kReplicaGet, 2, EncodeReplicaGet(std::string("k\0\xff", 3)));
  stream += EncodeFrame(FrameType::kReplicaPut, 3, EncodeReplicaPut("key", std::string(300, 'x')));
  stream += EncodeFrame(FrameType::kReply, 0xfedcba9876543210ull, EncodeReply("set-bytes"));
  stream += EncodeFrame(FrameType::kReply, 5, EncodeReply());
  stream += EncodeFrame(FrameType::kError, 6, EncodeError("boom"));
  return stream;
}

TEST_CASE("bus protocol: payloads round-trip") {
  // Decoded views point into the payload, so each payload is kept in a variable.
  std::uint32_t version = 0;
  std::string_view text;
  const std::string hello = EncodeHello("node-a");
  REQUIRE(DecodeHello(hello, &version, &text));
  CHECK(version == kProtocolVersion);
  CHECK(text == "node-a");

  const std::string binary_key("k\0\xff\r\n", 5);
  const std::string get = EncodeReplicaGet(binary_key);
  REQUIRE(DecodeReplicaGet(get, &text));
  CHECK(text == binary_key);

  std::string_view set;
  const std::string put = EncodeReplicaPut(binary_key, "encoded set");
  REQUIRE(DecodeReplicaPut(put, &text, &set));
  CHECK(text == binary_key);
  CHECK(set == "encoded set");

  ReplyStatus status;
  const std::string ack = EncodeReply();
  REQUIRE(DecodeReply(ack, &status, &set));
  CHECK(status == ReplyStatus::kNone);
  CHECK(set.empty());
  const std::string value_reply = EncodeReply("abc");
  REQUIRE(DecodeReply(value_reply, &status, &set));
  CHECK(status == ReplyStatus::kValue);
  CHECK(set == "abc");

  const std::string error = EncodeError("bad things");
  REQUIRE(DecodeError(error, &text));
  CHECK(text == "bad things");
}

TEST_CASE("bus protocol: payload decoders reject truncation, trailing bytes and unknown status") {
  const std::vector<std::string> payloads = {EncodeHello("node"), EncodeReplicaGet("key"),
                                             EncodeReplicaPut("key", "value"), EncodeReply("v"),
                                             EncodeError("msg")};
  auto decodes = [](std::size_t which, std::string_view p) {
    std::uint32_t version;
    std::string_view a, b;
    ReplyStatus status;
    switch (which) {
      case 0:
        return DecodeHello(p, &version, &a);
      case 1:
        return DecodeReplicaGet(p, &a);
      case 2:
        return DecodeReplicaPut(p, &a, &b);
      case 3:
        return DecodeReply(p, &status, &a);
      default:
        return DecodeError(p, &a);
    }
  };
  for (std::size_t which = 0; which < payloads.size(); ++which) {
    const std::string& payload = payloads[which];
    CHECK(decodes(which, payload));
    for (std::size_t len = 0; len < payload.size(); ++len) {
      CHECK_FALSE(decodes(which, std::string_view(payload).substr(0, len)));
    }
    CHECK_FALSE(decodes(which, payload + "x"));
  }
  ReplyStatus status;
  std::string_view set;
  CHECK_FALSE(DecodeReply(std::string(1, '\x02'), &status, &set));
  CHECK_FALSE(DecodeReply(EncodeReply() + "x", &status, &set));
}

TEST_CASE("bus protocol: a stream splits into the same frames however it is cut") {
  const std::string stream = SampleStream();
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{13},
                            std::size_t{100}, stream.size()}) {
    FrameReader reader;
    const Collected got = Feed(reader, stream, {piece});
    CHECK_FALSE(got.error);
    REQUIRE(got.types.size() == 7);
    CHECK(got.types[0] == FrameType::kHello);
    CHECK(got.types[3] == FrameType::kReplicaPut);
    CHECK(got.ids[4] == 0xfedcba9876543210ull);
    std::string_view key, value;
    REQUIRE(DecodeReplicaPut(got.payloads[3], &key, &value));
    CHECK(value == std::string(300, 'x'));
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("bus protocol: oversized, undersized and unknown frames are refused at the header") {
  SUBCASE("length above the limit, before the body arrives") {
    FrameReader reader(1024);
    std::string header = EncodeFrameHeader(FrameType::kPing, 1, 2000);
    const Collected got = Feed(reader, header, {header.size()});
    CHECK(got.error);
    CHECK(reader.error().find("exceeds the limit") != std::string::npos);
  }
  SUBCASE("the default limit allows 512 MB values but not 4 GB claims") {
    FrameReader reader;
    std::string header("\xff\xff\xff\xff\x02", 5);
    CHECK(Feed(reader, header, {5}).error);
    CHECK(kMaxFrameLength > (std::size_t{512} << 20));
  }
  SUBCASE("length shorter than type + id") {
    FrameReader reader;
    CHECK(Feed(reader, std::string("\x03\0\0\0\x02\0\0", 7), {7}).error);
  }
  SUBCASE("unknown type, known as soon as its byte arrives") {
    FrameReader reader;
    CHECK(Feed(reader, std::string("\x20\0\0\0\x63", 5), {5}).error);
    CHECK(reader.error() == "unknown frame type 99");
    // An error is final.
    Frame frame;
    CHECK(reader.Next(&frame) == FrameReader::Status::kError);
  }
  SUBCASE("a redis client on the bus port") {
    FrameReader reader;
    CHECK(Feed(reader, "PING\r\n", {6}).error);
  }
}

TEST_CASE("bus protocol: random bytes never crash the reader (seeded fuzz)") {
  std::mt19937_64 rng(20240611);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Small claimed lengths make some garbage parse as frames, which exercises the decoders.
    if (round % 2 == 0 && bytes.size() >= 4) {
      bytes[0] = static_cast<char>(9 + rng() % 40);
      bytes[1] = bytes[2] = bytes[3] = 0;
    }
    FrameReader reader(4096);
    const Collected got = Feed(reader, bytes, {1 + rng() % 17, 1 + rng() % 5});
    for (const std::string& payload : got.payloads) {
      CHECK(payload.size() <= 4096);
      std::uint32_t version;
      std::string_view a, b;
      ReplyStatus status;
      (void)DecodeHello(payload, &version, &a);
      (void)DecodeReplicaPut(payload, &a, &b);
      (void)DecodeReply(payload, &status, &a);
    }
  }
}

TEST_CASE("bus protocol: mutated valid streams yield frames or an error, nothing else") {
  const std::string stream = SampleStream();
  std::mt19937_64 rng(7);
  int errors = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string mutated = stream;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i)
      mutated[rng() % mutated.size()] ^= static_cast<char>(1 + rng() % 255);
    FrameReader reader(1 << 16);
    const Collected got = Feed(reader, mutated, {1 + rng() % 64});
    errors += got.error ? 1 : 0;
    CHECK(got.types.size() <= 7 + mutated.size() / (kLengthBytes + kFrameOverhead));
  }
  CHECK(errors > 0);  // the reader does notice
}

TEST_CASE("bus protocol: FLUSH_ALL and KEY_PAGE payloads round-trip and refuse garbage") {
  std::int64_t timestamp = 0;
  REQUIRE(DecodeFlushAll(EncodeFlushAll(1765000000123456), &timestamp));
  CHECK(timestamp == 1765000000123456);
  CHECK_FALSE(DecodeFlushAll(EncodeFlushAll(5) + "x", &timestamp));
  CHECK_FALSE(DecodeFlushAll("", &timestamp));

  KeyPageRequest request;
  REQUIRE(
      DecodeKeyPageRequest(EncodeKeyPageRequest({0xFFFFFFFFFFFFFF00ULL, 1000, true}), &request));
  CHECK(request.cursor == 0xFFFFFFFFFFFFFF00ULL);
  CHECK(request.count == 1000);
  CHECK(request.random);
  std::string bad = EncodeKeyPageRequest({1, 2, false});
  bad.back() = 2;  // neither a scan nor a random draw
  CHECK_FALSE(DecodeKeyPageRequest(bad, &request));
  CHECK_FALSE(DecodeKeyPageRequest(EncodeKeyPageRequest({1, 2, false}) + "x", &request));

  KeyPage page{42, {"a", "", std::string(300, 'k')}};
  KeyPage decoded;
  const std::string encoded = EncodeKeyPage(page);
  REQUIRE(DecodeKeyPage(encoded, &decoded));
  CHECK(decoded.next_cursor == 42);
  CHECK(decoded.keys == page.keys);
  CHECK_FALSE(DecodeKeyPage(encoded.substr(0, encoded.size() - 1), &decoded));
  CHECK_FALSE(DecodeKeyPage(encoded + "x", &decoded));
  CHECK(std::string(FrameTypeName(FrameType::kFlushAll)) == "FLUSH_ALL");
  CHECK(std::string(FrameTypeName(FrameType::kKeyPage)) == "KEY_PAGE");
  CHECK(IsKnownFrameType(static_cast<std::uint8_t>(FrameType::kKeyPage)));
}

}  // namespace
}  // namespace dynakv::cluster::bus
