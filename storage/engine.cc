// The public facade: forwards to EngineImpl so the header stays free of internals.
#include "storage/engine.h"

#include <cstring>

#include "engine_impl.h"
#include "value_codec.h"

namespace dynakv::storage {

void ValueRef::CopyTo(char* dst) const {
  if (!compressed_) {
    if (raw_size_ != 0) std::memcpy(dst, data_, raw_size_);
    return;
  }
  // Stored bytes passed a CRC check or came from our own compressor, so this cannot fail short
  // of memory corruption; never hand out uninitialised bytes even then.
  if (!DecompressValue(std::string_view(data_, stored_size_), dst, raw_size_)) {
    std::memset(dst, 0, raw_size_);
  }
}

std::string ValueRef::ToString() const {
  std::string out(raw_size_, '\0');
  CopyTo(out.data());
  return out;
}

Engine::Engine(OpenToken, std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Status Engine::Open(const Options& options, std::unique_ptr<Engine>* engine) {
  // The facade exists before the recovery, whose reload (Options::reload) writes through it.
  auto opened = std::make_unique<Engine>(OpenToken(), std::make_unique<EngineImpl>(options));
  opened->impl_->set_facade(opened.get());
  Status s = opened->impl_->Open();
  if (!s.ok()) return s;
  *engine = std::move(opened);
  return Status::Ok();
}

std::optional<ValueRef> Engine::Get(DbIndex db, std::string_view key) {
  return impl_->Get(db, key);
}
bool Engine::Exists(DbIndex db, std::string_view key) { return impl_->Exists(db, key); }
std::optional<KeyUsage> Engine::Inspect(DbIndex db, std::string_view key) {
  return impl_->Inspect(db, key);
}
bool Engine::SetLfuFrequency(DbIndex db, std::string_view key, int frequency) {
  return impl_->SetLfuFrequency(db, key, frequency);
}
bool Engine::SetHint(DbIndex db, std::string_view key, std::uint8_t hint) {
  return impl_->SetHint(db, key, hint);
}
bool Engine::SetIdleTime(DbIndex db, std::string_view key, std::int64_t idle_seconds) {
  return impl_->SetIdleTime(db, key, idle_seconds);
}
std::optional<std::int64_t> Engine::GetExpireAt(DbIndex db, std::string_view key) {
  return impl_->GetExpireAt(db, key);
}
Status Engine::Put(DbIndex db, std::string_view key, std::string_view value,
                   std::int64_t expire_at_ms, std::uint8_t hint) {
  return impl_->Put(db, key, value, expire_at_ms, hint);
}

Status Engine::PutObject(DbIndex db, std::string_view key, std::string_view serialized,
                         std::int64_t expire_at_ms) {
  return impl_->PutObject(db, key, serialized, expire_at_ms);
}

Status Engine::PutObject(DbIndex db, std::string_view key, std::unique_ptr<ValueObject> object,
                         std::int64_t expire_at_ms) {
  return impl_->PutObject(db, key, std::move(object), expire_at_ms);
}

std::uint64_t Engine::BeginBulkLoad(bool source_kept) { return impl_->BeginBulkLoad(source_kept); }
Status Engine::EndBulkLoad() { return impl_->EndBulkLoad(); }
void Engine::EndBulkLoadUnsaved() { impl_->EndBulkLoadUnsaved(); }
bool Engine::bulk_load_saved() const { return impl_->bulk_load_saved(); }
bool Engine::bulk_loading() const { return impl_->bulk_loading(); }
void Engine::ReserveKeys(std::uint64_t keys) { impl_->ReserveKeys(keys); }

void Engine::PrefetchKey(DbIndex db, std::string_view key) { impl_->PrefetchKey(db, key); }

Status Engine::Mutate(DbIndex db, std::string_view key, std::string_view op,
                      std::int64_t* result) {
  return impl_->Mutate(db, key, op, result);
}
Status Engine::PatchString(DbIndex db, std::string_view key, const std::vector<BytePatch>& pieces,
                           std::uint8_t hint) {
  return impl_->PatchString(db, key, pieces, hint);
}
bool Engine::Delete(DbIndex db, std::string_view key) { return impl_->Delete(db, key); }
bool Engine::SetExpireAt(DbIndex db, std::string_view key, std::int64_t expire_at_ms) {
  return impl_->SetExpireAt(db, key, expire_at_ms);
}
void Engine::Clear() { impl_->Clear(); }
void Engine::BeginAtomic() { impl_->BeginAtomic(); }
void Engine::CommitAtomic() { impl_->CommitAtomic(); }
std::uint32_t Engine::Databases() const { return impl_->Databases(); }
Status Engine::FlushDb(DbIndex db) { return impl_->FlushDb(db); }
Status Engine::SwapDb(DbIndex a, DbIndex b) { return impl_->SwapDb(a, b); }
Status Engine::Move(DbIndex from, std::string_view key, DbIndex to, bool* moved) {
  return impl_->Move(from, key, to, moved);
}
std::uint64_t Engine::Scan(DbIndex db, std::uint64_t cursor, std::size_t count,
                           std::vector<std::string>* keys) {
  return impl_->Scan(db, cursor, count, keys);
}
std::optional<std::string> Engine::RandomKey(DbIndex db) { return impl_->RandomKey(db); }
std::uint64_t Engine::KeyCount(DbIndex db) const { return impl_->KeyCount(db); }
std::uint64_t Engine::KeysWithExpiry(DbIndex db) const { return impl_->KeysWithExpiry(db); }
std::int64_t Engine::AvgTtlMs(DbIndex db) const { return impl_->AvgTtlMs(db); }
Status Engine::FlushLog() { return impl_->FlushLog(); }
const Status& Engine::LogStatus() const { return impl_->LogStatus(); }
Status Engine::TakeReadError() { return impl_->TakeReadError(); }
std::uint64_t Engine::LogEnd() const { return impl_->LogEnd(); }
std::uint64_t Engine::DurableLogEnd() const { return impl_->DurableLogEnd(); }
void Engine::Tick() { impl_->Tick(); }
Status Engine::Checkpoint() { return impl_->RequestedCheckpoint(); }
void Engine::SetOnKeyRemoved(std::function<void(DbIndex, std::string_view, KeyRemoval)> listener) {
  impl_->SetOnKeyRemoved(std::move(listener));
}
void Engine::SetMaxMemory(std::uint64_t bytes) { impl_->SetMaxMemory(bytes); }
void Engine::SetEvictionPolicy(EvictionPolicy policy) { impl_->SetEvictionPolicy(policy); }
void Engine::SetEvictionTuning(const EvictionTuning& tuning) {
  impl_->SetEvictionTuning(tuning);
}
EvictionResult Engine::PerformEvictions() { return impl_->PerformEvictions(); }
void Engine::PauseKeyRemoval(bool paused) { impl_->PauseKeyRemoval(paused); }
void Engine::SetActiveExpire(bool enabled) { impl_->SetActiveExpire(enabled); }
void Engine::SetLatencyMonitor(std::uint64_t threshold_ms, LatencyListener listener) {
  impl_->SetLatencyMonitor(threshold_ms, std::move(listener));
}
void Engine::SetFsyncPolicy(FsyncPolicy policy) { impl_->SetFsyncPolicy(policy); }
FsyncPolicy Engine::fsync_policy() const { return impl_->fsync_policy(); }
void Engine::SetCompressionThreshold(std::size_t bytes) { impl_->SetCompressionThreshold(bytes); }
void Engine::SetHotValueReads(std::uint32_t reads) { impl_->SetHotValueReads(reads); }
EngineStats Engine::Stats() const { return impl_->Stats(); }
void Engine::ResetStatCounters() { impl_->ResetStatCounters(); }
const std::vector<LogRepair>& Engine::LogRepairs() const { return impl_->log_repairs(); }

}  // namespace dynakv::storage
