// Consistency levels chosen by clients in cluster mode: per connection with CONSISTENCY, per
// request with a trailing option on the commands whose row has kCmdLevelOption (command.h):
//
//   GET key R <level>                     VGET key R <level>
//   SET key value [SET options] W <level> VSET key value CONTEXT token [EX s|PX ms] W <level>
//   DEL key [key ...] W <level>           UNLINK key [key ...] W <level>
//   INCR key W <level>, and so INCRBY, DECR, DECRBY (counters: cluster_counters.h)
//
// When the second-to-last argument of such a request is R (a readonly command) or W (a write),
// any case, the last two arguments are the option, stripped before the command runs; a key
// literally named "W" cannot be the second-to-last argument of DEL there. A command of fixed
// arity takes the option only as its two extra arguments, a variadic one after at least its
// minimum. <level> is ONE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or a replica count.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/consistency_level.h"
#include "command.h"

namespace dynakv::server {

struct RequestLevels {
  std::optional<cluster::ConsistencyLevel> read;
  std::optional<cluster::ConsistencyLevel> write;
};

// Sets *argc to the number of arguments the command keeps (argv.size() when there is no option).
// False with *error for a malformed level.
bool StripRequestLevels(const CommandSpec& spec, const std::vector<std::string_view>& argv,
                        int replication_factor, std::size_t* argc, RequestLevels* levels,
                        std::string* error);
// The same for the command named `command` (lower case; none: no option), for tools and tests.
bool StripRequestLevels(std::string_view command, const std::vector<std::string_view>& argv,
                        int replication_factor, std::size_t* argc, RequestLevels* levels,
                        std::string* error);

// A level argument of CONSISTENCY or of an option. A replica count above the replication factor
// could never be met, so it is refused here rather than failing every request.
bool ParseLevelArgument(std::string_view text, int replication_factor,
                        cluster::ConsistencyLevel* level, std::string* error);

}  // namespace dynakv::server
