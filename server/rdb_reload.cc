#include "rdb_reload.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "clock.h"
#include "rdb/file_reader.h"

namespace dynakv::server {

namespace {

constexpr std::size_t kPieceBytes = 1 << 20;

// What rdb_import.cc's sink writes at start, straight to the engine.
class ReloadSink final : public rdb::RdbSink {
 public:
  ReloadSink(storage::Engine& engine, std::uint32_t databases, std::uint64_t file_bytes)
      : engine_(engine), databases_(databases), file_bytes_(file_bytes), now_ms_(NowMs()) {}

  bool OnKey(rdb::RdbKey& key, std::string* reason) override {
    if (key.db >= databases_) {
      *reason = "key in database " + std::to_string(key.db) + ", but this node has " +
                std::to_string(databases_) + " databases";
      return false;
    }
    if (key.expire_at_ms != 0 && key.expire_at_ms <= now_ms_) return true;
    const auto db = static_cast<storage::DbIndex>(key.db);
    const storage::Status s =
        key.value.object != nullptr
            ? engine_.PutObject(db, key.key, std::move(key.value.object), key.expire_at_ms)
            : engine_.Put(db, key.key, key.value.string, key.expire_at_ms);
    if (!s.ok()) {
      *reason = "write of a key failed: " + s.ToString();
      return false;
    }
    ++keys_;
    return true;
  }
  void OnResizeDb(std::uint64_t, std::uint64_t keys, std::uint64_t) override {
    engine_.ReserveKeys(std::min(keys, file_bytes_ / 8));
  }

  std::uint64_t keys() const { return keys_; }

 private:
  storage::Engine& engine_;
  const std::uint32_t databases_;
  const std::uint64_t file_bytes_;
  const std::int64_t now_ms_;
  std::uint64_t keys_ = 0;
};

}  // namespace

storage::Status ReloadRdbImport(storage::Engine& engine, const std::string& path,
                                const types::TypeLimits& limits, std::uint32_t databases) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) return storage::Status::IoError("cannot open " + path, errno);
  std::fseek(file.get(), 0, SEEK_END);
  const long size = std::ftell(file.get());
  std::rewind(file.get());
  ReloadSink sink(engine, databases, size > 0 ? static_cast<std::uint64_t>(size) : 0);
  rdb::RdbReader reader(limits, sink);
  std::string piece(kPieceBytes, '\0');
  for (;;) {
    const std::size_t n = std::fread(piece.data(), 1, piece.size(), file.get());
    if (n < piece.size() && std::ferror(file.get())) {
      return storage::Status::IoError("cannot read " + path, errno);
    }
    bool ok = reader.Feed(std::string_view(piece.data(), n));
    if (ok && n < piece.size()) ok = reader.Finish();
    if (!ok) {
      return storage::Status::Corruption("reloading the imported RDB file " + path + ": offset " +
                                         std::to_string(reader.error().offset) + ": " +
                                         reader.error().reason);
    }
    if (reader.done()) return storage::Status::Ok();
    if (n < piece.size()) {
      return storage::Status::Corruption("reloading the imported RDB file " + path +
                                         ": unexpected end of file");
    }
  }
}

}  // namespace dynakv::server
