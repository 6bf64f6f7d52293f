#include "string_value.h"

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
  return WriteOk(ctx, ctx.keyspace.Put(key, value.bytes, value.expire_at_ms));
}

}  // namespace dynakv::server
