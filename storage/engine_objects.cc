// Typed values (storage/object.h): whole-value puts, per-element mutations, and moving objects
// between their live in-memory form and their serialized form in segments and the log.
#include <chrono>
#include <utility>

#include "engine_impl.h"
#include "value_codec.h"

namespace dynakv::storage {

Status EngineImpl::WriteRefusal(std::string_view key) const {
  if (key.size() > kMaxKeySize) return Status::InvalidArgument("key too large");
  if (!log_error_.ok()) return log_error_;
  if (!log_->last_error().ok()) return log_->last_error();
  if (!read_error_.ok() && read_error_key_ == key) return read_error_;
  return Status::Ok();
}

std::unique_ptr<ValueObject> EngineImpl::DecodeObject(std::string_view stored,
                                                      std::uint32_t raw_len,
                                                      bool compressed) const {
  if (options_.object_codec == nullptr) return nullptr;
  if (!compressed) return options_.object_codec->Decode(stored);
  std::string raw(raw_len, '\0');
  if (!DecompressValue(stored, raw.data(), raw_len)) return nullptr;
  return options_.object_codec->Decode(raw);
}

Memtable::Entry* EngineImpl::LoadObject(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                                        const SegmentRecord& rec, std::uint8_t extra_flags,
                                        std::int64_t expire_at_ms) {
  std::unique_ptr<ValueObject> object = DecodeObject(rec.stored, rec.raw_len, rec.compressed());
  if (object == nullptr) {
    Status s =
        Status::Corruption("a stored value of key '" + std::string(key) + "' could not be decoded");
    ++stats_.io_errors;
    ++stats_.segment_read_errors;
    segment_read_error_ = s;
    read_error_ = s;
    read_error_key_ = std::string(key);
    return nullptr;
  }
  return memtable_.UpsertObject(hash, key, std::move(object),
                                static_cast<std::uint8_t>(Memtable::kOnDisk | extra_flags),
                                expire_at_ms, ns);
}

Memtable::Entry* EngineImpl::ApplyPutObject(std::uint64_t hash, std::uint32_t ns,
                                            std::string_view key,
                                            std::unique_ptr<ValueObject> object,
                                            std::int64_t expire_at_ms) {
  const std::uint64_t read_errors = stats_.segment_read_errors;
  const KeyState st = StateOf(hash, ns, key);
  Memtable::Entry* e = memtable_.UpsertObject(hash, key, std::move(object),
                                              PutFlags(st, read_errors), expire_at_ms, ns);
  CountPut(ns, st, expire_at_ms);
  return e;
}

bool EngineImpl::ApplyMutate(std::uint64_t hash, std::uint32_t ns, std::string_view key,
                             std::string_view op, std::int64_t* result, Memtable::Entry** written,
                             bool* changed, const KeyState* known) {
  *written = nullptr;
  const std::uint64_t read_errors = stats_.segment_read_errors;
  KeyState st = known != nullptr ? *known : StateOf(hash, ns, key);
  if (options_.object_codec == nullptr) return false;
  if (st.exists && st.entry == nullptr) {
    if (!st.disk.object()) return false;
    st.entry = LoadObject(hash, ns, key, st.disk, 0, st.expire_at_ms);
    if (st.entry == nullptr) return false;
  }
  if (changed != nullptr) *changed = true;
  if (!st.exists) {
    std::unique_ptr<ValueObject> created;
    if (!options_.object_codec->Apply(nullptr, op, result, &created)) return false;
    if (created == nullptr || created->Empty()) {  // nothing to keep
      if (changed != nullptr) *changed = false;
      return true;
    }
    *written =
        memtable_.UpsertObject(hash, key, std::move(created), PutFlags(st, read_errors), 0, ns);
    CountPut(ns, st, 0);
    return true;
  }
  Memtable::Entry* e = st.entry;
  if (!e->has(Memtable::kObject)) return false;
  if (e->has(Memtable::kFrozen)) SettleFrozenObject(e);
  std::unique_ptr<ValueObject> unused;
  // The table counts the object's MemoryUsage() as of its last accounting: it is told the old
  // figure once the object changed, before anything else accounts the entry again.
  const std::size_t counted = e->object()->MemoryUsage();
  const bool applied = options_.object_codec->Apply(e->object(), op, result, &unused);
  if (e->object()->MemoryUsage() != counted) memtable_.ObjectChanged(e, counted);
  if (!applied) return false;
  if (e->object()->Empty()) {
    ApplyDelete(hash, ns, key, st);
    return true;
  }
  if (options_.object_codec->ChangedNothing(op, *result)) {
    // Read, as Redis's lookupKeyWrite counts it, but still clean: a checkpoint need not write the
    // collection again for it (an SADD of a member of a large set must not cost the set).
    memtable_.Touch(e);
    if (changed != nullptr) *changed = false;
    return true;
  }
  // A frozen entry's serialized form is settled (above), so it may change; it is dirty again.
  memtable_.SetFlag(e, Memtable::kDirty, true);
  memtable_.Touch(e);
  *written = e;
  return true;
}

Status EngineImpl::PutObject(DbIndex db, std::string_view key, std::string_view serialized,
                             std::int64_t expire_at_ms) {
  if (serialized.size() > UINT32_MAX) return Status::InvalidArgument("value too large");
  if (expire_at_ms < 0) return Status::InvalidArgument("negative expire time");
  if (Status refused = WriteRefusal(key); !refused.ok()) return refused;
  std::unique_ptr<ValueObject> object =
      options_.object_codec ? options_.object_codec->Decode(serialized) : nullptr;
  if (object == nullptr) return Status::InvalidArgument("not a typed value");
  return PutWholeObject(db, key, serialized, std::move(object), expire_at_ms);
}

Status EngineImpl::PutObject(DbIndex db, std::string_view key, std::unique_ptr<ValueObject> object,
                             std::int64_t expire_at_ms) {
  if (object == nullptr) return Status::InvalidArgument("not a typed value");
  if (expire_at_ms < 0) return Status::InvalidArgument("negative expire time");
  if (Status refused = WriteRefusal(key); !refused.ok()) return refused;
  std::string_view serialized;
  if (!bulk_load_) {
    object_buf_.clear();
    object->Serialize(&object_buf_);
    if (object_buf_.size() > UINT32_MAX) return Status::InvalidArgument("value too large");
    serialized = object_buf_;
  }
  Status s = PutWholeObject(db, key, serialized, std::move(object), expire_at_ms);
  // One huge collection's serialized form is not kept for the next put.
  if (object_buf_.capacity() > (1u << 20)) std::string().swap(object_buf_);
  return s;
}

Status EngineImpl::PutWholeObject(DbIndex db, std::string_view key, std::string_view serialized,
                                  std::unique_ptr<ValueObject> object, std::int64_t expire_at_ms) {
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  if (options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
    const std::size_t need =
        Memtable::EntrySize(ns, key.size(), sizeof(Memtable::ObjectSlot), 0, false) +
        object->MemoryUsage();
    const Memtable::Entry* old = memtable_.Find(hash, key, ns);
    const std::size_t old_size =
        old != nullptr && !old->has(Memtable::kFrozen) ? old->alloc_size() : 0;
    if (need > old_size && !MakeRoom(need - old_size, hash, key, /*may_wait=*/true)) {
      return Status::OutOfMemory("command not allowed when used memory > 'maxmemory'");
    }
  }
  if (!bulk_load_) {
    std::string_view packed;
    const bool compressed =
        object_compressor_.Compress(serialized, options_.compression_threshold, &packed);
    LogRecord rec;
    rec.type = LogRecordType::kPut;
    rec.key = key;
    rec.stored = compressed ? packed : serialized;
    rec.raw_len = static_cast<std::uint32_t>(serialized.size());
    rec.compressed = compressed;
    rec.object = true;
    rec.expire_at_ms = expire_at_ms;
    rec.ns = ns;
    log_->Add(rec);
  } else {
    unlogged_bytes_ += kUnloggedRecordBytes + key.size() + object->MemoryUsage();
  }
  const bool read_error_pending = !read_error_.ok();
  AfterWrite(ApplyPutObject(hash, ns, key, std::move(object), expire_at_ms));
  if (!read_error_pending) TakeReadError();
  return Status::Ok();
}

Status EngineImpl::Mutate(DbIndex db, std::string_view key, std::string_view op,
                          std::int64_t* result) {
  if (Status refused = WriteRefusal(key); !refused.ok()) return refused;
  const std::uint32_t ns = map_.ns[db];
  const std::uint64_t hash = HashKey(key, ns);
  // Reaps an expired key first (logged as a delete), as every write does.
  const std::uint64_t read_errors = stats_.segment_read_errors;
  std::optional<KeyState> st = LiveState(hash, ns, key);
  // Unlike a blind Put, an element write builds on the value: one that could not be read must
  // not be taken for a missing key (and replaced by a new one).
  if (stats_.segment_read_errors != read_errors && !read_error_.ok()) return read_error_;
  if (st && st->entry != nullptr && !st->entry->has(Memtable::kObject)) {
    return Status::InvalidArgument(std::string(kHoldsString));
  }
  if (st && st->entry == nullptr && !st->disk.object()) {
    return Status::InvalidArgument(std::string(kHoldsString));
  }
  // The state just looked up serves the apply unless making room may have changed the table.
  const KeyState* known = st ? &*st : nullptr;
  if (options_.max_memory != 0 && options_.eviction == EvictionPolicy::kNoEviction) {
    known = nullptr;
    const std::size_t need =
        st ? op.size()
           : Memtable::EntrySize(ns, key.size(), sizeof(Memtable::ObjectSlot), 0, false) +
                 op.size();
    if (!MakeRoom(need, hash, key, /*may_wait=*/true)) {
      return Status::OutOfMemory("command not allowed when used memory > 'maxmemory'");
    }
  }
  // Applied first so that an operation the codec refuses is never logged; nothing can fail
  // between the two, and the record is buffered before any reply leaves.
  *result = 0;
  Memtable::Entry* written = nullptr;
  bool changed = true;
  if (!ApplyMutate(hash, ns, key, op, result, &written, &changed, known)) {
    if (Status read = TakeReadError(); !read.ok()) {
      read_error_ = read;  // the caller takes it and fails the command
      return read;
    }
    return Status::InvalidArgument("operation refused");
  }
  // A write that changed nothing needs no record: replay without it gives the same value. Its
  // reply still waits for the log end (the server marks every write), so an answer such as "the
  // member was there" never leaves before the record that put the member there is durable.
  if (!changed) return Status::Ok();
  LogRecord rec;
  rec.type = LogRecordType::kMutate;
  rec.key = key;
  rec.op = op;
  rec.ns = ns;
  log_->Add(rec);
  AfterWrite(written);
  return Status::Ok();
}

void EngineImpl::SettleFrozenObject(const Memtable::Entry* e) {
  if (running_job_ != nullptr && running_job_->unregistered_objects) {
    // A bulk load's job (FreezeMemtable): which objects it holds is not kept, so it is waited
    // for; the entry stays alive (an object entry is never erased by the install).
    FinishCheckpoint(/*wait=*/true);
    return;
  }
  auto it = frozen_objects_.find(e);
  if (it == frozen_objects_.end()) return;
  // Usually done already by the background thread; else done here (or waited for), this object
  // alone, before it changes.
  const auto started = std::chrono::steady_clock::now();
  running_job_->Serialize(it->second);
  checkpoint_loop_time_ += std::chrono::steady_clock::now() - started;
  frozen_objects_.erase(it);
}

}  // namespace dynakv::storage
