// Fuzzes the RDB file reader (rdb/file_reader.h), what IMPORT-RDB and --import-rdb feed an
// untrusted file to. Input: [piece byte] then the file. The file is read twice: whole, and fed in
// pieces of (piece + 1) bytes. Besides not crashing (ASan, UBSan), checks that the pieces do not
// matter: both readings yield the same keys, end the same way and fail at the same offset with
// the same reason; a successful reading consumed exactly the bytes up to the checksum.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "rdb/file_reader.h"

namespace {

struct Keys : dynakv::rdb::RdbSink {
  std::vector<std::string> seen;
  bool OnKey(dynakv::rdb::RdbKey& key, std::string*) override {
    FUZZ_CHECK(key.value.object == nullptr || !key.value.object->Empty());
    seen.push_back(std::to_string(key.db) + ":" + key.key + ":" + std::to_string(key.expire_at_ms));
    return true;
  }
  void OnSkippedKey(std::uint64_t db, std::string_view key, std::string_view type) override {
    seen.push_back("skipped " + std::to_string(db) + ":" + std::string(key) + ":" +
                   std::string(type));
  }
};

struct Outcome {
  Keys keys;
  bool ok = false;
  std::uint64_t offset = 0;
  std::string reason;
  std::uint64_t bytes = 0;
};

void Read(std::string_view file, std::size_t piece, Outcome* out) {
  dynakv::rdb::RdbReader reader(dynakv::types::TypeLimits{}, out->keys);
  for (std::size_t i = 0; i < file.size(); i += piece) {
    if (!reader.Feed(file.substr(i, piece))) break;
  }
  out->ok = reader.Finish();
  out->offset = reader.error().offset;
  out->reason = reader.error().reason;
  out->bytes = reader.bytes_read();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dynakv::fuzz::InputReader in(data, size);
  const std::size_t piece = static_cast<std::size_t>(in.Byte()) + 1;
  const std::string_view file = in.Rest();
  Outcome whole, pieces;
  Read(file, file.size() + 1, &whole);
  Read(file, piece, &pieces);
  FUZZ_CHECK(whole.ok == pieces.ok);
  FUZZ_CHECK(whole.keys.seen == pieces.keys.seen);
  FUZZ_CHECK(whole.offset == pieces.offset);
  FUZZ_CHECK(whole.reason == pieces.reason);
  if (whole.ok) FUZZ_CHECK(whole.bytes <= file.size());
  return 0;
}
