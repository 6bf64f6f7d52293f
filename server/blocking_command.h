// What the blocking command families (cmd_list_blocking.cc, cmd_zset_blocking.cc) share: the
// timeout argument and finding the running command's row, which a blocked client is re-run by
// (list_blocking.h; cluster_blocking.h in cluster mode).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "command.h"

namespace dynakv::server {

// Redis's getTimeoutFromObjectOrReply in seconds: milliseconds, 0 = forever; false when it
// replied the error.
bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, std::uint64_t* timeout_ms);
// The same without a reply: false with Redis's error text in *error.
bool BlockTimeoutMs(std::string_view arg, std::uint64_t* timeout_ms, std::string* error);

// The row of `table` naming the running command (argv[0], any case); the first row when none does.
const CommandSpec& RunningSpec(CommandContext& ctx, std::span<const CommandSpec> table);

}  // namespace dynakv::server
