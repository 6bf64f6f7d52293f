#include "keyspace_access.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keyspace.h"
#include "notify.h"
#include "server.h"

namespace dynakv::server {

namespace {

// Where Redis's lookupKeyRead counts a miss, it also fires the "keymiss" event (class m).
void CountLookup(CommandContext& ctx, std::string_view key, bool hit) {
  ServerStats& stats = ctx.server.stats();
  if (hit) {
    ++stats.keyspace_hits;
  } else {
    ++stats.keyspace_misses;
    NotifyKeyspaceEvent(ctx, kNotifyKeyMiss, "keymiss", key);
  }
}

}  // namespace

std::optional<storage::ValueRef> LookupRead(CommandContext& ctx, std::string_view key) {
  std::optional<storage::ValueRef> value = ctx.keyspace.Get(key);
  CountLookup(ctx, key, value.has_value());
  return value;
}

bool ExistsRead(CommandContext& ctx, std::string_view key) {
  const bool exists = ctx.keyspace.Exists(key);
  CountLookup(ctx, key, exists);
  return exists;
}

std::optional<std::int64_t> ExpireAtRead(CommandContext& ctx, std::string_view key) {
  std::optional<std::int64_t> expire_at = ctx.keyspace.GetExpireAt(key);
  CountLookup(ctx, key, expire_at.has_value());
  return expire_at;
}

bool WriteOk(CommandContext& ctx, const storage::Status& status) {
  if (status.ok()) return true;
  if (status.IsOutOfMemory()) {
    ctx.reply.Error(kErrOom);
  } else if (status.code() == storage::Status::Code::kIoError) {
    ctx.reply.Error(LogFailureError(status));  // the commit log failed within this command
  } else {
    ctx.reply.Error("ERR " + status.ToString());
  }
  return false;
}

void ReplyValue(resp::ReplyWriter& reply, const storage::ValueRef& value) {
  // A large value goes out by reference (storage/shared_value.h): no copy into the reply buffer,
  // and a compressed one is decompressed once, into bytes the reply alone owns.
  if (const std::shared_ptr<storage::SharedValue>* shared = value.shared();
      shared != nullptr && reply.shares()) {
    if (!value.compressed()) {
      reply.BulkShared((*shared)->view(), *shared);
      return;
    }
    std::shared_ptr<storage::SharedValue> raw = storage::SharedValue::Make(value.size());
    value.CopyTo(raw->data());
    const std::string_view bytes = raw->view();
    reply.BulkShared(bytes, std::move(raw));
    return;
  }
  if (std::optional<std::string_view> bytes = value.Uncompressed()) {
    reply.Bulk(*bytes);
  } else {
    // No slot when the client is over its output limit: the reply is dropped.
    if (char* slot = reply.BulkSlot(value.size())) value.CopyTo(slot);
  }
}

bool ApplyElementOp(CommandContext& ctx, std::string_view key, const types::OpBuilder& op,
                    std::int64_t* result) {
  const storage::Status status = ctx.keyspace.Mutate(key, op.op(), result);
  if (status.ok()) return true;
  if (RefusedForType(status)) {  // a string, or a typed value of another type
    ctx.reply.Error(kErrWrongType);
    return false;
  }
  if (status.code() == storage::Status::Code::kInvalidArgument) {
    ctx.reply.Error("ERR " + status.message());
    return false;
  }
  return WriteOk(ctx, status);
}

}  // namespace dynakv::server
