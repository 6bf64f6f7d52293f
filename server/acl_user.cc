#include "acl_user.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include "ascii.h"
#include "command_table.h"
#include "glob.h"

namespace dynakv::server {
namespace {

// Redis's ACLSetUserStringError texts.
constexpr std::string_view kErrUnknownName = "Unknown command or category name in ACL";
constexpr std::string_view kErrSyntaxRule = "Syntax error";
constexpr std::string_view kErrKeyAfterAll =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kErrChannelAfterAll =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";
constexpr std::string_view kErrNoSuchPassword =
    "The password you are trying to remove from the user does not exist";
constexpr std::string_view kErrBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
constexpr std::string_view kErrFirstArgOfSub =
    "Allowing first-arg of a subcommand is not supported";

bool Fail(std::string* error, std::string_view reason) {
  error->assign(reason);
  return false;
}

bool ValidHash(std::string_view hash) {
  if (hash.size() != 64) return false;
  return std::all_of(hash.begin(), hash.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Redis's sdssplitargs reduced to what a selector holds: words separated by spaces.
std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace

bool AclHasSpaces(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  });
}

std::string AclHashPassword(std::string_view password) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(password.data(), password.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

bool AclMergeSelectorArguments(const std::vector<std::string_view>& args,
                               std::vector<std::string>* merged, std::size_t* unclosed) {
  merged->clear();
  std::size_t open = SIZE_MAX;
  std::string selector;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view op = args[i];
    if (open == SIZE_MAX && !op.empty() && op.front() == '(' && op.back() != ')') {
      selector.assign(op);
      open = i;
      continue;
    }
    if (open != SIZE_MAX) {
      selector += ' ';
      selector += op;
      if (!op.empty() && op.back() == ')') {
        open = SIZE_MAX;
        merged->push_back(selector);
      }
      continue;
    }
    merged->emplace_back(op);
  }
  if (open != SIZE_MAX) {
    *unclosed = open;
    return false;
  }
  return true;
}

// ---- AclSelector -----------------------------------------------------------------------------

AclSelector::AclSelector(const CommandTable& commands, bool root)
    : commands_(&commands), root_(root), allowed_(commands.entries().size(), false) {}

void AclSelector::SetCommand(int id, bool allow) {
  allowed_[static_cast<std::size_t>(id)] = allow;
  if (!allow) all_commands_ = false;
}

void AclSelector::ChangeCommand(int id, bool allow) {
  SetCommand(id, allow);
  first_args_.erase(id);
  const auto& entries = commands_->entries();
  for (const CommandSpec& sub : entries[static_cast<std::size_t>(id)].spec->subcommands) {
    SetCommand(commands_->IdOf(&sub), allow);
  }
}

void AclSelector::SetCategory(std::uint32_t category, bool allow) {
  const auto& entries = commands_->entries();
  for (std::size_t id = 0; id < entries.size(); ++id) {
    if (AclCategories(*entries[id].spec) & category) ChangeCommand(static_cast<int>(id), allow);
  }
}

void AclSelector::SetAll(bool allow) {
  std::fill(allowed_.begin(), allowed_.end(), allow);
  all_commands_ = allow;
  future_commands_ = allow;
  first_args_.clear();
}

bool AclSelector::Apply(std::string_view op, std::string* error) {
  if (op.empty()) return true;
  if (EqualsIgnoreCase(op, "allkeys") || op == "~*") {
    all_keys_ = true;
    keys_.clear();
  } else if (EqualsIgnoreCase(op, "resetkeys")) {
    all_keys_ = false;
    keys_.clear();
  } else if (EqualsIgnoreCase(op, "allchannels") || op == "&*") {
    all_channels_ = true;
    channels_.clear();
  } else if (EqualsIgnoreCase(op, "resetchannels")) {
    all_channels_ = false;
    channels_.clear();
  } else if (EqualsIgnoreCase(op, "allcommands") || EqualsIgnoreCase(op, "+@all")) {
    SetAll(true);
  } else if (EqualsIgnoreCase(op, "nocommands") || EqualsIgnoreCase(op, "-@all")) {
    SetAll(false);
  } else if (op[0] == '~' || op[0] == '%') {
    if (all_keys_) return Fail(error, kErrKeyAfterAll);
    std::uint8_t access = 0;
    std::size_t offset = 1;
    if (op[0] == '%') {
      for (; offset < op.size(); ++offset) {
        const char c = op[offset];
        if ((c == 'R' || c == 'r') && !(access & kKeyRead)) {
          access |= kKeyRead;
        } else if ((c == 'W' || c == 'w') && !(access & kKeyWrite)) {
          access |= kKeyWrite;
        } else if (c == '~') {
          ++offset;
          break;
        } else {
          return Fail(error, kErrSyntaxRule);
        }
      }
      if (access == 0) return Fail(error, kErrSyntaxRule);
    } else {
      access = kKeyReadWrite;
    }
    const std::string_view pattern = op.substr(offset);
    if (AclHasSpaces(pattern)) return Fail(error, kErrSyntaxRule);
    auto same = std::find_if(keys_.begin(), keys_.end(),
                             [&](const KeyPattern& k) { return k.pattern == pattern; });
    if (same == keys_.end()) {
      keys_.push_back(KeyPattern{std::string(pattern), access});
    } else {
      same->access |= access;
    }
  } else if (op[0] == '&') {
    if (all_channels_) return Fail(error, kErrChannelAfterAll);
    const std::string_view pattern = op.substr(1);
    if (AclHasSpaces(pattern)) return Fail(error, kErrSyntaxRule);
    if (std::find(channels_.begin(), channels_.end(), pattern) == channels_.end()) {
      channels_.emplace_back(pattern);
    }
  } else if ((op[0] == '+' || op[0] == '-') && op.size() > 1 && op[1] == '@') {
    const std::uint32_t category = AclCategoryByName(op.substr(2));
    if (category == 0) return Fail(error, kErrUnknownName);
    SetCategory(category, op[0] == '+');
  } else if (op[0] == '+' || op[0] == '-') {
    return ApplyCommandRule(op, error);
  } else {
    return Fail(error, kErrSyntaxRule);
  }
  return true;
}

bool AclSelector::ApplyCommandRule(std::string_view op, std::string* error) {
  const std::string_view name = op.substr(1);
  if (op[0] == '-' || name.find('|') == std::string_view::npos) {
    const int id = commands_->FindId(name);
    if (id < 0) return Fail(error, kErrUnknownName);
    ChangeCommand(id, op[0] == '+');
    return true;
  }
  // +cmd|sub: a container's subcommand, or an allowed first argument of another command.
  const std::size_t bar = name.rfind('|');
  const std::string_view base = name.substr(0, bar);
  const std::string_view sub = name.substr(bar + 1);
  const int base_id = commands_->FindId(base);
  if (base_id < 0) return Fail(error, kErrUnknownName);
  const CommandTable::Entry& entry = commands_->entries()[static_cast<std::size_t>(base_id)];
  if (entry.parent != nullptr) return Fail(error, kErrFirstArgOfSub);
  if (sub.empty()) return Fail(error, kErrSyntaxRule);
  if (!entry.spec->subcommands.empty()) {
    const int id = commands_->FindId(name);
    if (id < 0) return Fail(error, kErrUnknownName);
    ChangeCommand(id, true);
    return true;
  }
  std::vector<std::string>& args = first_args_[base_id];
  if (std::none_of(args.begin(), args.end(),
                   [&](const std::string& a) { return EqualsIgnoreCase(a, sub); })) {
    args.emplace_back(sub);
  }
  return true;
}

bool AclSelector::CommandAllowed(int id, const CommandSpec& spec, const CommandSpec* parent,
                                 const std::vector<std::string_view>& argv) const {
  if (all_commands_ || (spec.flags & kCmdNoAuth)) return true;
  if (allowed_[static_cast<std::size_t>(id)]) return true;
  auto it = first_args_.find(id);
  const std::size_t index = parent != nullptr ? 2 : 1;
  if (it == first_args_.end() || argv.size() < 2 || argv.size() <= index) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& a) { return EqualsIgnoreCase(a, argv[index]); });
}

bool AclSelector::KeyAllowed(std::string_view key, std::uint8_t access) const {
  if (all_keys_) return true;
  for (const KeyPattern& pattern : keys_) {
    if ((pattern.access & access) != access) continue;
    if (GlobMatch(pattern.pattern, key)) return true;
  }
  return false;
}

bool AclSelector::ChannelAllowed(std::string_view channel, bool is_pattern) const {
  if (all_channels_) return true;
  // Redis's ACLCheckChannelAgainstList: a pattern subscription must be allowed literally, a
  // channel may match an allowed pattern.
  for (const std::string& allowed : channels_) {
    if (is_pattern ? allowed == channel : GlobMatch(allowed, channel)) return true;
  }
  return false;
}

namespace {
// The channels a command publishes or subscribes to (Redis's getChannelsFromCommand; the
// unsubscribe commands are not checked): arguments [1, last] of argv, patterns or not.
bool ChannelArguments(const CommandSpec& spec, std::size_t argc, std::size_t* last,
                      bool* is_pattern) {
  if (!(spec.flags & kCmdPubSub) || argc < 2) return false;
  *is_pattern = false;
  if (spec.name == "publish" || spec.name == "spublish") {
    *last = 1;
  } else if (spec.name == "subscribe" || spec.name == "ssubscribe") {
    *last = argc - 1;
  } else if (spec.name == "psubscribe") {
    *last = argc - 1;
    *is_pattern = true;
  } else {
    return false;
  }
  return true;
}
}  // namespace

AclDenial AclSelector::Check(const CommandSpec& spec, const CommandSpec* parent,
                             const std::vector<std::string_view>& argv, std::size_t* arg) const {
  if (!CommandAllowed(commands_->IdOf(&spec), spec, parent, argv)) return AclDenial::kCommand;
  if (!all_keys_ && HasKeys(spec)) {
    // Each key as its key spec uses it (Redis's ACLSelectorCheckKey).
    std::vector<KeyRef> keys;
    GetKeys(spec, argv, &keys);
    for (const KeyRef& key : keys) {
      const auto pos = static_cast<std::size_t>(key.pos);
      if (!KeyAllowed(argv[pos], KeyAccessOf(key.flags))) {
        *arg = pos;
        return AclDenial::kKey;
      }
    }
  }
  std::size_t last = 0;
  bool is_pattern = false;
  if (!all_channels_ && parent == nullptr &&
      ChannelArguments(spec, argv.size(), &last, &is_pattern)) {
    for (std::size_t pos = 1; pos <= last; ++pos) {
      if (!ChannelAllowed(argv[pos], is_pattern)) {
        *arg = pos;
        return AclDenial::kChannel;
      }
    }
  }
  return AclDenial::kNone;
}

// Redis 7.0's ACLDescribeSelectorCommandRules: rules rebuilt from the bits, not the rules as
// given. Start from +@all (when the last of +@all/-@all was +@all) or -@all, add (or remove)
// the categories that fit best, then name the single commands still different. Redis names those
// in its hash table's order; here in table order.
std::string AclSelector::DescribeCommands() const {
  const auto& entries = commands_->entries();
  const bool additive = !future_commands_;
  std::string rules = additive ? "-@all " : "+@all ";
  AclSelector fake(*commands_, false);
  fake.SetAll(!additive);
  AclSelector temp(*commands_, false);
  temp.allowed_ = allowed_;
  bool applied[kAclCategoryCount] = {};
  while (true) {
    int best = -1;
    unsigned long min_diff = INT_MAX;
    unsigned long max_same = 0;
    for (int c = 0; c < kAclCategoryCount; ++c) {
      if (applied[c]) continue;
      unsigned long on = 0;
      unsigned long off = 0;
      for (std::size_t id = 0; id < entries.size(); ++id) {
        if (!(AclCategories(*entries[id].spec) & (1u << c))) continue;
        if (temp.allowed_[id]) {
          ++on;
        } else {
          ++off;
        }
      }
      const unsigned long diff = additive ? off : on;
      const unsigned long same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = c;
        min_diff = diff;
        max_same = same;
      }
    }
    if (best == -1) break;
    fake.SetCategory(1u << best, additive);
    temp.SetCategory(1u << best, !additive);
    rules += additive ? "+@" : "-@";
    rules += AclCategoryName(1u << best);
    rules += ' ';
    applied[best] = true;
  }
  for (std::size_t id = 0; id < entries.size(); ++id) {
    const bool user_bit = allowed_[id];
    if (user_bit != fake.allowed_[id]) {
      rules += user_bit ? '+' : '-';
      rules += entries[id].fullname;
      rules += ' ';
      fake.ChangeCommand(static_cast<int>(id), user_bit);
    }
    auto first = first_args_.find(static_cast<int>(id));
    if (!user_bit && first != first_args_.end()) {
      for (const std::string& arg : first->second) {
        rules += '+' + entries[id].fullname + '|' + arg + ' ';
      }
    }
  }
  rules.pop_back();
  return rules;
}

namespace {
std::string PatternString(std::string_view pattern, std::uint8_t access) {
  std::string out = access == kKeyReadWrite ? "~" : access == kKeyRead ? "%R~" : "%W~";
  out.append(pattern);
  return out;
}
}  // namespace

std::string AclSelector::DescribeKeys() const {
  if (all_keys_) return "~*";
  std::string out;
  for (const KeyPattern& k : keys_) {
    if (!out.empty()) out += ' ';
    out += PatternString(k.pattern, k.access);
  }
  return out;
}

std::string AclSelector::DescribeChannels() const {
  if (all_channels_) return "&*";
  std::string out;
  for (const std::string& c : channels_) {
    if (!out.empty()) out += ' ';
    out += '&' + c;
  }
  return out;
}

std::string AclSelector::Describe() const {
  std::string out;
  if (all_keys_) {
    out += "~* ";
  } else {
    for (const KeyPattern& k : keys_) out += PatternString(k.pattern, k.access) + ' ';
  }
  if (all_channels_) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    for (const std::string& c : channels_) out += '&' + c + ' ';
  }
  out += DescribeCommands();
  return out;
}

// ---- AclUser ---------------------------------------------------------------------------------

AclUser::AclUser(std::string name, const CommandTable& commands, bool all_channels_by_default)
    : name_(std::move(name)),
      commands_(&commands),
      all_channels_by_default_(all_channels_by_default) {
  selectors_.emplace_back(commands, /*root=*/true);
  std::string unused;
  if (all_channels_by_default_) selectors_.front().Apply("allchannels", &unused);
}

bool AclUser::Apply(std::string_view op, std::string* error) {
  if (op.empty()) return true;
  if (EqualsIgnoreCase(op, "on")) {
    enabled_ = true;
  } else if (EqualsIgnoreCase(op, "off")) {
    enabled_ = false;
  } else if (EqualsIgnoreCase(op, "skip-sanitize-payload")) {
    skip_sanitize_payload_ = true;
    sanitize_payload_ = false;
  } else if (EqualsIgnoreCase(op, "sanitize-payload")) {
    skip_sanitize_payload_ = false;
    sanitize_payload_ = true;
  } else if (EqualsIgnoreCase(op, "nopass")) {
    nopass_ = true;
    passwords_.clear();
  } else if (EqualsIgnoreCase(op, "resetpass")) {
    nopass_ = false;
    passwords_.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string hash;
    if (op[0] == '>') {
      hash = AclHashPassword(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return Fail(error, kErrBadHash);
      hash.assign(op.substr(1));
    }
    if (std::find(passwords_.begin(), passwords_.end(), hash) == passwords_.end()) {
      passwords_.push_back(hash);
    }
    nopass_ = false;
  } else if (op[0] == '<' || op[0] == '!') {
    std::string hash;
    if (op[0] == '<') {
      hash = AclHashPassword(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return Fail(error, kErrBadHash);
      hash.assign(op.substr(1));
    }
    auto it = std::find(passwords_.begin(), passwords_.end(), hash);
    if (it == passwords_.end()) return Fail(error, kErrNoSuchPassword);
    passwords_.erase(it);
  } else if (op.front() == '(' && op.back() == ')') {
    AclSelector selector(*commands_, /*root=*/false);
    std::string unused;
    if (all_channels_by_default_) selector.Apply("allchannels", &unused);
    for (std::string_view word : SplitWords(op.substr(1, op.size() - 2))) {
      if (!selector.Apply(word, error)) return false;
    }
    selectors_.push_back(std::move(selector));
  } else if (EqualsIgnoreCase(op, "clearselectors")) {
    selectors_.erase(selectors_.begin() + 1, selectors_.end());
  } else if (EqualsIgnoreCase(op, "reset")) {
    std::string unused;
    for (std::string_view rule : {"resetpass", "resetkeys", "resetchannels"}) Apply(rule, &unused);
    if (all_channels_by_default_) Apply("allchannels", &unused);
    for (std::string_view rule : {"off", "sanitize-payload", "clearselectors", "-@all"}) {
      Apply(rule, &unused);
    }
  } else {
    return selectors_.front().Apply(op, error);
  }
  return true;
}

bool AclUser::AllowsAllChannels() const {
  return std::any_of(selectors_.begin(), selectors_.end(),
                     [](const AclSelector& s) { return s.all_channels(); });
}

bool AclUser::AllowsSubscription(std::string_view channel, bool is_pattern) const {
  return std::any_of(selectors_.begin(), selectors_.end(),
                     [&](const AclSelector& s) { return s.ChannelAllowed(channel, is_pattern); });
}

bool AclUser::KeepsChannelsOf(const AclUser& before) const {
  if (AllowsAllChannels()) return true;
  if (before.AllowsAllChannels()) return false;
  for (const AclSelector& old : before.selectors_) {
    for (const std::string& pattern : old.channels()) {
      const bool kept =
          std::any_of(selectors_.begin(), selectors_.end(), [&](const AclSelector& s) {
            return std::find(s.channels().begin(), s.channels().end(), pattern) !=
                   s.channels().end();
          });
      if (!kept) return false;
    }
  }
  return true;
}

bool AclUser::CheckPassword(std::string_view password) const {
  if (!enabled_) return false;
  if (nopass_) return true;
  const std::string hash = AclHashPassword(password);
  bool match = false;
  for (const std::string& stored : passwords_) {
    unsigned diff = 0;
    for (std::size_t i = 0; i < hash.size() && i < stored.size(); ++i) {
      diff |= static_cast<unsigned char>(hash[i] ^ stored[i]);
    }
    if (diff == 0 && hash.size() == stored.size()) match = true;
  }
  return match;
}

AclDenial AclUser::Check(const CommandSpec& spec, const CommandSpec* parent,
                         const std::vector<std::string_view>& argv, std::size_t* arg) const {
  AclDenial relevant = AclDenial::kCommand;
  std::size_t relevant_arg = 0;
  for (const AclSelector& selector : selectors_) {
    std::size_t at = 0;
    const AclDenial denial = selector.Check(spec, parent, argv, &at);
    if (denial == AclDenial::kNone) return denial;
    if (denial > relevant || (denial == relevant && at > relevant_arg)) {
      relevant = denial;
      relevant_arg = at;
    }
  }
  *arg = relevant_arg;
  return relevant;
}

std::vector<std::string_view> AclUser::Flags() const {
  std::vector<std::string_view> flags;
  flags.push_back(enabled_ ? "on" : "off");
  if (nopass_) flags.push_back("nopass");
  if (skip_sanitize_payload_) flags.push_back("skip-sanitize-payload");
  if (sanitize_payload_) flags.push_back("sanitize-payload");
  return flags;
}

std::string AclUser::Describe() const {
  std::string out;
  for (std::string_view flag : Flags()) {
    out.append(flag);
    out += ' ';
  }
  for (const std::string& hash : passwords_) out += '#' + hash + ' ';
  for (const AclSelector& selector : selectors_) {
    if (selector.root()) {
      out += selector.Describe();
    } else {
      out += " (" + selector.Describe() + ')';
    }
  }
  return out;
}

}  // namespace dynakv::server
