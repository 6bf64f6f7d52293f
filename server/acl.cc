#include "acl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "atomic_file.h"
#include "command_table.h"

namespace dynakv::server {
namespace {

// Redis groups a refusal with an earlier identical one this recent
// (ACL_LOG_GROUPING_MAX_TIME_DELTA).
constexpr std::uint64_t kLogGroupingMs = 60000;
// Redis looks this far back for an identical entry.
constexpr int kLogGroupingScan = 10;

std::string Trim(std::string_view text, std::string_view chars) {
  const std::size_t begin = text.find_first_not_of(chars);
  if (begin == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(chars);
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

std::string NoPermError(AclDenial denial, std::string_view command_fullname) {
  switch (denial) {
    case AclDenial::kCommand:
      return "NOPERM this user has no permissions to run the '" + std::string(command_fullname) +
             "' command";
    case AclDenial::kKey:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    case AclDenial::kChannel:
      return "NOPERM this user has no permissions to access one of the channels used as "
             "arguments";
    default:
      return "ERR no permission";
  }
}

std::string DryRunDenial(AclDenial denial, std::string_view command_fullname,
                         std::string_view object) {
  switch (denial) {
    case AclDenial::kCommand:
      return "This user has no permissions to run the '" + std::string(command_fullname) +
             "' command";
    case AclDenial::kKey:
      return "This user has no permissions to access the '" + std::string(object) + "' key";
    case AclDenial::kChannel:
      return "This user has no permissions to access the '" + std::string(object) + "' channel";
    default:
      return "no permission";
  }
}

Acl::Acl(const CommandTable& commands, bool all_channels_by_default)
    : commands_(commands), all_channels_by_default_(all_channels_by_default) {
  auto user = NewUser("default");
  std::string unused;
  for (std::string_view rule : {"+@all", "~*", "&*", "on", "nopass"}) user->Apply(rule, &unused);
  users_.emplace("default", std::move(user));
}

std::unique_ptr<AclUser> Acl::NewUser(std::string name) const {
  return std::make_unique<AclUser>(std::move(name), commands_, all_channels_by_default_);
}

AclUser* Acl::Find(std::string_view name) {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

void Acl::SetDefaultPassword(std::string_view password) {
  AclUser& user = default_user();
  std::string unused;
  user.Apply("resetpass", &unused);
  if (password.empty()) {
    user.Apply("nopass", &unused);
  } else {
    user.Apply(">" + std::string(password), &unused);
  }
}

bool Acl::SetUser(std::string_view name, const std::vector<std::string_view>& rules,
                  std::string* error) {
  if (AclHasSpaces(name)) {
    *error = "ERR Usernames can't contain spaces or null characters";
    return false;
  }
  std::vector<std::string> merged;
  std::size_t unclosed = 0;
  if (!AclMergeSelectorArguments(rules, &merged, &unclosed)) {
    *error = "ERR Unmatched parenthesis in acl selector starting at '" +
             std::string(rules[unclosed]) + "'.";
    return false;
  }
  AclUser* existing = Find(name);
  // Staged on a copy, so a bad rule changes nothing.
  AclUser staged = existing != nullptr ? *existing : *NewUser(std::string(name));
  for (const std::string& rule : merged) {
    std::string reason;
    if (!staged.Apply(rule, &reason)) {
      *error = "ERR Error in ACL SETUSER modifier '" + rule + "': " + reason;
      return false;
    }
  }
  if (existing != nullptr) {
    const bool narrowed = !staged.KeepsChannelsOf(*existing);
    *existing = std::move(staged);  // in place: clients hold pointers to it
    if (narrowed && on_channels_narrowed_) on_channels_narrowed_(*existing);
  } else {
    users_.emplace(std::string(name), std::make_unique<AclUser>(std::move(staged)));
  }
  return true;
}

bool Acl::DeleteUser(std::string_view name) {
  auto it = users_.find(name);
  if (it == users_.end() || name == "default") return false;
  if (on_user_removed_) on_user_removed_(*it->second);
  users_.erase(it);
  return true;
}

AclUser* Acl::Authenticate(std::string_view name, std::string_view password) {
  AclUser* user = Find(name);
  return user != nullptr && user->CheckPassword(password) ? user : nullptr;
}

void Acl::LogDenial(AclDenial reason, AclContext context, std::string object, std::string username,
                    std::uint64_t now_ms, std::string client_info) {
  int scanned = 0;
  for (auto it = log_.begin(); it != log_.end() && scanned < kLogGroupingScan; ++it, ++scanned) {
    const bool same = it->reason == reason && it->context == context &&
                      now_ms - it->time_ms <= kLogGroupingMs && it->object == object &&
                      it->username == username;
    if (!same) continue;
    AclLogEntry entry = std::move(*it);
    log_.erase(it);
    ++entry.count;
    entry.time_ms = now_ms;
    entry.client_info = std::move(client_info);
    log_.push_front(std::move(entry));
    return;
  }
  log_.push_front(AclLogEntry{1, reason, context, std::move(object), std::move(username), now_ms,
                              std::move(client_info)});
  TrimLog();
}

void Acl::TrimLog() {
  while (log_.size() > log_max_len_) log_.pop_back();
}

bool Acl::LoadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::stringstream content;
  content << in.rdbuf();
  std::map<std::string, std::unique_ptr<AclUser>, std::less<>> loaded;
  std::string errors;
  std::string line;
  int number = 0;
  while (std::getline(content, line)) {
    ++number;
    const std::string trimmed = Trim(line, " \t\r\n");
    if (trimmed.empty()) continue;
    std::vector<std::string_view> argv;
    for (std::size_t start = 0; start <= trimmed.size();) {
      std::size_t end = trimmed.find(' ', start);
      if (end == std::string::npos) end = trimmed.size();
      if (end > start) argv.push_back(std::string_view(trimmed).substr(start, end - start));
      start = end + 1;
    }
    const std::string where = path + ":" + std::to_string(number);
    if (argv.size() < 2 || argv[0] != "user") {
      errors += where + " should start with user keyword followed by the username. ";
      continue;
    }
    if (loaded.count(argv[1]) != 0) {
      errors += "WARNING: Duplicate user '" + std::string(argv[1]) + "' found on line " +
                std::to_string(number) + ". ";
      continue;
    }
    auto user = NewUser(std::string(argv[1]));
    std::vector<std::string> merged;
    std::size_t unclosed = 0;
    if (!AclMergeSelectorArguments({argv.begin() + 2, argv.end()}, &merged, &unclosed)) {
      errors += where + ": Unmatched parenthesis in selector definition.";
      continue;
    }
    bool syntax_error = false;
    for (const std::string& rule : merged) {
      std::string reason;
      if (user->Apply(Trim(rule, "\t\r\n"), &reason)) continue;
      if (reason == "Unknown command or category name in ACL") {
        errors += where + ": Error in applying operation '" + rule + "': " + reason + ". ";
      } else if (!syntax_error) {
        errors += where + ": " + reason + ". ";
        syntax_error = true;
      }
    }
    loaded.emplace(std::string(argv[1]), std::move(user));
  }
  if (!errors.empty()) {
    *error = errors +
             "WARNING: ACL errors detected, no change to the previously active ACL rules was "
             "performed";
    return false;
  }
  // Every other user goes (and its clients with it); the default one keeps its identity.
  auto new_default = loaded.find("default");
  AclUser replacement = new_default != loaded.end() ? *new_default->second : *NewUser("default");
  if (new_default == loaded.end()) {
    std::string unused;
    for (std::string_view rule : {"+@all", "~*", "&*", "on", "nopass"}) {
      replacement.Apply(rule, &unused);
    }
  }
  std::unique_ptr<AclUser> old_default = std::move(users_.at("default"));
  *old_default = std::move(replacement);
  users_.erase("default");
  for (auto& [name, user] : users_) {
    if (on_user_removed_) on_user_removed_(*user);
  }
  users_ = std::move(loaded);
  users_["default"] = std::move(old_default);
  return true;
}

bool Acl::SaveFile(const std::string& path, std::string* error) const {
  std::string content;
  for (const auto& [name, user] : users_) content += "user " + name + " " + user->Describe() + "\n";
  AtomicWriteFailure failure;
  if (WriteFileAtomically(path, content, 0644, &failure)) return true;
  *error = std::strerror(failure.error);
  return false;
}

}  // namespace dynakv::server
