// The node's ACL: its users (always a "default" one), the log of refusals (ACL LOG) and the ACL
// file. Semantics and texts are Redis 7.0's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acl_user.h"

namespace dynakv::server {

class CommandTable;

// Where a refused command ran (ACL LOG's "context"): toplevel, multi (queued or run by EXEC), lua.
enum class AclContext { kToplevel, kMulti, kLua, kModule };

struct AclLogEntry {
  long long count = 1;
  AclDenial reason = AclDenial::kNone;
  AclContext context = AclContext::kToplevel;
  std::string object;  // the command, key or channel refused; for AUTH the command's name
  std::string username;
  std::uint64_t time_ms = 0;  // of the latest occurrence
  std::string client_info;    // CLIENT INFO's line of the client, without the newline
};

// "NOPERM this user has no permissions to run the 'get' command" and the others.
std::string NoPermError(AclDenial denial, std::string_view command_fullname);
// ACL DRYRUN's wording: "This user has no permissions to access the 'k' key".
std::string DryRunDenial(AclDenial denial, std::string_view command_fullname,
                         std::string_view object);

class Acl {
 public:
  // `all_channels_by_default`: acl-pubsub-default allchannels. Creates the default user: on,
  // nopass, every command, key and channel.
  Acl(const CommandTable& commands, bool all_channels_by_default);

  // Called for a user about to be destroyed (ACL DELUSER, ACL LOAD): its clients are
  // disconnected, as Redis does.
  void set_on_user_removed(std::function<void(const AclUser&)> callback) {
    on_user_removed_ = std::move(callback);
  }
  // ACL SETUSER took channel permissions from `user` (now changed in place): its clients with
  // subscriptions the new rules refuse are to be closed, as Redis 7 does.
  void set_on_channels_narrowed(std::function<void(const AclUser&)> callback) {
    on_channels_narrowed_ = std::move(callback);
  }
  void set_all_channels_by_default(bool all) { all_channels_by_default_ = all; }
  void set_log_max_len(std::size_t max) {
    log_max_len_ = max;
    TrimLog();
  }

  AclUser& default_user() { return *users_.find("default")->second; }
  const AclUser& default_user() const { return *users_.find("default")->second; }
  AclUser* Find(std::string_view name);
  const std::map<std::string, std::unique_ptr<AclUser>, std::less<>>& users() const {
    return users_;
  }
  // requirepass: the default user's only password, or nopass when empty.
  void SetDefaultPassword(std::string_view password);

  // ACL SETUSER: the rules apply all or none; the user is created when new. False with Redis's
  // error reply text.
  bool SetUser(std::string_view name, const std::vector<std::string_view>& rules,
               std::string* error);
  // ACL DELUSER of one user (not "default"): true when it existed.
  bool DeleteUser(std::string_view name);

  // The user a client authenticates as, or nullptr (no such user, off, wrong password).
  AclUser* Authenticate(std::string_view name, std::string_view password);

  // Records a refusal; repeats within 60 s of the same refusal only count (Redis's grouping).
  void LogDenial(AclDenial reason, AclContext context, std::string object, std::string username,
                 std::uint64_t now_ms, std::string client_info);
  const std::deque<AclLogEntry>& log() const { return log_; }  // newest first
  void ResetLog() { log_.clear(); }

  // ACL LOAD: replaces every user with the file's (the default one is updated in place); on any
  // error changes nothing and returns false with Redis's error text.
  bool LoadFile(const std::string& path, std::string* error);
  // ACL SAVE: writes every user ("user <name> <rules>") to a temporary file, then renames it.
  bool SaveFile(const std::string& path, std::string* error) const;

 private:
  std::unique_ptr<AclUser> NewUser(std::string name) const;
  void TrimLog();

  const CommandTable& commands_;
  bool all_channels_by_default_;
  std::map<std::string, std::unique_ptr<AclUser>, std::less<>> users_;
  std::deque<AclLogEntry> log_;
  std::size_t log_max_len_ = 128;
  std::function<void(const AclUser&)> on_user_removed_;
  std::function<void(const AclUser&)> on_channels_narrowed_;
};

}  // namespace dynakv::server
