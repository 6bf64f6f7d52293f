#include "redact.h"

#include "command_call.h"
#include "ascii.h"
#include "command.h"

namespace dynakv::server {

std::vector<bool> RedactedArguments(const ResolvedCommand& cmd,
                                    const std::vector<std::string_view>& argv) {
  const std::string_view name = cmd.spec->name;
  std::vector<bool> redacted;
  auto hide = [&](std::size_t i) {
    if (i >= argv.size()) return;
    if (redacted.empty()) redacted.resize(argv.size(), false);
    redacted[i] = true;
  };
  if (cmd.parent == nullptr && name == "auth") {
    for (std::size_t i = 1; i < argv.size(); ++i) hide(i);
  } else if (cmd.parent == nullptr && name == "hello") {
    for (std::size_t i = 2; i + 2 < argv.size(); ++i) {
      if (EqualsIgnoreCase(argv[i], "auth")) {
        hide(i + 1);
        hide(i + 2);
        i += 2;
      }
    }
  } else if (cmd.parent != nullptr && cmd.parent->name == "acl" && name == "setuser") {
    for (std::size_t i = 2; i < argv.size(); ++i) hide(i);  // the user's name too, as Redis
  } else if (cmd.parent != nullptr && cmd.parent->name == "config" && name == "set") {
    for (std::size_t i = 2; i + 1 < argv.size(); i += 2) {
      if (EqualsIgnoreCase(argv[i], "requirepass") || EqualsIgnoreCase(argv[i], "masterauth") ||
          EqualsIgnoreCase(argv[i], "tls-key-file-pass") ||
          EqualsIgnoreCase(argv[i], "cluster-secret")) {
        hide(i + 1);
      }
    }
  }
  return redacted;
}

}  // namespace dynakv::server
