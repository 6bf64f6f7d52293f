// An ACL user as Redis 7.0 has it: on/off, passwords (SHA-256), and selectors, each allowing a
// set of commands, key patterns and channel patterns. The first selector is the root one; rules
// in parentheses add more ("(~b:* +get)"), and a command runs when any selector allows it.
// Rules, their errors and how a user is described back (ACL LIST, GETUSER) follow Redis's acl.c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace dynakv::server {

class CommandTable;

// Why a command was refused; the order is Redis's (ACL_DENIED_*), which ranks the reason reported
// when several selectors refuse.
enum class AclDenial { kNone = 0, kCommand = 1, kKey = 2, kAuth = 3, kChannel = 4 };

// Whether a user name or pattern holds a space or NUL, which Redis refuses in both
// (ACLStringHasSpaces).
bool AclHasSpaces(std::string_view text);

// The hex SHA-256 of a password, as stored and shown (#<hash>).
std::string AclHashPassword(std::string_view password);

// Redis's ACLMergeSelectorArguments: joins arguments that form one "(...)" selector with spaces.
// False when a '(' is never closed, with *unclosed the index of the argument that opened it.
bool AclMergeSelectorArguments(const std::vector<std::string_view>& args,
                               std::vector<std::string>* merged, std::size_t* unclosed);

class AclSelector {
 public:
  AclSelector(const CommandTable& commands, bool root);

  // One rule (allkeys, ~pat, %R~pat, &chan, +@cat, -cmd, +cmd|sub, ...). False with *error set to
  // Redis's reason ("Syntax error", "Unknown command or category name in ACL", ...).
  bool Apply(std::string_view op, std::string* error);

  // Whether it allows `spec` (a subcommand of `parent` when set) with these arguments; for a
  // refused key, *arg is its index in argv.
  AclDenial Check(const CommandSpec& spec, const CommandSpec* parent,
                  const std::vector<std::string_view>& argv, std::size_t* arg) const;
  bool AllowsEverything() const { return all_commands_ && all_keys_ && all_channels_; }
  bool all_channels() const { return all_channels_; }
  const std::vector<std::string>& channels() const { return channels_; }
  // Redis's ACLCheckChannelAgainstList over this selector's channels: a pattern subscription
  // must be listed literally, a channel may match a listed pattern.
  bool ChannelAllowed(std::string_view channel, bool is_pattern) const;

  bool root() const { return root_; }
  // ACL LIST's form: "~* &* +@all", "%R~a* resetchannels -@all +get".
  std::string Describe() const;
  // GETUSER's fields.
  std::string DescribeCommands() const;
  std::string DescribeKeys() const;
  std::string DescribeChannels() const;

 private:
  struct KeyPattern {
    std::string pattern;
    std::uint8_t access;  // kKeyRead | kKeyWrite
  };
  bool ApplyCommandRule(std::string_view op, std::string* error);
  void SetCommand(int id, bool allow);
  // A command and, for a container, all its subcommands (ACLChangeSelectorPerm).
  void ChangeCommand(int id, bool allow);
  void SetCategory(std::uint32_t category, bool allow);
  void SetAll(bool allow);  // +@all / -@all
  bool CommandAllowed(int id, const CommandSpec& spec, const CommandSpec* parent,
                      const std::vector<std::string_view>& argv) const;
  bool KeyAllowed(std::string_view key, std::uint8_t access) const;

  const CommandTable* commands_;
  bool root_;
  std::vector<bool> allowed_;     // by CommandTable id
  bool all_commands_ = false;     // SELECTOR_FLAG_ALLCOMMANDS: every bit, checked cheaply
  bool future_commands_ = false;  // the last of +@all / -@all was +@all
  std::map<int, std::vector<std::string>> first_args_;  // "+select|0": allowed first arguments
  std::vector<KeyPattern> keys_;
  bool all_keys_ = false;
  std::vector<std::string> channels_;
  bool all_channels_ = false;
};

class AclUser {
 public:
  // A new user as ACL SETUSER creates it: off, no passwords, no permissions (channels per
  // acl-pubsub-default).
  AclUser(std::string name, const CommandTable& commands, bool all_channels_by_default);

  // One SETUSER rule (user-level ones, "(...)" selectors, or the root selector's).
  bool Apply(std::string_view op, std::string* error);

  const std::string& name() const { return name_; }
  bool enabled() const { return enabled_; }
  bool nopass() const { return nopass_; }
  const std::vector<std::string>& passwords() const { return passwords_; }  // hex SHA-256
  // Redis's ACLCheckUserCredentials, comparing hashes in constant time.
  bool CheckPassword(std::string_view password) const;
  // The first selector that allows the command decides; else the most relevant refusal.
  AclDenial Check(const CommandSpec& spec, const CommandSpec* parent,
                  const std::vector<std::string_view>& argv, std::size_t* arg) const;
  // Every command, key and channel: the check can be skipped.
  bool AllowsEverything() const { return selectors_.front().AllowsEverything(); }
  // Whether any selector allows every channel.
  bool AllowsAllChannels() const;
  // Whether any selector allows a subscription to `channel` (a pattern when `is_pattern`).
  bool AllowsSubscription(std::string_view channel, bool is_pattern) const;
  // Whether every channel rule of `before` is still granted here: then no subscription this
  // change could cut off (Redis's "strict superset" shortcut before it checks subscribers).
  bool KeepsChannelsOf(const AclUser& before) const;

  // ACL LIST's line without "user <name> ": "on nopass sanitize-payload ~* &* +@all".
  std::string Describe() const;
  // The flags as GETUSER lists them.
  std::vector<std::string_view> Flags() const;
  const std::vector<AclSelector>& selectors() const { return selectors_; }

 private:
  std::string name_;
  const CommandTable* commands_;
  bool all_channels_by_default_;
  bool enabled_ = false;
  bool nopass_ = false;
  // Redis 7.0 keeps both (neither is set on the default user).
  bool sanitize_payload_ = false;
  bool skip_sanitize_payload_ = false;
  std::vector<std::string> passwords_;
  std::vector<AclSelector> selectors_;  // [0] is the root selector
};

}  // namespace dynakv::server
