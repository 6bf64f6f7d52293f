// CLIENT TRACKING / CACHING / TRACKINGINFO / GETREDIR: client-side caching as Redis 7.0 (the
// table of keys and prefixes is tracking.h).

#include <string>

#include "client.h"
#include "client_tracking_commands.h"
#include "command.h"
#include "command_util.h"
#include "number_parse.h"
#include "server.h"

namespace dynakv::server {

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

}  // namespace dynakv::server
