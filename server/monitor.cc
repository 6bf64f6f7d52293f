#include "monitor.h"

#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "client.h"
#include "server.h"

namespace dynakv::server {

void Monitors::Add(std::uint64_t client_id) {
  if (std::find(ids_.begin(), ids_.end(), client_id) == ids_.end()) ids_.push_back(client_id);
}

void Monitors::Remove(std::uint64_t client_id) { std::erase(ids_, client_id); }

void AppendQuoted(std::string* out, std::string_view bytes) {
  *out += '"';
  for (const char c : bytes) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '"':
        *out += "\\\"";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\a':
        *out += "\\a";
        break;
      case '\b':
        *out += "\\b";
        break;
      default:
        if (std::isprint(static_cast<unsigned char>(c))) {
          *out += c;
        } else {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          *out += hex;
        }
    }
  }
  *out += '"';
}

std::string MonitorLine(std::int64_t unix_us, std::uint32_t db, std::string_view source,
                        const std::vector<std::string_view>& argv,
                        const std::vector<bool>& redacted) {
  char head[64];
  std::snprintf(head, sizeof(head), "+%lld.%06lld [%u ", static_cast<long long>(unix_us / 1000000),
                static_cast<long long>(unix_us % 1000000), db);
  std::string line = head;
  line += source;
  line += "] ";
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) line += ' ';
    AppendQuoted(&line, i < redacted.size() && redacted[i] ? "(redacted)" : argv[i]);
  }
  line += "\r\n";
  return line;
}

void Monitors::Feed(Server& server, const Client& caller, std::uint32_t db,
                    const std::vector<std::string_view>& argv, const std::vector<bool>& redacted) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const std::int64_t unix_us = static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
  // A script's own client has no connection, hence no address: Redis shows it as "lua".
  const std::string_view source =
      caller.address().empty() ? std::string_view("lua") : std::string_view(caller.address());
  const std::string line = MonitorLine(unix_us, db, source, argv, redacted);
  for (std::size_t i = 0; i < ids_.size();) {
    Client* monitor = server.FindClient(ids_[i]);
    if (monitor == nullptr || monitor->closing()) {
      ids_.erase(ids_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    monitor->DeliverRaw(line);
    ++i;
  }
}

}  // namespace dynakv::server
