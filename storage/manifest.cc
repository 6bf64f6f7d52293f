#include "manifest.h"

#include <sys/stat.h>

#include <cerrno>

#include "coding.h"
#include "crc.h"
#include "file_names.h"
#include "file_util.h"

namespace dynakv::storage {

namespace {

constexpr std::uint64_t kManifestMagic = 0x324e414d564b4464ull;  // "dDKVMAN2"
// MAN2 followed by the database mapping: count, then count namespaces and next_ns (varints).
constexpr std::uint64_t kManifestMagicV3 = 0x334e414d564b4464ull;  // "dDKVMAN3"
// MAN1 was checksummed with CRC-32; named only to refuse it clearly.
constexpr std::uint64_t kManifestMagicV1 = 0x314e414d564b4464ull;  // "dDKVMAN1"

}  // namespace

Status WriteManifest(const std::string& dir, const Manifest& manifest) {
  std::string data;
  const bool mapped = !manifest.dbs.ns.empty();
  PutFixed64(&data, mapped ? kManifestMagicV3 : kManifestMagic);
  PutFixed64(&data, manifest.next_seq);
  PutFixed64(&data, manifest.log_seq);
  PutVarint64(&data, manifest.segments.size());
  for (std::uint64_t seq : manifest.segments) PutVarint64(&data, seq);
  if (mapped) {
    PutVarint64(&data, manifest.dbs.ns.size());
    for (std::uint32_t ns : manifest.dbs.ns) PutVarint64(&data, ns);
    PutVarint64(&data, manifest.dbs.next_ns);
  }
  PutFixed32(&data, Checksum32(data));
  return WriteFileAtomically(dir, kManifestName, data);
}

Status ReadManifest(const std::string& dir, Manifest* manifest, bool* exists) {
  const std::string path = dir + "/" + kManifestName;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *exists = false;
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("stat " + path, errno);
  }
  *exists = true;
  std::string data;
  Status s = ReadWholeFile(path, &data);
  if (!s.ok()) return s;
  const Status bad = Status::Corruption("malformed " + path);
  if (data.size() < 4) return bad;
  if (data.size() >= 8 && DecodeFixed64(data.data()) == kManifestMagicV1) {
    return Status::Corruption(path + " has an older on-disk format (CRC-32 checksums) that this "
                              "version does not read");
  }
  const std::uint32_t checksum = DecodeFixed32(data.data() + data.size() - 4);
  std::string_view in(data.data(), data.size() - 4);
  if (Checksum32(in) != checksum) return Status::Corruption("checksum mismatch in " + path);
  std::uint64_t magic, count;
  Manifest m;
  if (!GetFixed64(&in, &magic) || (magic != kManifestMagic && magic != kManifestMagicV3) ||
      !GetFixed64(&in, &m.next_seq) ||
      !GetFixed64(&in, &m.log_seq) || !GetVarint64(&in, &count) || count > in.size()) {
    return bad;
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t seq;
    if (!GetVarint64(&in, &seq)) return bad;
    m.segments.push_back(seq);
  }
  if (magic == kManifestMagicV3) {
    if (!GetVarint64(&in, &count) || count == 0 || count > in.size()) return bad;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint32_t ns;
      if (!GetVarint32(&in, &ns)) return bad;
      m.dbs.ns.push_back(ns);
    }
    if (!GetVarint32(&in, &m.dbs.next_ns)) return bad;
  }
  if (!in.empty()) return bad;
  *manifest = std::move(m);
  return Status::Ok();
}

}  // namespace dynakv::storage
