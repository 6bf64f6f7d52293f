#include "new_key_notifier.h"

#include "notify.h"

namespace dynakv::server {

void NewKeyNotifier::NoteWrite(std::string_view key, bool existed, const storage::Status& status) {
  if (status.ok() && !existed && inner_.Exists(key)) {
    if (holds_ > 0) {
      held_.emplace_back(key);
    } else {
      NotifyKeyspaceEvent(server_, kNotifyNew, "new", key, static_cast<int>(inner_.db()));
    }
  }
}

void NewKeyNotifier::Release() {
  if (holds_ == 0 || --holds_ > 0) return;
  std::vector<std::string> keys;
  keys.swap(held_);
  for (const std::string& key : keys) {
    NotifyKeyspaceEvent(server_, kNotifyNew, "new", key, static_cast<int>(inner_.db()));
  }
}

storage::Status NewKeyNotifier::Put(std::string_view key, std::string_view value,
                                    std::int64_t expire_at_ms) {
  const bool existed = inner_.Exists(key);
  const storage::Status status = inner_.Put(key, value, expire_at_ms);
  NoteWrite(key, existed, status);
  return status;
}

storage::Status NewKeyNotifier::PutString(std::string_view key, std::string_view value,
                                          std::int64_t expire_at_ms, StringHint hint) {
  const bool existed = inner_.Exists(key);
  const storage::Status status = inner_.PutString(key, value, expire_at_ms, hint);
  NoteWrite(key, existed, status);
  return status;
}

storage::Status NewKeyNotifier::PatchString(std::string_view key,
                                            const std::vector<storage::BytePatch>& pieces) {
  const bool existed = inner_.Exists(key);
  const storage::Status status = inner_.PatchString(key, pieces);
  NoteWrite(key, existed, status);
  return status;
}

storage::Status NewKeyNotifier::Mutate(std::string_view key, std::string_view op,
                                       std::int64_t* result) {
  const bool existed = inner_.Exists(key);
  const storage::Status status = inner_.Mutate(key, op, result);
  NoteWrite(key, existed, status);
  return status;
}

storage::Status NewKeyNotifier::PutObject(std::string_view key, std::string_view serialized,
                                          std::int64_t expire_at_ms) {
  const bool existed = inner_.Exists(key);
  const storage::Status status = inner_.PutObject(key, serialized, expire_at_ms);
  NoteWrite(key, existed, status);
  return status;
}

}  // namespace dynakv::server
