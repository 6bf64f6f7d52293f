// Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO and RESET, with the replies and
// error texts of Redis 7 (CLIENT is cmd_client.cc).

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
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ConnectionCommands() { return kConnectionCommands; }

}  // namespace dynakv::server
