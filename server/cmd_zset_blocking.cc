// The blocking sorted set pops (Redis's bzpopMinMaxCommand, bzmpopCommand): BZPOPMIN BZPOPMAX
// BZMPOP. Each first does what its non-blocking twin does; with no set to pop from it blocks the
// client on the blocked-clients registry of the blocking list pops (list_blocking.h), and is
// re-run, FIFO per key, when a sorted set is written to one of its keys (ZADD, a store, RENAME,
// COPY). Timeouts are Redis's: seconds as a float, 0 = forever. In cluster mode the client waits in
// cluster_blocking.h, as the blocking list pops.

#include <span>
#include <string>
#include <string_view>

#include "blocking_command.h"
#include "client.h"
#include "command.h"
#include "list_blocking.h"
#include "server.h"
#include "zset_util.h"

namespace dynakv::server {

namespace {

const CommandSpec& SpecOf(CommandContext& ctx);

// BZPOPMIN/BZPOPMAX key [key ...] timeout
void BZPopGeneric(CommandContext& ctx, bool max) {
  std::uint64_t timeout_ms = 0;
  if (!ParseBlockTimeout(ctx, ctx.argv.back(), &timeout_ms)) return;
  const std::span<const std::string_view> keys(ctx.argv.begin() + 1, ctx.argv.end() - 1);
  if (ZPopGeneric(ctx, keys, max, -1, false, true, false)) {
    ctx.server.blocked_lists().Served(ctx.client);
    return;
  }
  ctx.server.blocked_lists().Block(ctx.client, ctx.reply, SpecOf(ctx), ctx.argv, keys, timeout_ms,
                                   false);
}

void BZPopMinCommand(CommandContext& ctx) { BZPopGeneric(ctx, false); }
void BZPopMaxCommand(CommandContext& ctx) { BZPopGeneric(ctx, true); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void BZMPopCommand(CommandContext& ctx) {
  std::uint64_t timeout_ms = 0;
  if (!ParseBlockTimeout(ctx, ctx.argv[1], &timeout_ms)) return;
  ZMPopArgs args;
  if (!ParseZMPop(ctx, 2, &args)) return;
  if (ZPopGeneric(ctx, args.keys, args.max, args.count, true, true, false)) {
    ctx.server.blocked_lists().Served(ctx.client);
    return;
  }
  ctx.server.blocked_lists().Block(ctx.client, ctx.reply, SpecOf(ctx), ctx.argv, args.keys,
                                   timeout_ms, false);
}

// clang-format off
constexpr CommandSpec kBlockingSortedSetCommands[] = {
    {.name = "bzpopmin", .arity = -3, .flags = kCmdWrite | kCmdNoScript | kCmdBlocking | kCmdFast,
     .acl = kAclSortedSet, .keys = {IndexRange(1, -2, 1, 0, kKeyRW | kKeyAccess | kKeyDelete)},
     .handler = BZPopMinCommand},
    {.name = "bzpopmax", .arity = -3, .flags = kCmdWrite | kCmdNoScript | kCmdBlocking | kCmdFast,
     .acl = kAclSortedSet, .keys = {IndexRange(1, -2, 1, 0, kKeyRW | kKeyAccess | kKeyDelete)},
     .handler = BZPopMaxCommand},
    // Its keys follow numkeys (Redis's movablekeys): no fixed range, as BLMPOP's.
    {.name = "bzmpop", .arity = -5, .flags = kCmdWrite | kCmdBlocking, .acl = kAclSortedSet,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = BZMPopCommand},
};
// clang-format on

const CommandSpec& SpecOf(CommandContext& ctx) {
  return RunningSpec(ctx, kBlockingSortedSetCommands);
}

}  // namespace

std::span<const CommandSpec> BlockingSortedSetCommands() { return kBlockingSortedSetCommands; }

}  // namespace dynakv::server
