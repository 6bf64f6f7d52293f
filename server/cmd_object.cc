// OBJECT and MEMORY (Redis's object.c): what a key's value is made of and what it costs here.
// Looking at a key this way is not an access (Redis's LOOKUP_NOTOUCH): it does not change
// its idle time nor count as a keyspace hit or miss.

#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "ascii.h"
#include "clock.h"
#include "command.h"
#include "config.h"
#include "debug_commands.h"
#include "keyspace.h"
#include "memory_commands.h"
#include "number_parse.h"
#include "rdb/value.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::server {

namespace {

// Redis shares the string objects of the integers 0..9999 (OBJ_SHARED_INTEGERS) unless an LRU
// or LFU policy needs a per-key access time; a shared object's REFCOUNT is INT_MAX.
constexpr long long kSharedIntegers = 10000;
constexpr long long kSharedRefcount = std::numeric_limits<std::int32_t>::max();

constexpr std::string_view kErrLfuNotSelected =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust.";
constexpr std::string_view kErrLfuSelected =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Runs `fn` on the value of `key` without counting as an access (Redis's LOOKUP_NOTOUCH): the
// engine's Get touches, so the idle time the key had is put back after `fn` (the value is valid
// only until the next keyspace call). False when there is no such key.
template <typename Fn>
bool WithoutTouch(CommandContext& ctx, std::string_view key, Fn&& fn) {
  const std::optional<storage::KeyUsage> before = ctx.keyspace.Inspect(key);
  if (!before) return false;
  std::optional<storage::ValueRef> value = ctx.keyspace.Get(key);
  if (!value) return false;
  fn(*value);
  if (storage::IsLfuPolicy(ctx.server.config().maxmemory_policy)) {
    ctx.keyspace.SetLfuFrequency(key, before->lfu_frequency);
  } else {
    ctx.keyspace.SetIdleTime(key, before->idle_seconds);
  }
  return true;
}

// Whether a string is the canonical text of a long (string2l), which tryObjectEncoding makes an
// "int" object.
bool IsLongText(const storage::ValueRef& value) {
  if (value.size() > 20) return false;  // Redis does not look at longer ones
  char text[20];
  value.CopyTo(text);
  long long ignored;
  return ParseLongLong(std::string_view(text, value.size()), &ignored);
}

// Redis's encodings of a string: an integer it can hold as a long, a short ("embstr") or a long
// ("raw") string, as the command that wrote it made the object (StringHint, keyspace.h).
std::string_view StringEncoding(const storage::ValueRef& value) {
  constexpr std::size_t kEmbstrLimit = 44;  // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
  const auto hint = static_cast<StringHint>(value.hint());
  if (hint == kStringRaw) return "raw";
  if ((hint == kStringAsSet || hint == kStringCopied) && IsLongText(value)) return "int";
  return value.size() <= kEmbstrLimit ? "embstr" : "raw";
}

std::string_view EncodingOf(const storage::ValueRef& value) {
  if (const auto* hash = dynamic_cast<const types::Hash*>(value.object())) {
    return hash->EncodingName();
  }
  if (const auto* set = dynamic_cast<const types::Set*>(value.object())) return set->EncodingName();
  if (const auto* list = dynamic_cast<const types::List*>(value.object())) {
    return list->EncodingName();
  }
  if (const auto* zset = dynamic_cast<const types::SortedSet*>(value.object())) {
    return zset->EncodingName();
  }
  return StringEncoding(value);
}

void ObjectEncoding(CommandContext& ctx) {
  std::string_view encoding;
  if (!WithoutTouch(ctx, ctx.argv[2],
                    [&](const storage::ValueRef& value) { encoding = EncodingOf(value); })) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(encoding);
}

// Values here are never shared between keys, except that Redis's answer for a small integer
// string is its shared object's (every string value is counted once either way). RENAME, MOVE
// and SWAPDB move Redis's object, keeping the hint; COPY's copy is an object of its own
// (kStringCopied); RESTORE and loading re-encode by the bytes (kStringAsSet).
long long RefcountOf(const Config& config, const storage::ValueRef& value) {
  // MAXMEMORY_FLAG_NO_SHARED_INTEGERS: the LRU and LFU policies (offload's order is LRU, tinylfu's
  // frequency) need a per-key access time or counter; noeviction, TTL and random ones do not.
  using storage::EvictionPolicy;
  const EvictionPolicy policy = config.maxmemory_policy;
  const bool sharing = config.maxmemory == 0 || policy == EvictionPolicy::kNoEviction ||
                       policy == EvictionPolicy::kVolatileTtl ||
                       policy == EvictionPolicy::kAllKeysRandom ||
                       policy == EvictionPolicy::kVolatileRandom;
  // Only tryObjectEncoding (SET's rule) hands out the shared objects.
  if (!sharing || value.object() != nullptr || value.size() > 4 || value.hint() != kStringAsSet) {
    return 1;
  }
  const std::string text = value.ToString();
  long long n = 0;
  const bool shared =
      ParseLongLong(text, &n) && n >= 0 && n < kSharedIntegers && std::to_string(n) == text;
  return shared ? kSharedRefcount : 1;
}

void ObjectRefcount(CommandContext& ctx) {
  long long refcount = 1;
  const bool found = WithoutTouch(ctx, ctx.argv[2], [&](const storage::ValueRef& value) {
    refcount = RefcountOf(ctx.server.config(), value);
  });
  if (!found) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Integer(refcount);
}

// Under an LFU policy an entry's access bits hold its frequency counter, not its access time
// (as Redis's lru field does): each answer is known under one kind of policy only.
void ObjectIdletime(CommandContext& ctx) {
  const std::optional<storage::KeyUsage> usage = ctx.keyspace.Inspect(ctx.argv[2]);
  if (!usage) {
    ctx.reply.Null();
    return;
  }
  if (storage::IsLfuPolicy(ctx.server.config().maxmemory_policy)) {
    ctx.reply.Error(kErrLfuSelected);
    return;
  }
  ctx.reply.Integer(usage->idle_seconds);
}

void ObjectFreq(CommandContext& ctx) {
  const std::optional<storage::KeyUsage> usage = ctx.keyspace.Inspect(ctx.argv[2]);
  if (!usage) {
    ctx.reply.Null();
    return;
  }
  if (!storage::IsLfuPolicy(ctx.server.config().maxmemory_policy)) {
    ctx.reply.Error(kErrLfuNotSelected);
    return;
  }
  ctx.reply.Integer(usage->lfu_frequency);
}

void ObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

}  // namespace

// DEBUG OBJECT key (listed by DEBUG's table, debug_commands.h): Redis 7.0's line, the serialized
// length being the value's RDB encoding, the LRU clock Redis's 24-bit seconds, and for a list
// the quicklist fields of the nodes Redis would split it into (list-max-listpack-size).
void DebugObject(CommandContext& ctx) {
  std::string line;
  const std::optional<storage::KeyUsage> usage = ctx.keyspace.Inspect(ctx.argv[2]);
  const bool found = WithoutTouch(ctx, ctx.argv[2], [&](const storage::ValueRef& value) {
    rdb::EncodeOptions options;
    if (const types::TypesCodec* codec = ctx.server.codec()) {
      options.list_max_listpack_size = codec->limits().list_max_listpack_size;
    }
    std::string body;
    if (value.object() != nullptr) {
      rdb::EncodeObject(*value.object(), options, &body);
    } else {
      rdb::EncodeString(value.ToString(), options, &body);
    }
    const std::int64_t idle = usage ? usage->idle_seconds : 0;
    const long long lru = ((NowMs() / 1000) - idle) & ((1 << 24) - 1);
    char text[256];
    std::snprintf(text, sizeof(text),
                  "Value at:%p refcount:%lld encoding:%.*s serializedlength:%zu lru:%lld "
                  "lru_seconds_idle:%lld",
                  static_cast<const void*>(&value), RefcountOf(ctx.server.config(), value),
                  static_cast<int>(EncodingOf(value).size()), EncodingOf(value).data(),
                  body.empty() ? 0 : body.size() - 1, lru, static_cast<long long>(idle));
    line = text;
    if (const auto* list = dynamic_cast<const types::List*>(value.object())) {
      const std::vector<rdb::ListNode> nodes =
          rdb::ListNodes(*list, options.list_max_listpack_size);
      std::size_t bytes = 0;
      for (const rdb::ListNode& node : nodes) bytes += node.bytes;
      const Config& config = ctx.server.config();
      std::snprintf(text, sizeof(text),
                    " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%lld ql_compressed:%d "
                    "ql_uncompressed_size:%zu",
                    nodes.size(),
                    nodes.empty()
                        ? 0.0
                        : static_cast<double>(list->size()) / static_cast<double>(nodes.size()),
                    config.list_max_listpack_size, config.list_compress_depth != 0 ? 1 : 0, bytes);
      line += text;
    }
  });
  if (!found) {
    ctx.reply.Error("ERR no such key");
    return;
  }
  ctx.reply.Simple(line);
}

namespace {

// MEMORY USAGE key [SAMPLES count]: the exact count, whatever SAMPLES says (a typed value keeps
// its memory as a running total, so nothing needs sampling). The options are checked as Redis
// checks them.
void MemoryUsage(CommandContext& ctx) {
  for (std::size_t j = 3; j < ctx.argv.size(); ++j) {
    if (EqualsIgnoreCase(ctx.argv[j], "samples") && j + 1 < ctx.argv.size()) {
      long long samples = 0;
      if (!ParseLongLong(ctx.argv[j + 1], &samples)) {
        ctx.reply.Error(kErrNotInteger);
        return;
      }
      if (samples < 0) {
        ctx.reply.Error(kErrSyntax);
        return;
      }
      ++j;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  const std::optional<storage::KeyUsage> usage = ctx.keyspace.Inspect(ctx.argv[2]);
  if (!usage) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Integer(static_cast<long long>(usage->memory_bytes));
}

void MemoryHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them.
// clang-format off
constexpr CommandSpec kObjectSubcommands[] = {
    {.name = "encoding", .arity = 3, .flags = kCmdReadOnly, .acl = kAclKeyspace,
     .keys = {KeyAt(2, kKeyRO)}, .tips = "nondeterministic_output", .handler = ObjectEncoding},
    {.name = "refcount", .arity = 3, .flags = kCmdReadOnly, .acl = kAclKeyspace,
     .keys = {KeyAt(2, kKeyRO)}, .tips = "nondeterministic_output", .handler = ObjectRefcount},
    {.name = "idletime", .arity = 3, .flags = kCmdReadOnly, .acl = kAclKeyspace,
     .keys = {KeyAt(2, kKeyRO)}, .tips = "nondeterministic_output", .handler = ObjectIdletime},
    {.name = "freq", .arity = 3, .flags = kCmdReadOnly, .acl = kAclKeyspace,
     .keys = {KeyAt(2, kKeyRO)}, .tips = "nondeterministic_output", .handler = ObjectFreq},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclKeyspace,
     .handler = ObjectHelp},
};

constexpr CommandSpec kMemorySubcommands[] = {
    {.name = "usage", .arity = -3, .flags = kCmdReadOnly, .keys = {KeyAt(2, kKeyRO)},
     .handler = MemoryUsage},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = MemoryHelp},
    {.name = "stats", .arity = 2,
     .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
     .handler = MemoryStats},
    {.name = "doctor", .arity = 2,
     .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
     .handler = MemoryDoctor},
    {.name = "malloc-stats", .arity = 2,
     .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
     .handler = MemoryMallocStats},
    {.name = "purge", .arity = 2,
     .tips = "request_policy:all_shards response_policy:all_succeeded", .handler = MemoryPurge},
};

constexpr CommandSpec kObjectCommands[] = {
    {.name = "object", .arity = -2, .subcommands = kObjectSubcommands},
    {.name = "memory", .arity = -2, .subcommands = kMemorySubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ObjectCommands() { return kObjectCommands; }

}  // namespace dynakv::server
