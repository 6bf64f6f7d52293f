// Finds commands by name and runs a connection's requests: Dispatch goes through the one path
// every command runs by (command_call.h: existence, then the checks in Redis's order, then the
// family's handler), then serves the clients its writes unblocked.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "command.h"
#include "command_call.h"
#include "command_docs.h"

namespace dynakv::server {

class ClusterExecutor;

class CommandTable {
 public:
  CommandTable();  // the families of command.h

  // Case-insensitive; nullptr when unknown. Does not allocate.
  const CommandSpec* Find(std::string_view name) const;
  // Runs a non-empty argv for `client`, replying through `reply`. `origin` is kClient, or
  // kMaster for a replica's master client (replica_link.h).
  void Dispatch(Server& server, Client& client, const std::vector<std::string_view>& argv,
                resp::ReplyWriter& reply, CallOrigin origin = CallOrigin::kClient) const;

  const std::vector<const CommandSpec*>& sorted() const { return sorted_; }
  // The same commands in the order the families define them (the constructor's order).
  const std::vector<const CommandSpec*>& defined() const { return defined_; }

  // Every command and every subcommand, numbered 0..size()-1: ACL's command bits.
  struct Entry {
    const CommandSpec* spec;
    const CommandSpec* parent;  // the container of a subcommand; else nullptr
    std::string fullname;       // "get", "client|kill"
    const CommandDoc* doc;      // what COMMAND DOCS says of it; nullptr when nothing
  };
  const std::vector<Entry>& entries() const { return entries_; }
  // The number of `spec`, which must be a row of this table.
  int IdOf(const CommandSpec* spec) const { return ids_.at(spec); }
  // "get" or "client|kill", case-insensitive; -1 when there is no such command.
  int FindId(std::string_view fullname) const;
  // A container's subcommand by name (case-insensitive); nullptr when unknown.
  static const CommandSpec* FindSubcommand(const CommandSpec& container, std::string_view name);
  // Names defined by more than one family (a bug; the first definition wins).
  const std::vector<std::string_view>& duplicates() const { return duplicates_; }

 private:
  // Cluster mode: strips the request's consistency option and hands commands with keys to the
  // coordinator.
  void DispatchClustered(Server& server, Client& client, const ResolvedCommand& cmd,
                         const std::vector<std::string_view>& request, resp::ReplyWriter& reply,
                         ClusterExecutor& cluster, CallOrigin origin) const;
  // A request refused before it ran: the error replied and counted, a transaction it was
  // meant for flagged (EXECABORT at EXEC), an EXEC refused itself ending its transaction.
  static void Reject(Server& server, Client& client, const ResolvedCommand& cmd, std::string error,
                     resp::ReplyWriter& reply);
  void AddEntry(const CommandSpec* spec, const CommandSpec* parent);

  std::unordered_map<std::string_view, const CommandSpec*> by_name_;
  std::vector<const CommandSpec*> sorted_;
  std::vector<const CommandSpec*> defined_;
  std::vector<std::string_view> duplicates_;
  std::vector<Entry> entries_;
  std::unordered_map<const CommandSpec*, int> ids_;
  std::unordered_map<std::string, int> ids_by_fullname_;
  std::size_t longest_name_ = 0;
};

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ", truncated as Redis does.
std::string UnknownCommandError(const std::vector<std::string_view>& argv);
// Whether `argc` arguments (name included) fit the arity of `spec`.
bool ArityMatches(const CommandSpec& spec, std::size_t argc);
// "get", or "client|kill" for a subcommand.
std::string FullName(const CommandSpec& spec, const CommandSpec* parent);
// "ERR unknown subcommand 'foo'. Try CLIENT HELP."
std::string UnknownSubcommandError(std::string_view command, std::string_view subcommand);

}  // namespace dynakv::server
