#include "string_value.h"

#include <utility>
#include <vector>

#include "keyspace.h"
#include "keyspace_access.h"

namespace dynakv::server {

namespace {

// Redis's checkType: a typed value (a hash, ...) is not a string.
bool IsString(CommandContext& ctx, const storage::ValueRef& ref, std::string_view wrong_type) {
  if (ref.object() == nullptr) return true;
  ctx.reply.Error(wrong_type);
  return false;
}

}  // namespace

StringView::StringView(const storage::ValueRef& ref) {
  if (std::optional<std::string_view> raw = ref.Uncompressed()) {
    view_ = *raw;
  } else {
    copy_ = ref.ToString();
    view_ = copy_;
  }
}

bool ReadString(CommandContext& ctx, std::string_view key, std::optional<StringView>* value,
                std::string_view wrong_type) {
  std::optional<storage::ValueRef> ref = LookupRead(ctx, key);
  if (!ref) return true;
  if (!IsString(ctx, *ref, wrong_type)) return false;
  value->emplace(*ref);
  return true;
}

bool PeekString(CommandContext& ctx, std::string_view key, std::optional<StringView>* value) {
  std::optional<storage::ValueRef> ref = ctx.keyspace.Get(key);
  if (!ref) return true;
  if (!IsString(ctx, *ref, kErrWrongType)) return false;
  value->emplace(*ref);
  return true;
}

bool LoadStringForWrite(CommandContext& ctx, std::string_view key, StringValue* value) {
  std::optional<storage::ValueRef> ref = ctx.keyspace.Get(key);
  if (!ref) return true;
  if (!IsString(ctx, *ref, kErrWrongType)) return false;
  value->exists = true;
  value->bytes = ref->ToString();
  value->expire_at_ms = ref->expire_at_ms();
  return true;
}

bool StoreString(CommandContext& ctx, std::string_view key, const StringValue& value) {
  return WriteOk(ctx, ctx.keyspace.PutString(key, value.bytes, value.expire_at_ms, kStringRaw));
}

namespace {

// Runs of written bytes closer than this share a piece: a piece costs a few bytes of framing.
constexpr std::uint64_t kPieceGap = 4;

}  // namespace

bool StoreChangedString(CommandContext& ctx, std::string_view key, std::string_view old,
                        const StringValue& value) {
  const std::string_view now = value.bytes;
  if (!value.exists || old.size() != now.size()) return StoreString(ctx, key, value);
  std::vector<storage::BytePatch> pieces;
  for (std::size_t i = 0; i < now.size();) {
    if (old[i] == now[i]) {
      ++i;
      continue;
    }
    std::size_t end = i + 1;  // one past the run's last differing byte
    for (std::size_t j = end; j < now.size() && j < end + kPieceGap; ++j) {
      if (old[j] != now[j]) end = j + 1;
    }
    pieces.push_back({i, now.substr(i, end - i)});
    i = end;
  }
  // Nothing differs: still a write (WATCH and the other consumers of a modified key hear of it,
  // as after a whole-value store), of no byte.
  if (pieces.empty()) pieces.push_back({now.size(), {}});
  return WriteOk(ctx, ctx.keyspace.PatchString(key, pieces));
}

std::uint8_t StringPatch::At(std::uint64_t i) const {
  auto it = writes_.find(i);
  if (it != writes_.end()) return it->second;
  return i < base_.size() ? static_cast<std::uint8_t>(base_[i]) : 0;
}

void StringPatch::Set(std::uint64_t i, std::uint8_t byte) {
  writes_[i] = byte;
  GrowTo(i + 1);
}

bool StringPatch::Store(CommandContext& ctx, std::string_view key) const {
  std::string bytes;                                        // the pieces' bytes, back to back
  std::vector<std::pair<std::uint64_t, std::size_t>> runs;  // offset, length
  for (auto it = writes_.begin(); it != writes_.end(); ++it) {
    if (runs.empty() || it->first >= runs.back().first + runs.back().second + kPieceGap) {
      runs.emplace_back(it->first, 0);
    }
    // Bytes skipped inside a run are written back as they are.
    for (std::uint64_t at = runs.back().first + runs.back().second; at < it->first; ++at) {
      bytes.push_back(static_cast<char>(At(at)));
      ++runs.back().second;
    }
    bytes.push_back(static_cast<char>(it->second));
    ++runs.back().second;
  }
  std::vector<storage::BytePatch> pieces;
  std::size_t used = 0;
  for (const auto& [offset, length] : runs) {
    pieces.push_back({offset, std::string_view(bytes).substr(used, length)});
    used += length;
  }
  // Growth past the last written byte (or with no byte written): an empty piece at the end.
  if (pieces.empty() || pieces.back().offset + pieces.back().bytes.size() < size_) {
    pieces.push_back({size_, {}});
  }
  return WriteOk(ctx, ctx.keyspace.PatchString(key, pieces));
}

}  // namespace dynakv::server
