// String patches (Engine::PatchString): SETBIT, SETRANGE, BITFIELD and PFADD change a few bytes
// of a string and log only those bytes (log_format.h's PATCH), never the whole value.
//
// In memory a patched value is held uncompressed, so the next patch writes its bytes in place:
// O(change), as Redis's SETBIT on its raw sds. Only the first patch of a compressed value, a
// patch that grows the value, and a patch of an entry a running checkpoint reads (frozen: its
// bytes must not move or change) build a new entry, O(value). Replay runs the same ApplyPatch on
// whatever holds the key then: a memtable entry, or a segment version (an offloaded or
// checkpointed value) that becomes a dirty memtable entry.
#include <cstring>
#include <string>

#include "engine_impl.h"
#include "value_codec.h"

namespace dynakv::storage {

void ApplyBytePatches(std::string* value, const std::vector<BytePatch>& pieces) {
  for (const BytePatch& piece : pieces) {
    const std::uint64_t end = piece.offset + piece.bytes.size();
    if (value->size() < end) value->resize(end, '\0');
    if (!piece.bytes.empty()) {
      std::memcpy(value->data() + piece.offset, piece.bytes.data(), piece.bytes.size());
    }
  }
}

namespace {

void WritePieces(char* value, std::string_view patch) {
  ForEachPatchPiece(patch, [value](std::uint64_t offset, std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(value + offset, bytes.data(), bytes.size());
  });
}

}  // namespace

bool EngineImpl::ApplyPatch(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                            std::string_view patch, Memtable::Entry** written) {
  *written = nullptr;
  const std::uint64_t read_errors = stats_.segment_read_errors;
  const KeyState st = StateOf(hash, ns, key);
  const std::uint64_t extent = PatchExtent(patch);
  if (extent > UINT32_MAX) return false;
  Memtable::Entry* e = st.exists ? st.entry : nullptr;
  if (e != nullptr && e->has(Memtable::kObject)) return false;
  if (st.exists && e == nullptr && st.disk.object()) return false;
  // In place only when nothing else reads the bytes: a checkpoint (frozen) or a reply still
  // sending a shared value.
  if (e != nullptr && Memtable::MayChangeInPlace(*e) && extent <= e->raw_len()) {
    WritePieces(memtable_.MutableStored(e), patch);
    memtable_.SetFlag(e, Memtable::kDirty, true);
    memtable_.Touch(e);
    *written = e;
    return true;
  }
  // The value as it is, uncompressed, grown to hold the pieces.
  std::string value;
  if (st.exists) {
    const std::string_view stored = e != nullptr ? e->stored() : st.disk.stored;
    const std::uint32_t raw_len = e != nullptr ? e->raw_len() : st.disk.raw_len;
    const bool compressed = e != nullptr ? e->has(Memtable::kCompressed) : st.disk.compressed();
    value.resize(std::max<std::uint64_t>(raw_len, extent));
    if (compressed) {
      if (!DecompressValue(stored, value.data(), raw_len)) {
        Status s = Status::Corruption("a stored value of key '" + std::string(key) +
                                      "' could not be decompressed");
        ++stats_.io_errors;
        read_error_ = s;
        read_error_key_ = std::string(key);
        return false;
      }
    } else {
      std::memcpy(value.data(), stored.data(), raw_len);
    }
  } else {
    value.resize(extent);
  }
  WritePieces(value.data(), patch);
  *written = memtable_.Upsert(hash, key, value, static_cast<std::uint32_t>(value.size()),
                              PutFlags(st, read_errors), st.expire_at_ms, ns);
  CountPut(ns, st, st.expire_at_ms);
  return true;
}

Status EngineImpl::PatchString(DbIndex db, std::string_view key,
                               const std::vector<BytePatch>& pieces, std::uint8_t hint) {
  if (Status refused = WriteRefusal(key); !refused.ok()) return refused;
  if (key.size() > kMaxKeySize) return Status::InvalidArgument("key too large");
  if (pieces.empty()) return Status::InvalidArgument("an empty patch");
  std::string patch;
  for (const BytePatch& piece : pieces) {
    if (piece.offset + piece.bytes.size() > UINT32_MAX) {
      return Status::InvalidArgument("value too large");
    }
    AppendPatchPiece(&patch, piece.offset, piece.bytes);
  }
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  NoteAccess(hash);
  // Reaps an expired key first (logged as a delete), as every write does.
  const std::uint64_t read_errors = stats_.segment_read_errors;
  std::optional<KeyState> st = LiveState(hash, ns, key);
  // A patch builds on the value: one that could not be read must not be taken for a missing key.
  if (stats_.segment_read_errors != read_errors && !read_error_.ok()) return read_error_;
  if (st && ((st->entry != nullptr && st->entry->has(Memtable::kObject)) ||
             (st->entry == nullptr && st->disk.object()))) {
    return Status::InvalidArgument(std::string(kHoldsTypedValue));
  }
  if (options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
    // At most a new entry of the whole (uncompressed) value; less when it is patched in place.
    const std::uint64_t old_len = st && st->entry != nullptr ? st->entry->raw_len()
                                  : st                       ? st->disk.raw_len
                                                             : 0;
    const std::size_t need = Memtable::EntrySize(
        ns, key.size(), std::max<std::uint64_t>(old_len, PatchExtent(patch)), 0, false);
    const Memtable::Entry* old = memtable_.Find(hash, key, ns);
    const std::size_t old_size =
        old != nullptr && !old->has(Memtable::kFrozen) ? old->alloc_size() : 0;
    if (need > old_size && !MakeRoom(need - old_size, hash, key, /*may_wait=*/true)) {
      return Status::OutOfMemory("command not allowed when used memory > 'maxmemory'");
    }
  }
  // Applied first, as Mutate does: a patch that cannot be applied is never logged.
  Memtable::Entry* written = nullptr;
  if (!ApplyPatch(hash, ns, key, patch, &written)) {
    if (Status read = TakeReadError(); !read.ok()) {
      read_error_ = read;  // the caller takes it and fails the command
      return read;
    }
    return Status::InvalidArgument(std::string(kHoldsTypedValue));
  }
  LogRecord rec;
  rec.type = LogRecordType::kPatch;
  rec.key = key;
  rec.patch = patch;
  rec.ns = ns;
  log_->Add(rec);
  written->hint = hint & 3;
  AfterWrite(written);
  return Status::Ok();
}

}  // namespace dynakv::storage
