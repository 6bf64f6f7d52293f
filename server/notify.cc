#include "notify.h"

#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "pubsub.h"
#include "server.h"

namespace dynakv::server {

bool ParseKeyspaceEvents(std::string_view classes, int* flags) {
  int out = 0;
  for (char c : classes) {
    switch (c) {
      case 'A':
        out |= kNotifyAll;
        break;
      case 'g':
        out |= kNotifyGeneric;
        break;
      case '$':
        out |= kNotifyString;
        break;
      case 'l':
        out |= kNotifyList;
        break;
      case 's':
        out |= kNotifySet;
        break;
      case 'h':
        out |= kNotifyHash;
        break;
      case 'z':
        out |= kNotifyZset;
        break;
      case 'x':
        out |= kNotifyExpired;
        break;
      case 'e':
        out |= kNotifyEvicted;
        break;
      case 'K':
        out |= kNotifyKeyspace;
        break;
      case 'E':
        out |= kNotifyKeyevent;
        break;
      case 't':
        out |= kNotifyStream;
        break;
      case 'm':
        out |= kNotifyKeyMiss;
        break;
      case 'd':
        out |= kNotifyModule;
        break;
      case 'n':
        out |= kNotifyNew;
        break;
      default:
        return false;
    }
  }
  *flags = out;
  return true;
}

std::string FormatKeyspaceEvents(int flags) {
  std::string out;
  if ((flags & kNotifyAll) == kNotifyAll) {
    out += 'A';
  } else {
    static constexpr std::pair<int, char> kLetters[] = {
        {kNotifyGeneric, 'g'}, {kNotifyString, '$'}, {kNotifyList, 'l'},    {kNotifySet, 's'},
        {kNotifyHash, 'h'},    {kNotifyZset, 'z'},   {kNotifyExpired, 'x'}, {kNotifyEvicted, 'e'},
        {kNotifyStream, 't'},  {kNotifyModule, 'd'}, {kNotifyNew, 'n'},
    };
    for (const auto& [bit, letter] : kLetters) {
      if (flags & bit) out += letter;
    }
  }
  if (flags & kNotifyKeyspace) out += 'K';
  if (flags & kNotifyKeyevent) out += 'E';
  if (flags & kNotifyKeyMiss) out += 'm';
  return out;
}

bool ParseNotifyKeyspaceEventsParam(std::string_view value, Config* config, std::string* reason) {
  int flags;
  if (!ParseKeyspaceEvents(value, &flags)) {
    *reason = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    return false;
  }
  config->notify_keyspace_events = flags;
  return true;
}

std::string FormatNotifyKeyspaceEventsParam(const Config& config) {
  return FormatKeyspaceEvents(config.notify_keyspace_events);
}

void NotifyKeyspaceEvent(Server& server, int type, std::string_view event, std::string_view key,
                         int db) {
  const int flags = server.config().notify_keyspace_events;
  if (!(flags & type)) return;
  PubSub& pubsub = server.pubsub();
  if (pubsub.empty()) return;  // no one listens: no channel names to build
  const std::string prefix = "@" + std::to_string(db) + "__:";
  std::string channel;
  if (flags & kNotifyKeyspace) {
    channel.reserve(11 + prefix.size() + key.size());
    channel.append("__keyspace").append(prefix).append(key);
    pubsub.Publish(channel, event, PubSub::Kind::kGlobal);
  }
  if (flags & kNotifyKeyevent) {
    channel.assign("__keyevent").append(prefix).append(event);
    pubsub.Publish(channel, key, PubSub::Kind::kGlobal);
  }
}

void NotifyIfEmptied(CommandContext& ctx, std::string_view key) {
  if (!(ctx.server.config().notify_keyspace_events & kNotifyGeneric)) return;
  if (!ctx.keyspace.Exists(key)) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
}

void NotifyKeyspaceEvent(CommandContext& ctx, int type, std::string_view event,
                         std::string_view key) {
  NotifyKeyspaceEvent(ctx.server, type, event, key, static_cast<int>(ctx.keyspace.db()));
}

}  // namespace dynakv::server
