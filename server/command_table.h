// Finds commands by name and runs them with the checks every command shares, in Redis's order:
// existence, arity, authentication, memory; only then the family's handler.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "command.h"

namespace dynakv::server {

class ClusterExecutor;

class CommandTable {
 public:
  CommandTable();  // the four families of command.h

  // Case-insensitive; nullptr when unknown. Does not allocate.
  const CommandSpec* Find(std::string_view name) const;
  // Runs a non-empty argv for `client`, replying through `reply`.
  void Dispatch(Server& server, Client& client, const std::vector<std::string_view>& argv,
                resp::ReplyWriter& reply) const;

  const std::vector<const CommandSpec*>& sorted() const { return sorted_; }
  // Names defined by more than one family (a bug; the first definition wins).
  const std::vector<std::string_view>& duplicates() const { return duplicates_; }

 private:
  // Cluster mode: strips the request's consistency option and hands commands with keys to the
  // coordinator.
  void DispatchClustered(Server& server, Client& client, const CommandSpec& spec,
                         const std::vector<std::string_view>& request, resp::ReplyWriter& reply,
                         ClusterExecutor& cluster) const;

  std::unordered_map<std::string_view, const CommandSpec*> by_name_;
  std::vector<const CommandSpec*> sorted_;
  std::vector<std::string_view> duplicates_;
  std::size_t longest_name_ = 0;
};

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ", truncated as Redis does.
std::string UnknownCommandError(const std::vector<std::string_view>& argv);
// "ERR unknown subcommand 'foo'. Try CLIENT HELP."
std::string UnknownSubcommandError(std::string_view command, std::string_view subcommand);

}  // namespace dynakv::server
