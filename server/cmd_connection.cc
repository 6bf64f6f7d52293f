// Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET and CLIENT, with the
// replies and error texts of Redis 7.

#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "acl.h"
#include "client.h"
#include "command.h"
#include "command_table.h"
#include "command_util.h"
#include "number_parse.h"
#include "pubsub.h"
#include "server.h"

namespace dynakv::server {
namespace {

// Redis's ACLAuthenticateUser: on success the client runs as `user` from now on; a failure is
// recorded in ACL LOG (reason "auth", object the command's name as sent).
bool Authenticate(CommandContext& ctx, std::string_view user, std::string_view password) {
  if (const AclUser* found = ctx.server.acl().Authenticate(user, password)) {
    ctx.client.set_user(found, true);
    return true;
  }
  const std::uint64_t now = uv_now(ctx.server.loop());
  std::string info = ctx.client.Describe(now);
  info.pop_back();  // its '\n'
  ctx.server.acl().LogDenial(AclDenial::kAuth, AclContext::kToplevel, std::string(ctx.argv[0]),
                             std::string(user), now, std::move(info));
  return false;
}

constexpr std::string_view kErrWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

void PingCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2) {
    ReplyWrongArity(ctx.reply, "ping");
  } else if (ctx.client.pubsub_mode() && ctx.reply.protocol() == 2) {
    // A subscribed RESP2 connection reads every reply as a message: ["pong", argument or ""].
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk("pong");
    ctx.reply.Bulk(ctx.argv.size() == 2 ? ctx.argv[1] : std::string_view());
  } else if (ctx.argv.size() == 2) {
    ctx.reply.Bulk(ctx.argv[1]);
  } else {
    ctx.reply.Simple("PONG");
  }
}

void EchoCommand(CommandContext& ctx) { ctx.reply.Bulk(ctx.argv[1]); }

void QuitCommand(CommandContext& ctx) {
  ctx.reply.Ok();
  ctx.client.CloseAfterReply();
}

void SelectCommand(CommandContext& ctx) {
  long long db;
  if (!ParseDbIndexOrReply(ctx, ctx.argv[1], {}, &db)) {
    return;
  } else if (db != 0 && ctx.server.cluster_node() != nullptr) {
    ctx.reply.Error("ERR SELECT is not allowed in cluster mode");  // Redis Cluster's
  } else if (db < 0 || db >= ctx.server.databases()) {
    ctx.reply.Error("ERR DB index is out of range");
  } else {
    ctx.client.set_db(static_cast<std::uint32_t>(db));
    ctx.reply.Ok();
  }
}

void AuthCommand(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  if (argv.size() > 3) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (argv.size() == 2 && ctx.server.acl().default_user().nopass()) {
    ctx.reply.Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
    return;
  }
  const std::string_view user = argv.size() == 3 ? argv[1] : std::string_view("default");
  if (Authenticate(ctx, user, argv.back())) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(kErrWrongPass);
  }
}

void HelloCommand(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  long long protocol = 0;
  std::size_t next = 1;
  if (argv.size() >= 2) {
    if (!ParseLongLong(argv[next++], &protocol)) {
      ctx.reply.Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (protocol < 2 || protocol > 3) {
      ctx.reply.Error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view user;
  std::string_view password;
  bool auth = false;
  std::string_view name;
  bool set_name = false;
  for (std::size_t i = next; i < argv.size(); ++i) {
    const std::size_t more = argv.size() - 1 - i;
    if (EqualsIgnoreCase(argv[i], "auth") && more >= 2) {
      user = argv[i + 1];
      password = argv[i + 2];
      auth = true;
      i += 2;
    } else if (EqualsIgnoreCase(argv[i], "setname") && more >= 1) {
      name = argv[i + 1];
      set_name = true;
      ++i;
    } else {
      ctx.reply.Error("ERR Syntax error in HELLO option '" + std::string(argv[i]) + "'");
      return;
    }
  }
  if (auth) {
    if (!Authenticate(ctx, user, password)) {
      ctx.reply.Error(kErrWrongPass);
      return;
    }
  }
  if (ctx.server.AuthRequired(ctx.client)) {
    ctx.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
        "the RESP protocol version at the same time");
    return;
  }
  if (set_name) {
    if (!ValidClientName(name)) {
      ctx.reply.Error(kErrClientName);
      return;
    }
    ctx.client.set_name(name);
  }
  if (protocol != 0) ctx.reply.set_protocol(static_cast<int>(protocol));

  resp::ReplyWriter& r = ctx.reply;
  r.MapHeader(7);
  r.Bulk("server");
  r.Bulk("redis");
  r.Bulk("version");
  r.Bulk(kRedisCompatVersion);
  r.Bulk("proto");
  r.Integer(r.protocol());
  r.Bulk("id");
  r.Integer(static_cast<long long>(ctx.client.id()));
  r.Bulk("mode");
  r.Bulk("standalone");
  r.Bulk("role");
  r.Bulk("master");
  r.Bulk("modules");
  r.ArrayHeader(0);
}

void ResetCommand(CommandContext& ctx) {
  // As Redis's clearClientConnectionState: subscriptions go silently.
  ctx.server.pubsub().RemoveClient(ctx.client);
  ctx.server.tracking().Disable(ctx.client);  // RESET turns tracking off, as in Redis
  ctx.client.set_pubsub_mode(false);
  if (ctx.client.monitor()) {  // no longer a monitor
    ctx.server.monitors().Remove(ctx.client.id());
    ctx.client.set_monitor(false);
  }
  // Redis's clearClientConnectionState: a transaction is discarded, watched keys are forgotten.
  ctx.client.transaction().Clear();
  ctx.server.watched_keys().UnwatchAll(ctx.client);
  ctx.client.transaction().set_dirty(false);
  ctx.reply.set_protocol(2);
  ctx.client.set_name("");
  ctx.client.set_db(0);
  ctx.client.SetDefaultUser();
  ctx.client.set_levels(std::nullopt, std::nullopt);  // back to the configured consistency
  ctx.reply.Simple("RESET");
}

// ---- CLIENT -------------------------------------------------------------------------------

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

  long long killed = 0;
  bool kill_self = false;
  for (const auto& [client_id, client] : ctx.server.clients()) {
    if (client->closing() || client->rejected()) continue;
    if (type && TypeOf(*client) != *type) continue;
    if (!addr.empty() && client->address() != addr) continue;
    if (!laddr.empty() && client->local_address() != laddr) continue;
    if (id != 0 && client->id() != static_cast<std::uint64_t>(id)) continue;
    if (user != nullptr && client->user() != user) continue;
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

void ClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID <client-id>, TYPE (NORMAL|PUBSUB),",
      "    USER <username>, ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO).",
      "LIST [TYPE (NORMAL|PUBSUB)] [ID <client-id> [...]]",
      "    Return information about client connections.",
      "NO-EVICT (ON|OFF)",
      "    Accepted for compatibility; dynakv never evicts clients.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Set client library name or version.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "HELP",
      "    Print this help.",
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

void ClientNoEvict(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.argv[2], "on") || EqualsIgnoreCase(ctx.argv[2], "off")) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(kErrSyntax);
  }
}

// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with
// Redis 7.0's checks in its order.
void ClientTracking(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  Tracking::Options options;
  bool redirect_given = false;
  for (std::size_t j = 3; j < argv.size(); ++j) {
    const bool more = j + 1 < argv.size();
    if (EqualsIgnoreCase(argv[j], "redirect") && more) {
      ++j;
      if (redirect_given) {
        ctx.reply.Error("ERR A client can only redirect to a single other client");
        return;
      }
      long long id = 0;
      if (!ParseLongLong(argv[j], &id)) {
        ctx.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      if (ctx.server.FindClient(static_cast<std::uint64_t>(id)) == nullptr) {
        ctx.reply.Error("ERR The client ID you want redirect to does not exist");
        return;
      }
      redirect_given = true;
      options.redirect = static_cast<std::uint64_t>(id);
    } else if (EqualsIgnoreCase(argv[j], "bcast")) {
      options.bcast = true;
    } else if (EqualsIgnoreCase(argv[j], "optin")) {
      options.optin = true;
    } else if (EqualsIgnoreCase(argv[j], "optout")) {
      options.optout = true;
    } else if (EqualsIgnoreCase(argv[j], "noloop")) {
      options.noloop = true;
    } else if (EqualsIgnoreCase(argv[j], "prefix") && more) {
      options.prefixes.emplace_back(argv[++j]);
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  Tracking& tracking = ctx.server.tracking();
  if (EqualsIgnoreCase(argv[2], "off")) {
    tracking.Disable(ctx.client);
    ctx.reply.Ok();
    return;
  }
  if (!EqualsIgnoreCase(argv[2], "on")) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const Tracking::Options* current = tracking.Of(ctx.client);
  if (!options.bcast && !options.prefixes.empty()) {
    ctx.reply.Error("ERR PREFIX option requires BCAST mode to be enabled");
    return;
  }
  if (current != nullptr && current->bcast != options.bcast) {
    ctx.reply.Error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
    return;
  }
  if (options.bcast && (options.optin || options.optout)) {
    ctx.reply.Error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    return;
  }
  if (options.optin && options.optout) {
    ctx.reply.Error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    return;
  }
  if (current != nullptr &&
      ((options.optin && current->optout) || (options.optout && current->optin))) {
    ctx.reply.Error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
    return;
  }
  if (options.bcast) {
    if (const std::string error = tracking.PrefixCollision(ctx.client, options.prefixes);
        !error.empty()) {
      ctx.reply.Error(error);
      return;
    }
  }
  tracking.Enable(ctx.client, options);
  ctx.reply.Ok();
}

// CLIENT CACHING YES|NO
void ClientCaching(CommandContext& ctx) {
  const Tracking::Options* options = ctx.server.tracking().Of(ctx.client);
  if (options == nullptr) {
    ctx.reply.Error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
    return;
  }
  if (EqualsIgnoreCase(ctx.argv[2], "yes")) {
    if (!options->optin) {
      ctx.reply.Error(
          "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
      return;
    }
  } else if (EqualsIgnoreCase(ctx.argv[2], "no")) {
    if (!options->optout) {
      ctx.reply.Error(
          "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
      return;
    }
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  ctx.server.tracking().SetCaching(ctx.client);
  ctx.reply.Ok();
}

// CLIENT TRACKINGINFO: flags (a set), redirect, prefixes (in order), as Redis's
void ClientTrackingInfo(CommandContext& ctx) {
  const Tracking& tracking = ctx.server.tracking();
  const Tracking::Options* options = tracking.Of(ctx.client);
  ctx.reply.MapHeader(3);
  ctx.reply.Bulk("flags");
  std::vector<std::string_view> flags = {options != nullptr ? "on" : "off"};
  if (options != nullptr) {
    const bool caching = tracking.caching(ctx.client);
    if (options->bcast) flags.push_back("bcast");
    if (options->optin) flags.push_back("optin");
    if (options->optin && caching) flags.push_back("caching-yes");
    if (options->optout) flags.push_back("optout");
    if (options->optout && caching) flags.push_back("caching-no");
    if (options->noloop) flags.push_back("noloop");
    if (options->broken_redirect) flags.push_back("broken_redirect");
  }
  ctx.reply.SetHeader(flags.size());
  for (std::string_view flag : flags) ctx.reply.Bulk(flag);
  ctx.reply.Bulk("redirect");
  ctx.reply.Integer(options == nullptr ? -1 : static_cast<long long>(options->redirect));
  ctx.reply.Bulk("prefixes");
  std::vector<std::string> prefixes;
  if (options != nullptr) prefixes = options->prefixes;
  std::sort(prefixes.begin(), prefixes.end());
  ctx.reply.ArrayHeader(prefixes.size());
  for (const std::string& prefix : prefixes) ctx.reply.Bulk(prefix);
}

// CLIENT GETREDIR: the redirect target, 0 without one, -1 when not tracking.
void ClientGetRedir(CommandContext& ctx) {
  const Tracking::Options* options = ctx.server.tracking().Of(ctx.client);
  ctx.reply.Integer(options == nullptr ? -1 : static_cast<long long>(options->redirect));
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
};
// clang-format on

// clang-format off
const CommandSpec kConnectionCommands[] = {
    {.name = "ping", .arity = -1,
     .flags = kCmdFast | kCmdRefusedOnLogFailure | kCmdSubscribedContext,
     .acl = kAclConnection, .tips = "request_policy:all_shards response_policy:all_succeeded",
     .handler = PingCommand},
    {.name = "echo", .arity = 2, .flags = kCmdLoading | kCmdStale | kCmdFast, .acl = kAclConnection,
     .handler = EchoCommand},
    {.name = "quit", .arity = -1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy |
              kCmdSubscribedContext,
     .acl = kAclConnection, .handler = QuitCommand},
    {.name = "select", .arity = 2, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .acl = kAclConnection, .handler = SelectCommand},
    {.name = "auth", .arity = -2,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy,
     .acl = kAclConnection, .handler = AuthCommand},
    {.name = "hello", .arity = -1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy,
     .acl = kAclConnection, .handler = HelloCommand},
    {.name = "reset", .arity = 1,
     .flags = kCmdNoScript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy |
              kCmdSubscribedContext,
     .acl = kAclConnection, .handler = ResetCommand},
    {.name = "client", .arity = -2, .subcommands = kClientSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ConnectionCommands() { return kConnectionCommands; }

}  // namespace dynakv::server
