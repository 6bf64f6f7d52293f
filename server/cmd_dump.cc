// DUMP and RESTORE (Redis's cluster.c) in Redis's own payload format (rdb/): a key moves between
// this store and Redis unchanged, by MIGRATE from a Redis server or by any tool that carries
// DUMP payloads (redis-shake, RIOT).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "ascii.h"
#include "clock.h"
#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "list_blocking.h"
#include "notify.h"
#include "number_parse.h"
#include "rdb/dump_payload.h"
#include "rdb/value.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

namespace {

types::TypeLimits Limits(CommandContext& ctx) {
  const types::TypesCodec* codec = ctx.server.codec();
  return codec != nullptr ? codec->limits() : types::TypeLimits{};
}

void DumpCommand(CommandContext& ctx) {
  std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1]);
  if (!value) {
    ctx.reply.Null();
    return;
  }
  rdb::EncodeOptions options;
  options.list_max_listpack_size = Limits(ctx).list_max_listpack_size;
  std::string body;
  if (value->object() != nullptr) {
    rdb::EncodeObject(*value->object(), options, &body);
  } else {
    rdb::EncodeString(value->ToString(), options, &body);
  }
  ctx.reply.Bulk(rdb::MakeDumpPayload(body));
}

struct RestoreOptions {
  bool replace = false;
  bool absttl = false;
  std::optional<long long> idle_seconds;
  std::optional<int> frequency;
};

// Redis's option loop: IDLETIME and FREQ exclude each other (the second is a syntax error).
bool ParseRestoreOptions(CommandContext& ctx, RestoreOptions* options) {
  bool freq = false;
  for (std::size_t j = 4; j < ctx.argv.size(); ++j) {
    const std::size_t additional = ctx.argv.size() - j - 1;
    const std::string_view arg = ctx.argv[j];
    if (EqualsIgnoreCase(arg, "replace")) {
      options->replace = true;
    } else if (EqualsIgnoreCase(arg, "absttl")) {
      options->absttl = true;
    } else if (EqualsIgnoreCase(arg, "idletime") && additional >= 1 && !freq) {
      long long idle = 0;
      if (!ParseLongLong(ctx.argv[j + 1], &idle)) {
        ctx.reply.Error(kErrNotInteger);
        return false;
      }
      if (idle < 0) {
        ctx.reply.Error("ERR Invalid IDLETIME value, must be >= 0");
        return false;
      }
      options->idle_seconds = idle;
      ++j;
    } else if (EqualsIgnoreCase(arg, "freq") && additional >= 1 && !options->idle_seconds) {
      long long f = 0;
      if (!ParseLongLong(ctx.argv[j + 1], &f)) {
        ctx.reply.Error(kErrNotInteger);
        return false;
      }
      if (f < 0 || f > 255) {
        ctx.reply.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return false;
      }
      options->frequency = static_cast<int>(f);
      freq = true;
      ++j;
    } else {
      ctx.reply.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
// Checks in Redis's order: options, an existing key, the TTL, the payload's footer, its value.
void RestoreCommand(CommandContext& ctx) {
  RestoreOptions options;
  if (!ParseRestoreOptions(ctx, &options)) return;
  const std::string_view key = ctx.argv[1];
  if (!options.replace && ctx.keyspace.Exists(key)) {
    ctx.reply.Error("BUSYKEY Target key name already exists.");
    return;
  }
  long long ttl = 0;
  if (!ParseLongLong(ctx.argv[2], &ttl)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  if (ttl < 0) {
    ctx.reply.Error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  std::string_view body;
  if (!rdb::OpenDumpPayload(ctx.argv[3], &body)) {
    ctx.reply.Error("ERR DUMP payload version or checksum are wrong");
    return;
  }
  rdb::DecodedValue value;
  const rdb::DecodeError error = rdb::DecodeTypedValue(&body, Limits(ctx), &value);
  if (error == rdb::DecodeError::kUnsupported) {
    std::string text = "ERR Bad data format: the payload holds a ";
    text.append(rdb::ObjectTypeName(value.type));
    text.append(" value, a type this server does not store");
    ctx.reply.Error(text);
    return;
  }
  if (error != rdb::DecodeError::kNone) {
    ctx.reply.Error("ERR Bad data format");
    return;
  }

  const std::int64_t now = NowMs();
  std::int64_t expire_at = ttl;
  if (ttl != 0 && !options.absttl) {
    expire_at = ttl > std::numeric_limits<std::int64_t>::max() - now
                    ? std::numeric_limits<std::int64_t>::max()
                    : now + ttl;
  }
  if (expire_at != 0 && expire_at <= now) {
    // Already expired: Redis stores nothing, and REPLACE still removes the old key ("del").
    if (options.replace && ctx.keyspace.Delete(key)) {
      NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
    }
    ctx.reply.Ok();
    return;
  }
  const bool typed = value.object != nullptr;
  // Redis counts the payloads whose encoded structures it checked in full (deep sanitization);
  // a typed value here is always decoded element by element, never taken as is.
  if (typed) ++ctx.server.stats().dump_payload_sanitizations;
  storage::Status status;
  if (typed) {
    std::string serialized;
    value.object->Serialize(&serialized);
    status = ctx.keyspace.PutObject(key, serialized, expire_at);
  } else {
    status = ctx.keyspace.Put(key, value.string, expire_at);
  }
  if (!WriteOk(ctx, status)) return;
  // As Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy and IDLETIME under any other;
  // the other one is dropped.
  if (storage::IsLfuPolicy(ctx.server.config().maxmemory_policy)) {
    if (options.frequency) ctx.keyspace.SetLfuFrequency(key, *options.frequency);
  } else if (options.idle_seconds) {
    ctx.keyspace.SetIdleTime(key, *options.idle_seconds);
  }
  // A list or sorted set landing on a key wakes the clients blocked on it, as Redis's dbAdd
  // signals the key ready (single-node mode).
  if (typed && ctx.server.cluster_executor() == nullptr) {
    ctx.server.blocked_lists().SignalReady(ctx.keyspace.db(), key);
  }
  NotifyKeyspaceEvent(ctx, kNotifyGeneric, "restore", key);
  ctx.reply.Ok();
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them. RESTORE-ASKING is what
// a Redis Cluster node's MIGRATE sends; without slots to ask about it is RESTORE.
// clang-format off
constexpr CommandSpec kDumpCommands[] = {
    {.name = "dump", .arity = 2, .flags = kCmdReadOnly, .acl = kAclKeyspace,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = DumpCommand},
    {.name = "restore", .arity = -4, .flags = kCmdWrite | kCmdDenyOom,
     .acl = kAclKeyspace | kAclDangerous, .keys = {KeyAt(1, kKeyOW | kKeyUpdate)},
     .handler = RestoreCommand},
    {.name = "restore-asking", .arity = -4, .flags = kCmdWrite | kCmdDenyOom | kCmdAsking,
     .acl = kAclKeyspace | kAclDangerous, .keys = {KeyAt(1, kKeyOW | kKeyUpdate)},
     .handler = RestoreCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> DumpCommands() { return kDumpCommands; }

}  // namespace dynakv::server
