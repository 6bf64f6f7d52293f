#include "list_access.h"

#include <algorithm>
#include <string>

#include "ascii.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "server.h"

namespace dynakv::server {

// Pops `count` elements from one end (the list holds at least that many), copying them out
// first: the reply needs them and the pop invalidates the list's views.
bool PopElements(CommandContext& ctx, std::string_view key, const types::List& list, bool head,
                 std::size_t count, std::vector<std::string>* out, bool notify) {
  count = std::min(count, list.size());
  out->reserve(count);
  if (head) {
    list.ForRange(0, count, [&](std::string_view e) {
      out->emplace_back(e);
      return true;
    });
  } else {
    list.ForEachReverse([&](std::string_view e) {
      out->emplace_back(e);
      return out->size() < count;
    });
  }
  types::OpBuilder op(head ? types::OpCode::kListPopFront : types::OpCode::kListPopBack, 1);
  op.Add(std::to_string(count));
  std::int64_t popped = 0;
  if (!ApplyElementOp(ctx, key, op, &popped)) return false;
  if (notify) NotifyPopped(ctx, key, head);
  return true;
}

void NotifyPopped(CommandContext& ctx, std::string_view key, bool head) {
  NotifyKeyspaceEvent(ctx, kNotifyList, head ? "lpop" : "rpop", key);
  NotifyIfEmptied(ctx, key);
}

// Pushes `elements` in turn at one end; *length gets the new length.
bool PushElements(CommandContext& ctx, std::string_view key, bool head,
                  std::span<const std::string_view> elements, std::int64_t* length) {
  types::OpBuilder op(head ? types::OpCode::kListPushFront : types::OpCode::kListPushBack,
                      elements.size());
  for (std::string_view e : elements) op.Add(e);
  if (!ApplyElementOp(ctx, key, op, length)) return false;
  NotifyKeyspaceEvent(ctx, kNotifyList, head ? "lpush" : "rpush", key);
  // Single-node mode: clients blocked on the key are served after this command.
  if (ctx.server.cluster_executor() == nullptr) ctx.server.blocked_lists().SignalReady(ctx.keyspace.db(), key);
  return true;
}

// LEFT / RIGHT, as Redis's getListPositionFromObjectOrReply.
bool ParseWhere(CommandContext& ctx, std::string_view arg, bool* head) {
  if (EqualsIgnoreCase(arg, "left")) {
    *head = true;
  } else if (EqualsIgnoreCase(arg, "right")) {
    *head = false;
  } else {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  return true;
}

bool ParseMPop(CommandContext& ctx, std::size_t numkeys_idx, MPopArgs* out) {
  long long numkeys = 0;
  if (!ParseLongLong(ctx.argv[numkeys_idx], &numkeys) || numkeys < 1) {
    ctx.reply.Error("ERR numkeys should be greater than 0");
    return false;
  }
  const auto room = static_cast<long long>(ctx.argv.size() - numkeys_idx) - 1;
  if (numkeys >= room) {  // no room for the keys and the direction
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  const std::size_t where_idx = numkeys_idx + static_cast<std::size_t>(numkeys) + 1;
  if (!ParseWhere(ctx, ctx.argv[where_idx], &out->head)) return false;
  long long count = -1;
  for (std::size_t j = where_idx + 1; j < ctx.argv.size(); ++j) {
    if (count == -1 && j + 1 < ctx.argv.size() && EqualsIgnoreCase(ctx.argv[j], "count")) {
      if (!ParseLongLong(ctx.argv[++j], &count) || count < 1) {
        ctx.reply.Error("ERR count should be greater than 0");
        return false;
      }
    } else {
      ctx.reply.Error(kErrSyntax);
      return false;
    }
  }
  out->count = count == -1 ? 1 : static_cast<std::size_t>(count);
  out->keys.assign(ctx.argv.begin() + static_cast<long>(numkeys_idx) + 1,
                   ctx.argv.begin() + static_cast<long>(where_idx));
  return true;
}

bool MPopFirst(CommandContext& ctx, const MPopArgs& args) {
  for (std::string_view key : args.keys) {
    const auto found = LookupTyped<types::List>(ctx, key, false);
    if (found.wrong_type) return true;
    if (found.value == nullptr) continue;
    std::vector<std::string> popped;
    if (!PopElements(ctx, key, *found.value, args.head, args.count, &popped)) return true;
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(key);
    ctx.reply.ArrayHeader(popped.size());
    for (const std::string& e : popped) ctx.reply.Bulk(e);
    return true;
  }
  return false;
}

}  // namespace dynakv::server
