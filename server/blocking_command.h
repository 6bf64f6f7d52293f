// What the blocking command families (cmd_list_blocking.cc, cmd_zset_blocking.cc) share: the
// timeout argument, the cluster-mode refusal and finding the running command's row, which a
// blocked client is re-run by (list_blocking.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "command.h"

namespace dynakv::server {

// Redis's getTimeoutFromObjectOrReply in seconds: milliseconds, 0 = forever; false when it
// replied the error.
bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, std::uint64_t* timeout_ms);

// In cluster mode a blocking command cannot wait on replicas' writes yet (README: Lists): replies
// the error naming `name` and returns true.
bool RefusedInCluster(CommandContext& ctx, std::string_view name);

// The row of `table` naming the running command (argv[0], any case); the first row when none does.
const CommandSpec& RunningSpec(CommandContext& ctx, std::span<const CommandSpec> table);

}  // namespace dynakv::server
