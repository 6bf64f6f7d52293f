// Helpers of the databases tests (test_databases.cc, test_databases_durability.cc): replies
// compared regardless of Redis's dict order, and INFO keyspace's lines.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "reply.h"

namespace dynakv::itest {

// A reply whose order Redis leaves to its dicts (KEYS, SMEMBERS, HGETALL of a hashtable...),
// sorted; pairs stay together when `pairs`.
inline Reply Sorted(Reply reply, bool pairs = false) {
  if (reply.type != Reply::Type::kArray) return reply;
  const std::size_t step = pairs ? 2 : 1;
  std::vector<std::vector<Reply>> groups;
  for (std::size_t i = 0; i + step <= reply.elements.size(); i += step) {
    groups.emplace_back(reply.elements.begin() + static_cast<long>(i),
                        reply.elements.begin() + static_cast<long>(i + step));
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a[0].str < b[0].str; });
  reply.elements.clear();
  for (auto& g : groups) reply.elements.insert(reply.elements.end(), g.begin(), g.end());
  return reply;
}

// INFO keyspace's db lines without avg_ttl, which Redis estimates by sampling (README).
inline std::string KeyspaceLines(Client& c) {
  const Reply r = c.Command({"INFO", "keyspace"});
  std::string out;
  std::size_t pos = 0;
  while (pos < r.str.size()) {
    std::size_t end = r.str.find("\r\n", pos);
    if (end == std::string::npos) end = r.str.size();
    std::string line = r.str.substr(pos, end - pos);
    pos = end + 2;
    if (line.rfind("db", 0) != 0) continue;
    out += line.substr(0, line.find(",avg_ttl=")) + "\n";
  }
  return out;
}

}  // namespace dynakv::itest
