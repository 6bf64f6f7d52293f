#include "value_codec.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "test_util.h"

namespace dynakv::storage {

namespace {

// Compresses with a fresh compressor; nullopt when the value stays raw.
std::optional<std::string> Compress(std::string_view raw, std::size_t threshold) {
  ValueCompressor compressor;
  std::string_view packed;
  if (!compressor.Compress(raw, threshold, &packed)) return std::nullopt;
  return std::string(packed);
}

std::string RoundTrip(const std::string& packed, std::size_t raw_size) {
  std::string back(raw_size, '\0');
  REQUIRE(DecompressValue(packed, back.data(), back.size()));
  return back;
}

}  // namespace

TEST_CASE("value codec: compressible data round-trips and shrinks") {
  const std::string raw(10000, 'a');
  auto packed = Compress(raw, 64);
  REQUIRE(packed);
  CHECK(packed->size() < raw.size() / 10);
  CHECK(RoundTrip(*packed, raw.size()) == raw);
}

TEST_CASE("value codec: incompressible data is kept raw") {
  CHECK_FALSE(Compress(testing::RandomBytes(4096, 7), 64));
  CHECK_FALSE(Compress(testing::RandomBytes(16384, 7), 64));  // turned away by the probe
}

TEST_CASE("value codec: the probe of large values samples across the whole value") {
  // Random where a prefix-only probe would look, compressible elsewhere: still compressed.
  std::string half = testing::RandomBytes(8192, 3) + std::string(8192, 'z');
  auto packed = Compress(half, 64);
  REQUIRE(packed);
  CHECK(packed->size() < 9000);
  CHECK(RoundTrip(*packed, half.size()) == half);
  // Text-like data of every size around the probe's threshold compresses and round-trips.
  std::string text;
  constexpr std::size_t kMin = ValueCompressor::kProbeMinSize;
  while (text.size() < 3 * kMin) text += "key:" + std::to_string(text.size()) + ";";
  for (std::size_t n : {kMin - 1, kMin, kMin + 1, 3 * kMin}) {
    CAPTURE(n);
    const std::string raw = text.substr(0, n);
    auto p = Compress(raw, 64);
    REQUIRE(p);
    CHECK(p->size() < raw.size() * 3 / 4);
    CHECK(RoundTrip(*p, raw.size()) == raw);
  }
}

TEST_CASE("value codec: a reused compressor gives what a fresh one gives") {
  // Its state carries over between calls; the blocks must not depend on earlier ones.
  ValueCompressor reused;
  for (int i = 0; i < 200; ++i) {
    CAPTURE(i);
    std::string raw = std::string(static_cast<std::size_t>(100 + i * 97), 'a' + i % 26) +
                      testing::RandomBytes(static_cast<std::size_t>(i * 13), i);
    if (i % 3 == 0) raw = testing::RandomBytes(static_cast<std::size_t>(i * 150), i);
    std::string_view packed;
    const bool compressed = reused.Compress(raw, 64, &packed);
    const auto fresh = Compress(raw, 64);
    REQUIRE(compressed == fresh.has_value());
    if (!compressed) continue;
    CHECK(std::string(packed) == *fresh);
    CHECK(RoundTrip(std::string(packed), raw.size()) == raw);
  }
}

TEST_CASE("value codec: values below the threshold are not compressed") {
  const std::string raw(63, 'b');
  CHECK_FALSE(Compress(raw, 64));
  CHECK(Compress(raw + "b", 64));
  CHECK_FALSE(Compress("", 0));
}

TEST_CASE("value codec: after a run of short values LZ4 cannot shrink, only some are tried") {
  ValueCompressor compressor;
  std::string_view packed;
  const std::string compressible(200, 'c');
  CHECK(compressor.Compress(compressible, 64, &packed));
  for (std::uint32_t i = 0; i < ValueCompressor::kRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(150, i), 64, &packed));
  }
  // The next kRetryStride - 1 values are stored raw untried, compressible or not; then one is
  // tried, and once one shrinks every value is tried again.
  for (std::uint32_t i = 1; i < ValueCompressor::kRetryStride; ++i) {
    CHECK_FALSE(compressor.Compress(compressible, 64, &packed));
  }
  REQUIRE(compressor.Compress(compressible, 64, &packed));
  CHECK(RoundTrip(std::string(packed), compressible.size()) == compressible);
  CHECK(compressor.Compress(compressible, 64, &packed));
  // A shorter run than kRefusedRun changes nothing.
  for (std::uint32_t i = 0; i + 1 < ValueCompressor::kRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(150, i), 64, &packed));
  }
  CHECK(compressor.Compress(compressible, 64, &packed));
  // Values the sample probes (kProbeMinSize and up) are not part of it.
  for (std::uint32_t i = 0; i < 2 * ValueCompressor::kRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(150, i), 64, &packed));
  }
  CHECK(compressor.Compress(std::string(ValueCompressor::kProbeMinSize, 'p'), 64, &packed));
}

TEST_CASE(
    "value codec: after a run of large values whose sample did not shrink, some are sampled") {
  ValueCompressor compressor;
  std::string_view packed;
  constexpr std::size_t kLarge = 2 * ValueCompressor::kProbeMinSize;
  const std::string compressible(kLarge, 'c');
  for (std::uint32_t i = 0; i < ValueCompressor::kLargeRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(kLarge, i), 64, &packed));
  }
  // The next kRetryStride - 1 large values are stored raw unsampled, compressible or not (short
  // ones are still tried); then one is sampled, and once one shrinks every value is again.
  for (std::uint32_t i = 1; i < ValueCompressor::kRetryStride; ++i) {
    CHECK_FALSE(compressor.Compress(compressible, 64, &packed));
    CHECK(compressor.Compress(std::string(200, 's'), 64, &packed));
  }
  REQUIRE(compressor.Compress(compressible, 64, &packed));
  CHECK(RoundTrip(std::string(packed), compressible.size()) == compressible);
  CHECK(compressor.Compress(compressible, 64, &packed));
  // A shorter run than kLargeRefusedRun changes nothing.
  for (std::uint32_t i = 0; i + 1 < ValueCompressor::kLargeRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(kLarge, i), 64, &packed));
  }
  CHECK(compressor.Compress(compressible, 64, &packed));
  // A refused sample after a run keeps the skipping going: raw again for kRetryStride - 1.
  for (std::uint32_t i = 0; i < ValueCompressor::kLargeRefusedRun; ++i) {
    CHECK_FALSE(compressor.Compress(testing::RandomBytes(kLarge, i), 64, &packed));
  }
  for (std::uint32_t i = 1; i < ValueCompressor::kRetryStride; ++i) {
    CHECK_FALSE(compressor.Compress(compressible, 64, &packed));
  }
  CHECK_FALSE(compressor.Compress(testing::RandomBytes(kLarge, 99), 64, &packed));
  CHECK_FALSE(compressor.Compress(compressible, 64, &packed));
}

TEST_CASE("value codec: corrupt or mis-sized input is rejected") {
  const std::string raw(1000, 'x');
  const std::string packed = Compress(raw, 1).value();
  std::string back(raw.size(), '\0');
  CHECK_FALSE(DecompressValue(packed, back.data(), raw.size() - 1));
  CHECK_FALSE(DecompressValue(std::string(20, '\xff'), back.data(), back.size()));
}

}  // namespace dynakv::storage
