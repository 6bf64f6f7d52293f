// HyperLogLog commands (Redis's hyperloglog.c): PFADD PFCOUNT PFMERGE over string values in
// Redis's own representation (hyperloglog.h), so values and counts are byte for byte Redis's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "command.h"
#include "crdt/hyperloglog.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "server.h"
#include "string_value.h"

namespace dynakv::server {

namespace hll = crdt::hll;

namespace {

constexpr std::string_view kErrNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kErrCorruptHll = "INVALIDOBJ Corrupted HLL object detected";

std::size_t SparseMaxBytes(CommandContext& ctx) {
  return static_cast<std::size_t>(ctx.server.config().hll_sparse_max_bytes);
}

// Redis's isHLLObjectOrReply for a value that exists.
bool ValidOrReply(CommandContext& ctx, std::string_view value) {
  if (hll::LooksValid(value)) return true;
  ctx.reply.Error(kErrNotHll);
  return false;
}

// Whether adding the elements would change no register of an existing, valid HLL: most PFADDs
// to a well-filled one change nothing, and this answers them without copying the value.
bool AddsNothing(CommandContext& ctx, std::string_view hll) {
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    int index = 0;
    std::uint8_t count = 0;
    hll::PatternOf(ctx.argv[i], &index, &count);
    const int current = hll::Register(hll, index);
    // A sparse HLL turns dense for a run over 32 even where the register is already that high.
    const bool sparse_limit = hll::Encoding(hll) == hll::kSparse && count > 32;
    if (current < 0 || count > current || sparse_limit) return false;
  }
  return true;
}

void PfAddCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  {
    std::optional<StringView> current;
    if (!PeekString(ctx, key, &current)) return;
    if (current) {
      if (!ValidOrReply(ctx, current->bytes())) return;
      if (AddsNothing(ctx, current->bytes())) {
        ctx.reply.Integer(0);
        return;
      }
    }
  }
  StringValue value;
  if (!LoadStringForWrite(ctx, key, &value)) return;
  // Only the bytes that change are stored (and logged): a dense HLL's few registers and cache.
  const std::string old = value.bytes;
  int updated = 0;
  if (!value.exists) {
    value.bytes = hll::NewSparse();
    updated = 1;  // created: PFADD with no elements still answers 1
  } else if (!ValidOrReply(ctx, value.bytes)) {
    return;
  }
  const std::size_t max_bytes = SparseMaxBytes(ctx);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    const int result = hll::Add(&value.bytes, ctx.argv[i], max_bytes);
    if (result == 1) ++updated;
    if (result < 0) {
      // Redis keeps what the elements before the corrupt spot changed.
      if (updated > 0 && !StoreChangedString(ctx, key, old, value)) return;
      ctx.reply.Error(kErrCorruptHll);
      return;
    }
  }
  if (updated > 0) {
    hll::InvalidateCache(&value.bytes);
    if (!StoreChangedString(ctx, key, old, value)) return;
    NotifyKeyspaceEvent(ctx, kNotifyString, "pfadd", key);
  } else {
    ctx.keyspace.MarkStringRaw(key);  // Redis unshares it all the same
  }
  ctx.reply.Integer(updated > 0 ? 1 : 0);
}

// PFCOUNT of several keys: the cardinality of their union, nothing written.
void CountUnion(CommandContext& ctx) {
  std::string max(hll::kRegisters, '\0');
  auto* registers = reinterpret_cast<std::uint8_t*>(max.data());
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    std::optional<StringView> value;
    if (!ReadString(ctx, ctx.argv[i], &value)) return;
    if (!value) continue;  // a missing key is an empty HLL
    if (!ValidOrReply(ctx, value->bytes())) return;
    if (!hll::MergeInto(registers, value->bytes())) {
      ctx.reply.Error(kErrCorruptHll);
      return;
    }
  }
  ctx.reply.Integer(static_cast<long long>(hll::CountRaw(registers)));
}

void PfCountCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2) {
    CountUnion(ctx);
    return;
  }
  const std::string_view key = ctx.argv[1];
  std::optional<StringView> view;
  if (!ReadString(ctx, key, &view)) return;
  if (!view) {
    ctx.reply.Integer(0);
    return;
  }
  if (!ValidOrReply(ctx, view->bytes())) return;
  std::uint64_t card = 0;
  if (hll::CachedCardinality(view->bytes(), &card)) {
    ctx.reply.Integer(static_cast<long long>(card));
    return;
  }
  bool invalid = false;
  card = hll::Count(view->bytes(), &invalid);
  if (invalid) {
    ctx.reply.Error(kErrCorruptHll);
    return;
  }
  // On a single node the count is cached in the value, as Redis does (a GET shows it). It is
  // only a cache: a store the keyspace refuses leaves it stale, and the next PFCOUNT recomputes.
  // In cluster mode a read writes nothing: the cached copy would be a new version of the whole
  // value, racing (last-write-wins) with PFADDs through other nodes, so a read could undo a write.
  if (ctx.server.cluster_executor() == nullptr) {
    StringValue value;
    LoadStringForWrite(ctx, key, &value);
    if (value.exists) {
      // The 8 bytes of the cache alone are written (and logged).
      std::string cache = value.bytes.substr(8, 8);
      hll::SetCachedCardinality(&value.bytes, card);
      const std::string_view now = std::string_view(value.bytes).substr(8, 8);
      if (now != cache) {
        (void)ctx.keyspace.PatchString(key, {storage::BytePatch{8, now}});
      } else {
        ctx.keyspace.MarkStringRaw(key);  // Redis unshares it to update the cache
      }
    }
  }
  ctx.reply.Integer(static_cast<long long>(card));
}

void PfMergeCommand(CommandContext& ctx) {
  std::string max(hll::kRegisters, '\0');
  auto* registers = reinterpret_cast<std::uint8_t*>(max.data());
  bool use_dense = false;
  // Every key is a source, the destination (the first) included.
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    std::optional<StringView> value;
    if (!ReadString(ctx, ctx.argv[i], &value)) return;
    if (!value) continue;
    if (!ValidOrReply(ctx, value->bytes())) return;
    if (hll::Encoding(value->bytes()) == hll::kDense) use_dense = true;
    if (!hll::MergeInto(registers, value->bytes())) {
      ctx.reply.Error(kErrCorruptHll);
      return;
    }
  }
  const std::string_view key = ctx.argv[1];
  StringValue dest;
  if (!LoadStringForWrite(ctx, key, &dest)) return;
  const std::string old = dest.bytes;
  if (!dest.exists) dest.bytes = hll::NewSparse();
  // The result is dense when any input was.
  if (use_dense && !hll::SparseToDense(&dest.bytes)) {
    ctx.reply.Error(kErrCorruptHll);
    return;
  }
  const std::size_t max_bytes = SparseMaxBytes(ctx);
  for (int i = 0; i < hll::kRegisters; ++i) {
    if (registers[i] != 0) hll::Set(&dest.bytes, i, registers[i], max_bytes);
  }
  hll::InvalidateCache(&dest.bytes);
  if (!StoreChangedString(ctx, key, old, dest)) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "pfadd", key);
  ctx.reply.Ok();
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO). PFCOUNT
// is read-only there too, though it may store the cached count.
// clang-format off
constexpr CommandSpec kHyperLogLogCommands[] = {
    {.name = "pfadd", .arity = -2,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHyperLogLog, .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = PfAddCommand},
    {.name = "pfcount", .arity = -2, .flags = kCmdReadOnly, .acl = kAclHyperLogLog,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRW | kKeyAccess,
                         "RW because it may change the internal representation of the key, and "
                         "propagate to replicas")},
     .handler = PfCountCommand},
    {.name = "pfmerge", .arity = -2, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclHyperLogLog,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyInsert),
              IndexRange(2, -1, 1, 0, kKeyRO | kKeyAccess)},
     .handler = PfMergeCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> HyperLogLogCommands() { return kHyperLogLogCommands; }

}  // namespace dynakv::server
