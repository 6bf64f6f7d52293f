// MONITOR: the clients that watch every command the node runs, and the line each command
// becomes, as Redis 7.0's replicationFeedMonitors writes it:
//   +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
// (unix time with microseconds, database, the caller's address or "lua" for a script's calls,
// each argument quoted with Redis's escapes). Passwords are shown as "(redacted)".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::server {

class Server;
class Client;

class Monitors {
 public:
  void Add(std::uint64_t client_id);
  void Remove(std::uint64_t client_id);
  bool empty() const { return ids_.empty(); }
  std::size_t size() const { return ids_.size(); }

  // Sends the line of `argv`, run by `caller` in database `db`, to every monitor.
  void Feed(Server& server, const Client& caller, std::uint32_t db,
            const std::vector<std::string_view>& argv, const std::vector<bool>& redacted);

 private:
  std::vector<std::uint64_t> ids_;  // in the order they started monitoring
};

// The line Feed sends (without the time prefix's source: `unix_us` is passed in).
std::string MonitorLine(std::int64_t unix_us, std::uint32_t db, std::string_view source,
                        const std::vector<std::string_view>& argv,
                        const std::vector<bool>& redacted);
// Redis's sdscatrepr: the bytes in double quotes, with \\ \" \n \r \t \a \b and \xHH escapes.
void AppendQuoted(std::string* out, std::string_view bytes);

}  // namespace dynakv::server
