// CLIENT and its subcommands, with the replies and error texts of Redis 7.0 (the client-side
// caching ones are cmd_client_tracking.cc).

#include <uv.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "acl.h"
#include "client.h"
#include "client_tracking_commands.h"
#include "cluster_executor.h"
#include "command.h"
#include "command_table.h"
#include "command_util.h"
#include "number_parse.h"
#include "server.h"

namespace dynakv::server {
namespace {

// Client types as CLIENT LIST TYPE / CLIENT KILL TYPE name them. A dynakv client is normal, or
// pubsub while it has subscriptions (Redis's getClientType); none is a master or a replica.
enum class ClientType { kNormal, kPubSub, kNone };

bool ParseClientType(std::string_view type, ClientType* out) {
  if (EqualsIgnoreCase(type, "normal")) {
    *out = ClientType::kNormal;
  } else if (EqualsIgnoreCase(type, "pubsub")) {
    *out = ClientType::kPubSub;
  } else if (EqualsIgnoreCase(type, "master") || EqualsIgnoreCase(type, "slave") ||
             EqualsIgnoreCase(type, "replica")) {
    *out = ClientType::kNone;
  } else {
    return false;
  }
  return true;
}

ClientType TypeOf(const Client& client) {
  return client.pubsub_mode() ? ClientType::kPubSub : ClientType::kNormal;
}

void ClientList(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  const std::uint64_t now = uv_now(ctx.server.loop());
  std::string out;
  std::optional<ClientType> only;
  auto describe_all = [&] {
    for (const auto& [id, client] : ctx.server.clients()) {
      // Closing and refused ones are gone to Redis.
      if (client->closing() || client->rejected()) continue;
      if (!only || TypeOf(*client) == *only) out += client->Describe(now);
    }
  };
  if (argv.size() == 4 && EqualsIgnoreCase(argv[2], "type")) {
    ClientType type;
    if (!ParseClientType(argv[3], &type)) {
      ctx.reply.Error("ERR Unknown client type '" + std::string(argv[3]) + "'");
      return;
    }
    only = type;
    describe_all();
  } else if (argv.size() > 3 && EqualsIgnoreCase(argv[2], "id")) {
    for (std::size_t i = 3; i < argv.size(); ++i) {
      long long id;
      if (!ParseLongLong(argv[i], &id)) {
        ctx.reply.Error("ERR Invalid client ID");
        return;
      }
      if (Client* client = ctx.server.FindClient(static_cast<std::uint64_t>(id))) {
        out += client->Describe(now);
      }
    }
  } else if (argv.size() != 2) {
    ctx.reply.Error(kErrSyntax);
    return;
  } else {
    describe_all();
  }
  ctx.reply.Verbatim(out);
}

void ClientKill(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  std::string_view addr;
  std::string_view laddr;
  long long id = 0;
  const AclUser* user = nullptr;
  bool skip_me = true;
  long long max_age = -1;
  std::optional<ClientType> type;
  if (argv.size() == 3) {
    addr = argv[2];  // old form: CLIENT KILL ip:port, which may kill the caller
    skip_me = false;
  } else if (argv.size() > 3 && argv.size() % 2 == 0) {
    for (std::size_t i = 2; i < argv.size(); i += 2) {
      const std::string_view option = argv[i];
      const std::string_view value = argv[i + 1];
      if (EqualsIgnoreCase(option, "id")) {
        if (!ParseLongLong(value, &id) || id < 1) {
          ctx.reply.Error("ERR client-id should be greater than 0");
          return;
        }
      } else if (EqualsIgnoreCase(option, "type")) {
        ClientType parsed;
        if (!ParseClientType(value, &parsed)) {
          ctx.reply.Error("ERR Unknown client type '" + std::string(value) + "'");
          return;
        }
        type = parsed;
      } else if (EqualsIgnoreCase(option, "addr")) {
        addr = value;
      } else if (EqualsIgnoreCase(option, "laddr")) {
        laddr = value;
      } else if (EqualsIgnoreCase(option, "user")) {
        user = ctx.server.acl().Find(value);
        if (user == nullptr) {
          ctx.reply.Error("ERR No such user '" + std::string(value) + "'");
          return;
        }
      } else if (EqualsIgnoreCase(option, "maxage")) {
        // Redis 7.4's filter: connections older than this many seconds.
        if (!ParseLongLong(value, &max_age) || max_age < 0) {
          ctx.reply.Error(kErrNotInteger);
          return;
        }
      } else if (EqualsIgnoreCase(option, "skipme")) {
        if (EqualsIgnoreCase(value, "yes")) {
          skip_me = true;
        } else if (EqualsIgnoreCase(value, "no")) {
          skip_me = false;
        } else {
          ctx.reply.Error(kErrSyntax);
          return;
        }
      } else {
        ctx.reply.Error(kErrSyntax);
        return;
      }
    }
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }

  const std::uint64_t now = uv_now(ctx.server.loop());
  long long killed = 0;
  bool kill_self = false;
  for (const auto& [client_id, client] : ctx.server.clients()) {
    if (client->closing() || client->rejected()) continue;
    if (type && TypeOf(*client) != *type) continue;
    if (!addr.empty() && client->address() != addr) continue;
    if (!laddr.empty() && client->local_address() != laddr) continue;
    if (id != 0 && client->id() != static_cast<std::uint64_t>(id)) continue;
    if (user != nullptr && client->user() != user) continue;
    if (max_age >= 0 &&
        (now - client->created_ms()) / 1000 <= static_cast<std::uint64_t>(max_age)) {
      continue;
    }
    if (client.get() == &ctx.client) {
      if (skip_me) continue;
      kill_self = true;  // after the reply, like Redis
    } else {
      client->Close();
    }
    ++killed;
  }
  if (argv.size() == 3) {
    if (killed == 0) {
      ctx.reply.Error("ERR No such client");
    } else {
      ctx.reply.Ok();
    }
  } else {
    ctx.reply.Integer(killed);
  }
  if (kill_self) ctx.client.CloseAfterReply();
}

void ClientSetInfo(CommandContext& ctx) {
  const std::string_view attribute = ctx.argv[2];
  const std::string_view value = ctx.argv[3];
  const bool is_name = EqualsIgnoreCase(attribute, "lib-name");
  if (!is_name && !EqualsIgnoreCase(attribute, "lib-ver")) {
    ctx.reply.Error("ERR Unrecognized option '" + std::string(attribute) + "'");
    return;
  }
  if (!ValidClientName(value)) {
    ctx.reply.Error("ERR " + std::string(attribute) +
                    " cannot contain spaces, newlines or special characters.");
    return;
  }
  if (is_name) {
    ctx.client.set_lib_name(value);
  } else {
    ctx.client.set_lib_version(value);
  }
  ctx.reply.Ok();
}

// Redis 7.0's text, with SETINFO (7.2) and KILL MAXAGE (7.4), which dynakv has too.
void ClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "    * ID <client-id>",
      "      Kill connections by client id.",
      "    * MAXAGE <maxage>",
      "      Kill connections older than the specified age.",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Set client library name or version.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

void ClientId(CommandContext& ctx) { ctx.reply.Integer(static_cast<long long>(ctx.client.id())); }

void ClientInfo(CommandContext& ctx) {
  ctx.reply.Verbatim(ctx.client.Describe(uv_now(ctx.server.loop())));
}

void ClientGetName(CommandContext& ctx) {
  if (ctx.client.name().empty()) {
    ctx.reply.Null();
  } else {
    ctx.reply.Bulk(ctx.client.name());
  }
}

void ClientSetName(CommandContext& ctx) {
  if (!ValidClientName(ctx.argv[2])) {
    ctx.reply.Error(kErrClientName);
    return;
  }
  ctx.client.set_name(ctx.argv[2]);
  ctx.reply.Ok();
}

// CLIENT NO-EVICT ON|OFF: the flag (e in CLIENT LIST); dynakv never evicts clients anyway.
void ClientNoEvict(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.argv[2], "on")) {
    ctx.client.set_no_evict(true);
    ctx.reply.Ok();
  } else if (EqualsIgnoreCase(ctx.argv[2], "off")) {
    ctx.client.set_no_evict(false);
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(kErrSyntax);
  }
}

// CLIENT PAUSE timeout [WRITE|ALL]: milliseconds, Redis's checks in its order.
void ClientPause(CommandContext& ctx) {
  if (ctx.argv.size() > 4) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  Server::PauseType type = Server::PauseType::kAll;
  if (ctx.argv.size() == 4) {
    if (EqualsIgnoreCase(ctx.argv[3], "write")) {
      type = Server::PauseType::kWrite;
    } else if (!EqualsIgnoreCase(ctx.argv[3], "all")) {
      ctx.reply.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  }
  long long timeout = 0;
  if (!ParseLongLong(ctx.argv[2], &timeout)) {
    ctx.reply.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.Error("ERR timeout is negative");
    return;
  }
  ctx.server.PauseClients(type, uv_now(ctx.server.loop()) + static_cast<std::uint64_t>(timeout));
  ctx.reply.Ok();
}

void ClientUnpause(CommandContext& ctx) {
  ctx.server.UnpauseClients();
  ctx.reply.Ok();
}

// CLIENT REPLY ON|OFF|SKIP: ON answers OK; OFF and SKIP answer nothing (Client drops the
// replies).
void ClientReply(CommandContext& ctx) {
  const std::string_view mode = ctx.argv[2];
  if (EqualsIgnoreCase(mode, "on")) {
    ctx.client.set_reply_off(false);
    ctx.reply.Ok();
  } else if (EqualsIgnoreCase(mode, "off")) {
    ctx.client.set_reply_off(true);
  } else if (EqualsIgnoreCase(mode, "skip")) {
    ctx.client.SkipNextReply();
  } else {
    ctx.reply.Error(kErrSyntax);
  }
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when the client was blocked (BLPOP and its family) and is
// now answered as if timed out, or with -UNBLOCKED; else 0.
void ClientUnblock(CommandContext& ctx) {
  if (ctx.argv.size() > 4) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  bool error = false;
  if (ctx.argv.size() == 4) {
    if (EqualsIgnoreCase(ctx.argv[3], "error")) {
      error = true;
    } else if (!EqualsIgnoreCase(ctx.argv[3], "timeout")) {
      ctx.reply.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  }
  long long id = 0;
  if (!ParseLongLong(ctx.argv[2], &id)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  ClusterExecutor* executor = ctx.server.cluster_executor();
  const bool unblocked =
      id > 0 &&
      (ctx.server.blocked_lists().Unblock(static_cast<std::uint64_t>(id), error) ||
       (executor != nullptr && executor->waits().Unblock(static_cast<std::uint64_t>(id), error)));
  ctx.reply.Integer(unblocked ? 1 : 0);
}

// Flags, categories and tips as Redis 7.0 declares them (SETINFO, from 7.2, as 7.2 does).
// clang-format off
const CommandSpec kClientSubcommands[] = {
    {.name = "id", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientId},
    {.name = "info", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .tips = "nondeterministic_output", .handler = ClientInfo},
    {.name = "getname", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientGetName},
    {.name = "setname", .arity = 3, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientSetName},
    {.name = "list", .arity = -2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .tips = "nondeterministic_output", .handler = ClientList},
    {.name = "kill", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientKill},
    {.name = "setinfo", .arity = 4, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientSetInfo},
    {.name = "no-evict", .arity = 3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientNoEvict},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .handler = ClientHelp},
    {.name = "tracking", .arity = -3, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientTracking},
    {.name = "caching", .arity = 3, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientCaching},
    {.name = "trackinginfo", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientTrackingInfo},
    {.name = "getredir", .arity = 2, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientGetRedir},
    {.name = "pause", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientPause},
    {.name = "unpause", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientUnpause},
    {.name = "reply", .arity = 3, .flags = kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientReply},
    {.name = "unblock", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = ClientUnblock},
};
// clang-format on

// clang-format off
const CommandSpec kClientCommands[] = {
    {.name = "client", .arity = -2, .subcommands = kClientSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ClientCommands() { return kClientCommands; }

}  // namespace dynakv::server
