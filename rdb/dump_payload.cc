#include "rdb/dump_payload.h"

#include "rdb/crc64.h"

namespace dynakv::rdb {

namespace {
constexpr std::size_t kFooterSize = 10;  // version (2) and checksum (8)
}

std::string MakeDumpPayload(std::string_view value) {
  std::string out;
  out.reserve(value.size() + kFooterSize);
  out.append(value);
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>(kRdbVersion >> 8));
  const std::uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

bool OpenDumpPayload(std::string_view payload, std::string_view* value) {
  if (payload.size() < kFooterSize) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  const std::size_t n = payload.size();
  const unsigned version = p[n - 10] | (unsigned{p[n - 9]} << 8);
  if (version > kRdbVersion) return false;
  std::uint64_t crc = 0;
  for (int i = 7; i >= 0; --i) crc = (crc << 8) | p[n - 8 + i];
  if (Crc64(0, payload.substr(0, n - 8)) != crc) return false;
  *value = payload.substr(0, n - kFooterSize);
  return true;
}

}  // namespace dynakv::rdb
