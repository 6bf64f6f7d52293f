// Redis Cluster's rule for what one atomic request may touch in cluster mode: keys that all
// share one hash tag (cluster/hash_tag.h), and so one replica set. A transaction (MULTI/EXEC and
// its WATCHed keys) or a script (its declared KEYS) over keys of different tags gets CROSSSLOT,
// as Redis Cluster refuses keys of different slots.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace dynakv::server {

inline constexpr std::string_view kErrCrossSlot =
    "CROSSSLOT Keys in request don't hash to the same slot";

// The distinct keys a request names (its row's key specs, COMMAND GETKEYS's), in order.
std::vector<std::string> CommandKeys(const CommandSpec& spec,
                                     const std::vector<std::string_view>& argv);

// Whether every key has the same hash tag (true for none or one key).
bool SameHashTag(const std::vector<std::string>& keys);
bool SameHashTag(const std::vector<std::string_view>& keys);

// Appends the keys of `more` that `keys` lacks.
void AddDistinct(std::vector<std::string>* keys, const std::vector<std::string>& more);

}  // namespace dynakv::server
