// notify-keyspace-events' letters and flag bits (notify.h): apart from the delivery in
// notify.cc, so that the config table (server_config library) links without the server.
#include <string>
#include <string_view>

#include "config.h"
#include "notify.h"

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

}  // namespace dynakv::server
