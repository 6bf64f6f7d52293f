#include "consistency_hints.h"

#include "command_util.h"

namespace dynakv::server {
namespace {

struct OptionRule {
  std::string_view command;
  char letter;           // 'R' sets the read level, 'W' the write level
  std::size_t min_argc;  // counting the option: shorter requests have no option
  bool exact;            // the option makes the request exactly min_argc long
};

constexpr OptionRule kRules[] = {
    {"get", 'R', 4, true},  {"vget", 'R', 4, true},    {"set", 'W', 5, false},
    {"vset", 'W', 7, false}, {"del", 'W', 4, false}, {"unlink", 'W', 4, false},
};

}  // namespace

bool ParseLevelArgument(std::string_view text, int replication_factor,
                        cluster::ConsistencyLevel* level, std::string* error) {
  cluster::ConsistencyLevel parsed;
  if (!cluster::ParseConsistencyLevel(text, &parsed)) {
    *error = "ERR invalid consistency level '" + std::string(text) +
             "' (ONE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or a replica count)";
    return false;
  }
  if (parsed.kind == cluster::ConsistencyLevel::Kind::kCount &&
      parsed.count > replication_factor) {
    *error = "ERR consistency level " + std::to_string(parsed.count) +
             " exceeds the replication factor (" + std::to_string(replication_factor) + ")";
    return false;
  }
  *level = parsed;
  return true;
}

bool StripRequestLevels(std::string_view command, const std::vector<std::string_view>& argv,
                        int replication_factor, std::size_t* argc, RequestLevels* levels,
                        std::string* error) {
  *argc = argv.size();
  for (const OptionRule& rule : kRules) {
    if (rule.command != command) continue;
    const std::size_t n = argv.size();
    if (n < rule.min_argc || (rule.exact && n != rule.min_argc)) return true;
    if (!EqualsIgnoreCase(argv[n - 2], std::string_view(&rule.letter, 1))) return true;
    cluster::ConsistencyLevel level;
    if (!ParseLevelArgument(argv[n - 1], replication_factor, &level, error)) return false;
    (rule.letter == 'R' ? levels->read : levels->write) = level;
    *argc = n - 2;
    return true;
  }
  return true;
}

}  // namespace dynakv::server
