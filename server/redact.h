// Arguments Redis 7.0 never shows in SLOWLOG or MONITOR (redactClientCommandArgument): AUTH's,
// HELLO's AUTH pair, ACL SETUSER's rules, and the values CONFIG SET gives to secrets.
#pragma once

#include <string_view>
#include <vector>

namespace dynakv::server {

struct ResolvedCommand;

// Which arguments of `argv` to show as "(redacted)"; empty when none.
std::vector<bool> RedactedArguments(const ResolvedCommand& cmd,
                                    const std::vector<std::string_view>& argv);

}  // namespace dynakv::server
