// CLIENT's client-side caching subcommands (TRACKING, CACHING, TRACKINGINFO, GETREDIR), listed by
// CLIENT's table in cmd_client.cc.
#pragma once

namespace dynakv::server {

struct CommandContext;

void ClientTracking(CommandContext& ctx);
void ClientCaching(CommandContext& ctx);
void ClientTrackingInfo(CommandContext& ctx);
void ClientGetRedir(CommandContext& ctx);

}  // namespace dynakv::server
