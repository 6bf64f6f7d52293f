#include "value_codec.h"

#include <doctest/doctest.h>

#include <string>

#include "test_util.h"

namespace dynakv::storage {

TEST_CASE("value codec: compressible data round-trips and shrinks") {
  const std::string raw(10000, 'a');
  std::string packed;
  REQUIRE(CompressValue(raw, 64, &packed));
  CHECK(packed.size() < raw.size() / 10);
  std::string back(raw.size(), '\0');
  REQUIRE(DecompressValue(packed, back.data(), back.size()));
  CHECK(back == raw);
}

TEST_CASE("value codec: incompressible data is kept raw") {
  const std::string raw = testing::RandomBytes(4096, 7);
  std::string packed;
  CHECK_FALSE(CompressValue(raw, 64, &packed));
}

TEST_CASE("value codec: values below the threshold are not compressed") {
  const std::string raw(63, 'b');
  std::string packed;
  CHECK_FALSE(CompressValue(raw, 64, &packed));
  CHECK(CompressValue(raw + "b", 64, &packed));
  CHECK_FALSE(CompressValue("", 0, &packed));
}

TEST_CASE("value codec: corrupt or mis-sized input is rejected") {
  const std::string raw(1000, 'x');
  std::string packed;
  REQUIRE(CompressValue(raw, 1, &packed));
  std::string back(raw.size(), '\0');
  CHECK_FALSE(DecompressValue(packed, back.data(), raw.size() - 1));
  CHECK_FALSE(DecompressValue(std::string(20, '\xff'), back.data(), back.size()));
}

}  // namespace dynakv::storage
