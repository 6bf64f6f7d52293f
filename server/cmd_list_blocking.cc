// The blocking list commands (Redis's t_list.c blocking half): BLPOP BRPOP BLMOVE BRPOPLPUSH
// BLMPOP. Each first tries what its non-blocking twin does; with nothing to pop it blocks the
// client (list_blocking.h) without replying, and is re-run when a push makes one of its keys
// ready. Timeouts are Redis's: seconds as a float, 0 = forever.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blocking_command.h"
#include "client.h"
#include "command.h"
#include "keyspace.h"
#include "list_access.h"
#include "list_blocking.h"
#include "notify.h"
#include "server.h"

namespace dynakv::server {

namespace {

const CommandSpec& SpecOf(CommandContext& ctx);

void Block(CommandContext& ctx, std::span<const std::string_view> keys, std::uint64_t timeout_ms,
           bool null_bulk) {
  ctx.server.blocked_lists().Block(ctx.client, ctx.reply, SpecOf(ctx), ctx.argv, keys, timeout_ms,
                                   null_bulk);
}

// BLPOP/BRPOP key [key ...] timeout
void BlockingPopGeneric(CommandContext& ctx, bool head) {
  std::uint64_t timeout_ms = 0;
  if (!ParseBlockTimeout(ctx, ctx.argv.back(), &timeout_ms)) return;
  const std::span<const std::string_view> keys(ctx.argv.begin() + 1, ctx.argv.end() - 1);
  for (std::string_view key : keys) {
    const auto found = LookupTyped<types::List>(ctx, key, false);
    if (found.wrong_type) return;
    if (found.value == nullptr) continue;
    std::vector<std::string> popped;
    if (!PopElements(ctx, key, *found.value, head, 1, &popped)) return;
    ctx.server.blocked_lists().Served(ctx.client);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(key);
    ctx.reply.Bulk(popped.front());
    return;
  }
  Block(ctx, keys, timeout_ms, false);
}

void BLPopCommand(CommandContext& ctx) { BlockingPopGeneric(ctx, true); }
void BRPopCommand(CommandContext& ctx) { BlockingPopGeneric(ctx, false); }

// BLMOVE's body: LMOVE when the source holds a list, else block on the source.
void BlockingMoveGeneric(CommandContext& ctx, bool from_head, bool to_head,
                         std::string_view timeout) {
  std::uint64_t timeout_ms = 0;
  if (!ParseBlockTimeout(ctx, timeout, &timeout_ms)) return;
  const std::string_view source = ctx.argv[1];
  const std::string_view destination = ctx.argv[2];
  const auto found = LookupTyped<types::List>(ctx, source, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    Block(ctx, std::span(&source, 1), timeout_ms, true);
    return;
  }
  if (source != destination) {
    const auto target = LookupTyped<types::List>(ctx, destination, false);
    if (target.wrong_type) return;
  }
  const auto again =
      LookupTyped<types::List>(ctx, source, false);  // the destination lookup moved it
  std::vector<std::string> popped;
  if (source == destination && again.value->size() == 1) {
    // Rotating a one-element list onto itself leaves it as it is. Popping first would delete
    // the emptied key and the push recreate it without its expiry; Redis pushes before it
    // deletes an emptied source, so the list (and its TTL) stays.
    popped.emplace_back(again.value->At(0));
    NotifyKeyspaceEvent(ctx, kNotifyList, to_head ? "lpush" : "rpush", destination);
    NotifyKeyspaceEvent(ctx, kNotifyList, from_head ? "lpop" : "rpop", source);
  } else {
    if (!PopElements(ctx, source, *again.value, from_head, 1, &popped, /*notify=*/false)) return;
    const std::string_view element = popped.front();
    std::int64_t length = 0;
    if (!PushElements(ctx, destination, to_head, std::span(&element, 1), &length)) return;
    NotifyPopped(ctx, source, from_head);
  }
  ctx.server.blocked_lists().Served(ctx.client);
  ctx.reply.Bulk(popped.front());
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void BLMoveCommand(CommandContext& ctx) {
  bool from_head = false;
  bool to_head = false;
  if (!ParseWhere(ctx, ctx.argv[3], &from_head) || !ParseWhere(ctx, ctx.argv[4], &to_head)) return;
  BlockingMoveGeneric(ctx, from_head, to_head, ctx.argv[5]);
}

// BRPOPLPUSH source destination timeout
void BRPopLPushCommand(CommandContext& ctx) { BlockingMoveGeneric(ctx, false, true, ctx.argv[3]); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void BLMPopCommand(CommandContext& ctx) {
  std::uint64_t timeout_ms = 0;
  if (!ParseBlockTimeout(ctx, ctx.argv[1], &timeout_ms)) return;
  MPopArgs args;
  if (!ParseMPop(ctx, 2, &args)) return;
  if (MPopFirst(ctx, args)) {
    ctx.server.blocked_lists().Served(ctx.client);
    return;
  }
  Block(ctx, args.keys, timeout_ms, false);
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// clang-format off
constexpr CommandSpec kBlockingListCommands[] = {
    {.name = "blpop", .arity = -3, .flags = kCmdWrite | kCmdNoScript | kCmdBlocking,
     .acl = kAclList, .keys = {IndexRange(1, -2, 1, 0, kKeyRW | kKeyAccess | kKeyDelete)},
     .handler = BLPopCommand},
    {.name = "brpop", .arity = -3, .flags = kCmdWrite | kCmdNoScript | kCmdBlocking,
     .acl = kAclList, .keys = {IndexRange(1, -2, 1, 0, kKeyRW | kKeyAccess | kKeyDelete)},
     .handler = BRPopCommand},
    {.name = "blmove", .arity = 6, .flags = kCmdWrite | kCmdDenyOom | kCmdNoScript | kCmdBlocking,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyRW | kKeyInsert)},
     .handler = BLMoveCommand},
    {.name = "brpoplpush", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdNoScript | kCmdBlocking, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyRW | kKeyInsert)},
     .handler = BRPopLPushCommand},
    // Its keys follow numkeys (Redis's movablekeys): no fixed range.
    {.name = "blmpop", .arity = -5, .flags = kCmdWrite | kCmdBlocking, .acl = kAclList,
     .keys = {IndexKeynum(2, 0, 1, 1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = BLMPopCommand},
};
// clang-format on

const CommandSpec& SpecOf(CommandContext& ctx) { return RunningSpec(ctx, kBlockingListCommands); }

}  // namespace

std::span<const CommandSpec> BlockingListCommands() { return kBlockingListCommands; }

}  // namespace dynakv::server
