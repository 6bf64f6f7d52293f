// Keyspace notifications, as Redis 7.0's notify.c: a command that changes a key publishes
// "__keyspace@<db>__:<key>" -> event and "__keyevent@<db>__:<event>" -> key, for the classes of
// events notify-keyspace-events enables. Handlers call NotifyKeyspaceEvent exactly where Redis
// calls notifyKeyspaceEvent, with Redis's event names.
#pragma once

#include <string>
#include <string_view>

namespace dynakv::server {

class Server;
struct CommandContext;
struct Config;

// Redis's NOTIFY_* bits (the flag letters in parentheses).
enum KeyspaceEventClass : int {
  kNotifyKeyspace = 1 << 0,  // K
  kNotifyKeyevent = 1 << 1,  // E
  kNotifyGeneric = 1 << 2,   // g
  kNotifyString = 1 << 3,    // $
  kNotifyList = 1 << 4,      // l
  kNotifySet = 1 << 5,       // s
  kNotifyHash = 1 << 6,      // h
  kNotifyZset = 1 << 7,      // z
  kNotifyExpired = 1 << 8,   // x
  kNotifyEvicted = 1 << 9,   // e
  kNotifyStream = 1 << 10,   // t
  kNotifyKeyMiss = 1 << 11,  // m
  kNotifyModule = 1 << 12,   // d
  kNotifyNew = 1 << 13,      // n
  // A: every class but key misses and new keys.
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// Redis's keyspaceEventsStringToFlags; false on a character that names no class.
bool ParseKeyspaceEvents(std::string_view classes, int* flags);
// Redis's keyspaceEventsFlagsToString: "A" for every class of A, then K, E and m ("Anm" reads
// back as "Am", as in Redis).
std::string FormatKeyspaceEvents(int flags);
// The notify-keyspace-events config row.
bool ParseNotifyKeyspaceEventsParam(std::string_view value, Config* config, std::string* reason);
std::string FormatNotifyKeyspaceEventsParam(const Config& config);

// Publishes the event for `key` in database `db`, when its class is enabled.
void NotifyKeyspaceEvent(Server& server, int type, std::string_view event, std::string_view key,
                         int db);
// The same, in the database the command's client works on.
void NotifyKeyspaceEvent(CommandContext& ctx, int type, std::string_view event,
                         std::string_view key);
// After removing elements: "del" when that emptied (so deleted) the collection, as Redis
// notifies after deleting an empty hash, list, set or sorted set.
void NotifyIfEmptied(CommandContext& ctx, std::string_view key);

}  // namespace dynakv::server
