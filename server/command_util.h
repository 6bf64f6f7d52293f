// Small pieces shared by the connection and server command families.
#pragma once

#include <cctype>
#include <span>
#include <string>
#include <string_view>

#include "ascii.h"
#include "command.h"
#include "command_table.h"

namespace dynakv::server {

// The Redis version dynakv answers as (INFO, HELLO): clients pick features by it.
inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

inline constexpr std::string_view kErrClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";


// A database index as Redis's getIntFromObjectOrReply reads one (SELECT, MOVE, SWAPDB): false,
// having replied, for a non-integer ("value is not an integer or out of range") or one outside
// 32 bits ("value is out of range, value must between ..."), or `error` for both when it is set.
bool ParseDbIndexOrReply(CommandContext& ctx, std::string_view arg, std::string_view error,
                         long long* db);

// Client names and CLIENT SETINFO values: printable ASCII without spaces, as in Redis.
inline bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// One subcommand of a container command (CLIENT, CONFIG, COMMAND, DEBUG).
struct Subcommand {
  std::string_view name;  // lower case
  int arity;              // Redis convention, counting the container and the subcommand
  void (*handler)(CommandContext&);
};

// Runs the subcommand named by argv[1] of a container command from `table`. Unknown subcommands
// and wrong arities get Redis's errors.
inline void RunSubcommand(CommandContext& ctx, std::string_view container,
                          std::span<const Subcommand> table) {
  const std::string_view requested = ctx.argv[1];
  for (const Subcommand& sub : table) {
    if (!EqualsIgnoreCase(sub.name, requested)) continue;
    const long long argc = static_cast<long long>(ctx.argv.size());
    if (sub.arity >= 0 ? argc != sub.arity : argc < -static_cast<long long>(sub.arity)) {
      ReplyWrongArity(ctx.reply, std::string(container) + "|" + std::string(sub.name));
      return;
    }
    sub.handler(ctx);
    return;
  }
  ctx.reply.Error(UnknownSubcommandError(ctx.argv[0], requested));
}

}  // namespace dynakv::server
