// Keyspace commands (Redis's db.c and expire.c): deletion, existence, expiry, iteration, renaming.
// Each runs in the client's selected database (ctx.keyspace); the commands between databases
// (MOVE, SWAPDB) are cmd_databases.cc. Values are strings or typed values (types/).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clock.h"
#include "cluster_keys.h"
#include "command.h"
#include "command_util.h"
#include "expire_options.h"
#include "glob.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "scan_options.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

namespace {

// Keys asked of the keyspace per step while KEYS walks the whole keyspace.
constexpr std::size_t kKeysBatch = 1024;
// SCAN's COUNT is only a hint; capping what one call may gather bounds the reply of a
// "COUNT 9223372036854775807" while still returning everything of any realistic keyspace.
constexpr long long kMaxScanCount = 1 << 24;

void DelCommand(CommandContext& ctx) {
  long long deleted = 0;
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    if (ctx.keyspace.Delete(ctx.argv[i])) {
      NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", ctx.argv[i]);
      ++deleted;
    }
  }
  ctx.reply.Integer(deleted);
}

// Every argument counts, so "EXISTS k k" is 2 for an existing k.
void ExistsCommand(CommandContext& ctx) {
  long long found = 0;
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    if (ExistsRead(ctx, ctx.argv[i])) ++found;
  }
  ctx.reply.Integer(found);
}

// A full lookup, unlike EXISTS, so the keys count as recently used.
void TouchCommand(CommandContext& ctx) {
  long long found = 0;
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    if (LookupRead(ctx, ctx.argv[i])) ++found;
  }
  ctx.reply.Integer(found);
}

// Redis's expireGenericCommand: the options, then the time, then the key.
void ExpireGeneric(CommandContext& ctx, bool seconds, bool absolute, std::string_view command) {
  ExpireCondition condition;
  std::string_view bad_option;
  const ConditionError condition_error = ParseExpireCondition(
      std::span<const std::string_view>(ctx.argv).subspan(3), &condition, &bad_option);
  if (condition_error == ConditionError::kUnsupported) {
    std::string text = "ERR Unsupported option ";
    text.append(bad_option);
    ctx.reply.Error(text);
    return;
  }
  if (condition_error != ConditionError::kNone) {
    ctx.reply.Error(ConditionErrorText(condition_error));
    return;
  }

  const std::int64_t now = NowMs();
  std::int64_t when = 0;
  const ExpireError error = ResolveKeyExpire(ctx.argv[2], seconds, absolute ? 0 : now, &when);
  if (ReplyExpireError(ctx.reply, error, command)) return;

  const std::string_view key = ctx.argv[1];
  const std::optional<std::int64_t> current = ctx.keyspace.GetExpireAt(key);
  if (!current || !ExpireConditionAllows(condition, *current == 0 ? -1 : *current, when)) {
    ctx.reply.Integer(0);
    return;
  }
  if (when <= now) {
    ctx.keyspace.Delete(key);  // a time already past deletes the key, and that counts as set
    NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
    ctx.reply.Integer(1);
  } else {
    ctx.keyspace.SetExpireAt(key, when);
    ctx.reply.Integer(1);
    NotifyKeyspaceEvent(ctx, kNotifyGeneric, "expire", key);
  }
}

void ExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, false, "expire"); }
void PExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, false, "pexpire"); }
void ExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, true, "expireat"); }
void PExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, true, "pexpireat"); }

// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no key, -1 for no expiry. Seconds are rounded to
// the nearest, as Redis does.
void TtlGeneric(CommandContext& ctx, bool milliseconds, bool absolute) {
  const std::optional<std::int64_t> expire_at = ExpireAtRead(ctx, ctx.argv[1]);
  if (!expire_at) {
    ctx.reply.Integer(-2);
    return;
  }
  if (*expire_at == 0) {
    ctx.reply.Integer(-1);
    return;
  }
  long long ttl = absolute ? *expire_at : *expire_at - NowMs();
  if (ttl < 0) ttl = 0;
  ctx.reply.Integer(milliseconds ? ttl : (ttl + 500) / 1000);
}

void TtlCommand(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void PTtlCommand(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void ExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void PExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

void PersistCommand(CommandContext& ctx) {
  const std::optional<std::int64_t> expire_at = ctx.keyspace.GetExpireAt(ctx.argv[1]);
  if (!expire_at || *expire_at == 0) {
    ctx.reply.Integer(0);
    return;
  }
  ctx.keyspace.SetExpireAt(ctx.argv[1], 0);
  NotifyKeyspaceEvent(ctx, kNotifyGeneric, "persist", ctx.argv[1]);
  ctx.reply.Integer(1);
}

std::string_view TypeNameOf(const storage::ValueRef& value) {
  return types::TypeName(types::TypeOf(value.object()));
}

void TypeCommand(CommandContext& ctx) {
  std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1]);
  ctx.reply.Simple(value ? TypeNameOf(*value) : "none");
}

// A lone "*" means every key, including the empty one that stringmatchlen would not match.
bool KeyMatches(std::string_view pattern, std::string_view key) {
  return pattern == "*" || GlobMatch(pattern, key);
}

void KeysCommand(CommandContext& ctx) {
  const std::string_view pattern = ctx.argv[1];
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) {
    ClusterKeysRequest request;
    request.pattern = std::string(pattern);
    ClusterKeys(ctx, *cluster, std::move(request));
    return;
  }
  std::vector<std::string> matched;
  std::vector<std::string> batch;
  // The keys are gathered before the reply (its length comes first). Once they alone pass the
  // client's output limit the reply would close the client anyway: stop gathering there.
  const std::size_t room = ctx.reply.room();
  std::size_t gathered = 0;
  std::uint64_t cursor = 0;
  do {
    batch.clear();
    cursor = ctx.keyspace.Scan(cursor, kKeysBatch, &batch);
    for (std::string& key : batch) {
      if (!KeyMatches(pattern, key)) continue;
      gathered += key.size();
      matched.push_back(std::move(key));
    }
  } while (cursor != 0 && gathered <= room);
  ctx.reply.ArrayHeader(matched.size());
  for (const std::string& key : matched) ctx.reply.Bulk(key);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void ScanCommand(CommandContext& ctx) {
  std::uint64_t cursor = 0;
  if (!ParseScanCursor(ctx, ctx.argv[1], &cursor)) return;
  ScanOptions options;
  if (!ParseScanOptions(ctx, 2, true, &options)) return;
  const long long count = options.count;
  const std::optional<std::string_view>& pattern = options.pattern;
  const std::optional<std::string_view>& type = options.type;
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) {
    ClusterKeysRequest request;
    request.kind = ClusterKeysRequest::Kind::kScan;
    if (pattern) request.pattern = std::string(*pattern);
    request.cursor = cursor;
    request.count = static_cast<std::uint64_t>(std::min(count, kMaxScanCount));
    if (type) request.type = std::string(*type);
    ClusterKeys(ctx, *cluster, std::move(request));
    return;
  }

  std::vector<std::string> keys;
  const auto hint = static_cast<std::size_t>(std::min(count, kMaxScanCount));
  cursor = ctx.keyspace.Scan(cursor, hint, &keys);
  if (type) {
    std::erase_if(keys, [&](const std::string& key) {
      std::optional<storage::ValueRef> value = ctx.keyspace.Get(key);
      return !value || !EqualsIgnoreCase(*type, TypeNameOf(*value));
    });
  }
  if (pattern) {
    std::erase_if(keys, [&](const std::string& key) { return !KeyMatches(*pattern, key); });
  }

  ReplyScanCursor(ctx, cursor);
  ctx.reply.ArrayHeader(keys.size());
  for (const std::string& key : keys) ctx.reply.Bulk(key);
}

void RandomKeyCommand(CommandContext& ctx) {
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) {
    ClusterKeysRequest request;
    request.kind = ClusterKeysRequest::Kind::kRandomKey;
    ClusterKeys(ctx, *cluster, std::move(request));
    return;
  }
  if (std::optional<std::string> key = ctx.keyspace.RandomKey()) {
    ctx.reply.Bulk(*key);
  } else {
    ctx.reply.Null();
  }
}

void DbSizeCommand(CommandContext& ctx) {
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) {
    ClusterKeysRequest request;
    request.kind = ClusterKeysRequest::Kind::kDbSize;
    ClusterKeys(ctx, *cluster, std::move(request));
    return;
  }
  ctx.reply.Integer(static_cast<long long>(ctx.keyspace.KeyCount()));
}

// FLUSHALL and FLUSHDB [ASYNC|SYNC]. The engine's work is one log record either way (a FLUSHDB
// remaps the database: storage/engine.h), so ASYNC and SYNC behave the same.
bool FlushArgsOk(CommandContext& ctx) {
  if (ctx.argv.size() > 2 ||
      (ctx.argv.size() == 2 && !EqualsIgnoreCase(ctx.argv[1], "sync") &&
       !EqualsIgnoreCase(ctx.argv[1], "async"))) {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  return true;
}

void FlushAllCommand(CommandContext& ctx) {
  if (!FlushArgsOk(ctx)) return;
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) return ClusterFlushAll(ctx, *cluster);
  ctx.keyspace.Clear();
  ctx.reply.Ok();
}

void FlushDbCommand(CommandContext& ctx) {
  if (!FlushArgsOk(ctx)) return;
  // Cluster mode has database 0 only: FLUSHDB is FLUSHALL there.
  if (ClusterExecutor* cluster = WholeClusterScope(ctx)) return ClusterFlushAll(ctx, *cluster);
  if (!WriteOk(ctx, ctx.keyspace.ClearDb())) return;
  ctx.reply.Ok();
}

// A value as bytes: a string's own, a typed value's serialized form (for PutObject).
std::string ValueBytes(const storage::ValueRef& value) {
  if (value.object() == nullptr) return value.ToString();
  std::string out;
  value.object()->Serialize(&out);
  return out;
}

// A typed value landing on `key` of database `db` may be a list clients are blocked on (BLPOP &
// co.): as Redis signals a key ready whenever a list is added to the keyspace, they are served
// after this command (single-node mode).
void WakeBlocked(CommandContext& ctx, std::uint32_t db, std::string_view key, bool typed) {
  if (typed && ctx.server.cluster_executor() == nullptr) {
    ctx.server.blocked_lists().SignalReady(db, key);
  }
}

// Redis's renameGenericCommand: the value moves with its expiry.
void RenameGeneric(CommandContext& ctx, bool nx) {
  Keyspace& keyspace = ctx.keyspace;
  const std::string_view src = ctx.argv[1];
  const std::string_view dst = ctx.argv[2];
  std::optional<storage::ValueRef> value = keyspace.Get(src);
  if (!value) {
    ctx.reply.Error("ERR no such key");
    return;
  }
  auto done = [&](bool renamed) {
    if (nx) {
      ctx.reply.Integer(renamed ? 1 : 0);
    } else {
      ctx.reply.Ok();
    }
  };
  if (src == dst) {
    done(false);
    return;
  }
  const std::int64_t expire_at = value->expire_at_ms();
  const bool typed = value->object() != nullptr;
  const auto hint = static_cast<StringHint>(value->hint());  // Redis moves the object itself
  const std::string text = ValueBytes(*value);
  const bool replaced = keyspace.Exists(dst);
  if (nx && replaced) {
    done(false);
    return;
  }
  if (!WriteOk(ctx, typed ? keyspace.PutObject(dst, text, expire_at)
                          : keyspace.PutString(dst, text, expire_at, hint))) {
    return;
  }
  // Redis deletes the destination and adds the key anew: "new" even over an existing one (a
  // missing destination got it from the write itself).
  if (replaced) NotifyKeyspaceEvent(ctx, kNotifyNew, "new", dst);
  keyspace.Delete(src);
  WakeBlocked(ctx, keyspace.db(), dst, typed);
  NotifyKeyspaceEvent(ctx, kNotifyGeneric, "rename_from", src);
  NotifyKeyspaceEvent(ctx, kNotifyGeneric, "rename_to", dst);
  done(true);
}

void RenameCommand(CommandContext& ctx) { RenameGeneric(ctx, false); }
void RenameNxCommand(CommandContext& ctx) { RenameGeneric(ctx, true); }

// COPY source destination [DB destination-db] [REPLACE]
void CopyCommand(CommandContext& ctx) {
  bool replace = false;
  long long db = ctx.keyspace.db();
  for (std::size_t j = 3; j < ctx.argv.size(); ++j) {
    if (EqualsIgnoreCase(ctx.argv[j], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.argv[j], "db") && j + 1 < ctx.argv.size()) {
      if (!ParseDbIndexOrReply(ctx, ctx.argv[j + 1], {}, &db)) return;
      if (db < 0 || db >= ctx.server.config().databases) {
        ctx.reply.Error("ERR DB index is out of range");
        return;
      }
      ++j;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  if (ctx.server.cluster_node() != nullptr && db != 0) {
    ctx.reply.Error("ERR Copying to another database is not allowed in cluster mode");
    return;
  }
  // The selected database is the handler's own keyspace (in cluster mode a snapshot of the keys'
  // replicas, which writes through the coordinator).
  Keyspace& target = db == ctx.keyspace.db() ? ctx.keyspace
                                             : ctx.server.keyspace(static_cast<std::uint32_t>(db));
  const std::string_view src = ctx.argv[1];
  const std::string_view dst = ctx.argv[2];
  if (src == dst && &target == &ctx.keyspace) {
    ctx.reply.Error("ERR source and destination objects are the same");
    return;
  }
  std::optional<storage::ValueRef> value = LookupRead(ctx, src);
  if (!value) {
    ctx.reply.Integer(0);
    return;
  }
  const std::int64_t expire_at = value->expire_at_ms();
  const bool typed = value->object() != nullptr;
  // dupStringObject keeps the encoding, but the copy of a shared integer is not shared.
  auto hint = static_cast<StringHint>(value->hint());
  if (hint == kStringAsSet) hint = kStringCopied;
  const std::string text = ValueBytes(*value);
  const bool replaced = target.Exists(dst);
  if (!replace && replaced) {
    ctx.reply.Integer(0);
    return;
  }
  if (!WriteOk(ctx, typed ? target.PutObject(dst, text, expire_at)
                          : target.PutString(dst, text, expire_at, hint))) {
    return;
  }
  // In the destination database, as Redis notifies COPY ... DB.
  const int target_db = static_cast<int>(target.db());
  if (replaced) NotifyKeyspaceEvent(ctx.server, kNotifyNew, "new", dst, target_db);  // as RENAME
  WakeBlocked(ctx, target.db(), dst, typed);
  NotifyKeyspaceEvent(ctx.server, kNotifyGeneric, "copy_to", dst, target_db);
  ctx.reply.Integer(1);
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them.
// clang-format off
constexpr CommandSpec kKeyspaceCommands[] = {
    {.name = "del", .arity = -2, .flags = kCmdWrite | kCmdLevelOption, .acl = kAclKeyspace,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRM | kKeyDelete)},
     .tips = "request_policy:multi_shard response_policy:agg_sum", .handler = DelCommand},
    {.name = "unlink", .arity = -2, .flags = kCmdWrite | kCmdFast | kCmdLevelOption,
     .acl = kAclKeyspace, .keys = {IndexRange(1, -1, 1, 0, kKeyRM | kKeyDelete)},
     .tips = "request_policy:multi_shard response_policy:agg_sum", .handler = DelCommand},
    {.name = "exists", .arity = -2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO)},
     .tips = "request_policy:multi_shard response_policy:agg_sum", .handler = ExistsCommand},
    {.name = "touch", .arity = -2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO)},
     .tips = "request_policy:multi_shard response_policy:agg_sum", .handler = TouchCommand},
    {.name = "expire", .arity = -3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = ExpireCommand},
    {.name = "pexpire", .arity = -3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = PExpireCommand},
    {.name = "expireat", .arity = -3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = ExpireAtCommand},
    {.name = "pexpireat", .arity = -3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = PExpireAtCommand},
    {.name = "ttl", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = TtlCommand},
    {.name = "pttl", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = PTtlCommand},
    {.name = "expiretime", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ExpireTimeCommand},
    {.name = "pexpiretime", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = PExpireTimeCommand},
    {.name = "persist", .arity = 2, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = PersistCommand},
    {.name = "type", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO)}, .handler = TypeCommand},
    {.name = "keys", .arity = 2, .flags = kCmdReadOnly | kCmdClusterWide, .acl = kAclKeyspace | kAclDangerous,
     .tips = "request_policy:all_shards nondeterministic_output_order", .handler = KeysCommand},
    {.name = "scan", .arity = -2, .flags = kCmdReadOnly | kCmdClusterWide, .acl = kAclKeyspace,
     .tips = "nondeterministic_output request_policy:special", .handler = ScanCommand},
    {.name = "dbsize", .arity = 1, .flags = kCmdReadOnly | kCmdFast | kCmdClusterWide, .acl = kAclKeyspace,
     .tips = "request_policy:all_shards response_policy:agg_sum", .handler = DbSizeCommand},
    {.name = "randomkey", .arity = 1, .flags = kCmdReadOnly | kCmdClusterWide, .acl = kAclKeyspace,
     .tips = "request_policy:all_shards nondeterministic_output", .handler = RandomKeyCommand},
    {.name = "flushall", .arity = -1, .flags = kCmdWrite | kCmdClusterWide, .acl = kAclKeyspace | kAclDangerous,
     .tips = "request_policy:all_shards response_policy:all_succeeded", .handler = FlushAllCommand},
    {.name = "flushdb", .arity = -1, .flags = kCmdWrite | kCmdClusterWide, .acl = kAclKeyspace | kAclDangerous,
     .tips = "request_policy:all_shards response_policy:all_succeeded",
     .handler = FlushDbCommand},
    {.name = "rename", .arity = 3, .flags = kCmdWrite, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyOW | kKeyUpdate)},
     .handler = RenameCommand},
    {.name = "renamenx", .arity = 3, .flags = kCmdWrite | kCmdFast, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyOW | kKeyInsert)},
     .handler = RenameNxCommand},
    {.name = "copy", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess), KeyAt(2, kKeyOW | kKeyUpdate)},
     .handler = CopyCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> KeyspaceCommands() { return kKeyspaceCommands; }

}  // namespace dynakv::server
