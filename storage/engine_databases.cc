// Numbered databases: the mapping of databases to physical namespaces (storage/engine.h says why),
// and the commands that change it or cross databases (FLUSHDB, SWAPDB, MOVE).
#include <algorithm>
#include <string>
#include <utility>

#include "engine_impl.h"
#include "value_codec.h"

namespace dynakv::storage {

void EngineImpl::SetMapping(DbMapping map) {
  map_ = std::move(map);
  db_counts_.assign(map_.ns.size(), DbCounts{});
  garbage_counts_ = DbCounts{};
  RebuildReverseMapping();
}

void EngineImpl::RebuildReverseMapping() {
  db_of_ns_.clear();
  for (DbIndex db = 0; db < map_.ns.size(); ++db) {
    if (map_.ns[db] != db) db_of_ns_[map_.ns[db]] = db;
  }
}

void EngineImpl::CoverDatabase(DbIndex db) {
  if (db < map_.ns.size()) return;
  // A database the mapping does not list is its own namespace (manifest.h).
  for (DbIndex i = static_cast<DbIndex>(map_.ns.size()); i <= db; ++i) map_.ns.push_back(i);
  db_counts_.resize(map_.ns.size());
  RebuildReverseMapping();
}

std::vector<std::uint32_t> EngineImpl::LiveNamespaces() const {
  std::vector<std::uint32_t> live(map_.ns);
  std::sort(live.begin(), live.end());
  return live;
}

void EngineImpl::ApplyFlushDb(DbIndex db, std::uint32_t ns) {
  const std::uint32_t old = map_.ns[db];
  DbCounts& counts = db_counts_[db];
  live_keys_ -= counts.keys;
  keys_with_expiry_ -= counts.expiring;
  counts = DbCounts{};
  // Its segment records are unreachable from now on; compaction drops them.
  memtable_.EraseNamespace(old);
  map_.ns[db] = ns;
  map_.next_ns = std::max(map_.next_ns, ns + 1);
  RebuildReverseMapping();
}

void EngineImpl::ApplySwapDb(DbIndex a, DbIndex b) {
  std::swap(map_.ns[a], map_.ns[b]);
  std::swap(db_counts_[a], db_counts_[b]);
  RebuildReverseMapping();
}

Status EngineImpl::CheckDatabases() const {
  for (DbIndex db = databases_; db < map_.ns.size(); ++db) {
    if (db_counts_[db].keys != 0) {
      return Status::InvalidArgument(
          "the data directory holds keys in database " + std::to_string(db) +
          " but the node is configured with databases " + std::to_string(databases_) +
          "; start it with databases " + std::to_string(db + 1) + " or more");
    }
  }
  return Status::Ok();
}

Status EngineImpl::FlushDb(DbIndex db) {
  if (!log_error_.ok()) return log_error_;
  if (!log_->last_error().ok()) return log_->last_error();
  // When the database holds every key, FLUSHALL does the same and maps every database back to its
  // own namespace: database 0 stays on namespace 0 (the plain record forms) through the usual
  // FLUSHDB of a single-database user.
  if (db_counts_[db].keys == live_keys_) {
    Clear();
    return log_error_;
  }
  if (map_.next_ns > Memtable::kMaxNamespace) {
    return Status::InvalidArgument(
        "no namespace is left for FLUSHDB (one per FLUSHDB since the last FLUSHALL); use FLUSHALL");
  }
  LogRecord rec;
  rec.type = LogRecordType::kFlushDb;
  rec.db = db;
  rec.ns = map_.next_ns;
  log_->Add(rec);
  ApplyFlushDb(db, rec.ns);
  AfterWrite(nullptr);
  return Status::Ok();
}

Status EngineImpl::SwapDb(DbIndex a, DbIndex b) {
  if (!log_error_.ok()) return log_error_;
  if (!log_->last_error().ok()) return log_->last_error();
  if (a == b) return Status::Ok();
  LogRecord rec;
  rec.type = LogRecordType::kSwapDb;
  rec.db = a;
  rec.db2 = b;
  log_->Add(rec);
  ApplySwapDb(a, b);
  AfterWrite(nullptr);
  return Status::Ok();
}

Status EngineImpl::Move(DbIndex from, std::string_view key, DbIndex to, bool* moved) {
  *moved = false;
  if (Status refused = WriteRefusal(key); !refused.ok()) return refused;
  if (from == to) return Status::InvalidArgument("source and destination are the same");
  const std::uint32_t from_ns = map_.ns[from];
  const std::uint32_t to_ns = map_.ns[to];
  // The destination first: its lookup may reuse the segment buffer the source's value is in.
  if (LiveState(HashKey(key, to_ns), to_ns, key)) return Status::Ok();
  const std::uint64_t from_hash = HashKey(key, from_ns);
  std::optional<KeyState> st = LiveState(from_hash, from_ns, key);
  if (!st) return Status::Ok();

  // The whole value goes into the one record (like RENAME's PUT), copied: applying the delete
  // may free the bytes it was read from.
  std::string value;
  LogRecord rec;
  rec.type = LogRecordType::kMove;
  rec.from_ns = from_ns;
  rec.ns = to_ns;
  rec.expire_at_ms = st->expire_at_ms;
  const Memtable::Entry* e = st->entry;
  const std::uint8_t hint = e != nullptr ? e->hint : 0;  // the value's, wherever it goes
  if (e != nullptr && e->has(Memtable::kObject)) {
    e->object()->Serialize(&value);
    rec.object = true;
    rec.raw_len = static_cast<std::uint32_t>(value.size());
  } else if (e != nullptr) {
    value.assign(e->stored());
    rec.compressed = e->has(Memtable::kCompressed);
    rec.raw_len = e->raw_len();
  } else {
    value.assign(st->disk.stored);
    rec.compressed = st->disk.compressed();
    rec.object = st->disk.object();
    rec.raw_len = st->disk.raw_len;
  }
  std::unique_ptr<ValueObject> object;
  if (rec.object) {
    // Decoded before anything is logged: a value that cannot be read is not moved.
    object = DecodeObject(value, rec.raw_len, rec.compressed);
    if (object == nullptr) {
      read_error_ = Status::Corruption("a stored value of key '" + std::string(key) +
                                       "' could not be decoded");
      read_error_key_.assign(key);
      return read_error_;
    }
  }
  const std::string key_copy(key);
  rec.key = key_copy;
  rec.stored = value;
  log_->Add(rec);
  ApplyDelete(from_hash, from_ns, key_copy, *st);
  const std::uint64_t to_hash = HashKey(key_copy, to_ns);
  if (object != nullptr) {
    AfterWrite(ApplyPutObject(to_hash, to_ns, key_copy, std::move(object), rec.expire_at_ms));
  } else {
    Memtable::Entry* moved_entry =
        ApplyPut(to_hash, to_ns, key_copy, value, rec.raw_len, rec.compressed, rec.expire_at_ms);
    moved_entry->hint = hint;
    AfterWrite(moved_entry);
  }
  *moved = true;
  return Status::Ok();
}

}  // namespace dynakv::storage
