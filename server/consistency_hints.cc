#include "consistency_hints.h"

#include "command_table.h"
#include "command_util.h"

namespace dynakv::server {

bool ParseLevelArgument(std::string_view text, int replication_factor,
                        cluster::ConsistencyLevel* level, std::string* error) {
  cluster::ConsistencyLevel parsed;
  if (!cluster::ParseConsistencyLevel(text, &parsed)) {
    *error = "ERR invalid consistency level '" + std::string(text) +
             "' (ONE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, SERIAL, LOCAL_SERIAL or a replica "
             "count)";
    return false;
  }
  if (parsed.kind == cluster::ConsistencyLevel::Kind::kCount && parsed.count > replication_factor) {
    *error = "ERR consistency level " + std::to_string(parsed.count) +
             " exceeds the replication factor (" + std::to_string(replication_factor) + ")";
    return false;
  }
  *level = parsed;
  return true;
}

bool StripRequestLevels(const CommandSpec& spec, const std::vector<std::string_view>& argv,
                        int replication_factor, std::size_t* argc, RequestLevels* levels,
                        std::string* error) {
  *argc = argv.size();
  if (!(spec.flags & kCmdLevelOption)) return true;
  const bool read = (spec.flags & kCmdReadOnly) != 0;
  // Counting the option: shorter requests have none; a fixed arity takes it only as exactly
  // two more arguments.
  const std::size_t n = argv.size();
  const std::size_t min_argc =
      static_cast<std::size_t>(spec.arity < 0 ? -spec.arity : spec.arity) + 2;
  if (n < min_argc || (spec.arity >= 0 && n != min_argc)) return true;
  if (!EqualsIgnoreCase(argv[n - 2], read ? "R" : "W")) return true;
  cluster::ConsistencyLevel level;
  if (!ParseLevelArgument(argv[n - 1], replication_factor, &level, error)) return false;
  (read ? levels->read : levels->write) = level;
  *argc = n - 2;
  return true;
}

bool StripRequestLevels(std::string_view command, const std::vector<std::string_view>& argv,
                        int replication_factor, std::size_t* argc, RequestLevels* levels,
                        std::string* error) {
  static const CommandTable table;  // immutable once built
  const CommandSpec* spec = table.Find(command);
  if (spec == nullptr) {
    *argc = argv.size();
    return true;
  }
  return StripRequestLevels(*spec, argv, replication_factor, argc, levels, error);
}

}  // namespace dynakv::server
