// What the list command families (cmd_list.cc, cmd_list_blocking.cc) share: finding a key's
// list, applying one element operation, popping and pushing with the replies' copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "keyspace_access.h"
#include "types/list.h"
#include "types/ops.h"

namespace dynakv::server {

// Pops up to `count` elements from one end of `list` (the value of `key`) into *out, copied
// before the pop is applied; false when the keyspace refused (replied already). Fires the pop's
// keyspace events (NotifyPopped) unless `notify` is false.
bool PopElements(CommandContext& ctx, std::string_view key, const types::List& list, bool head,
                 std::size_t count, std::vector<std::string>* out, bool notify = true);
// The keyspace events of a pop: "lpop"/"rpop", then "del" when it emptied the list. LMOVE fires
// them after the push to its destination, as Redis does.
void NotifyPopped(CommandContext& ctx, std::string_view key, bool head);

// Pushes `elements` in turn at one end; *length gets the new length. Marks the key ready for
// clients blocked on it, and fires "lpush"/"rpush".
bool PushElements(CommandContext& ctx, std::string_view key, bool head,
                  std::span<const std::string_view> elements, std::int64_t* length);

// LEFT / RIGHT, as Redis's getListPositionFromObjectOrReply (syntax error otherwise).
bool ParseWhere(CommandContext& ctx, std::string_view arg, bool* head);

// LMPOP's arguments after numkeys (at argv[numkeys_idx]): keys, direction, COUNT.
struct MPopArgs {
  std::vector<std::string_view> keys;
  bool head = true;
  std::size_t count = 1;
};
// Parses them with Redis's checks and error texts; false when it replied an error.
bool ParseMPop(CommandContext& ctx, std::size_t numkeys_idx, MPopArgs* out);
// Pops from the first key holding a list and replies [key, [elements]]; true when it replied
// (that, WRONGTYPE or a refused write), false when every key was missing (nothing replied).
bool MPopFirst(CommandContext& ctx, const MPopArgs& args);

}  // namespace dynakv::server
