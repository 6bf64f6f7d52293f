// String commands (Redis's t_string.c): GET/SET and their variants, counters, ranges.
//
// A ValueRef is only valid until the next keyspace call, so a command that writes after
// reading copies what it still needs first. GET, MGET and INCR, the hot paths, allocate nothing:
// values are decompressed straight into the reply buffer and counters parsed on the stack.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "ascii.h"
#include "clock.h"
#include "command.h"
#include "command_util.h"
#include "expire_options.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "lcs.h"
#include "notify.h"
#include "number_parse.h"
#include "server.h"
#include "storage/engine.h"
#include "string_value.h"

namespace dynakv::server {

namespace {

constexpr std::string_view kErrStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

std::span<const std::string_view> ArgsFrom(const CommandContext& ctx, std::size_t first) {
  return std::span<const std::string_view>(ctx.argv).subspan(first);
}

// Redis's checkStringLength: a string may not grow past proto-max-bulk-len.
bool LengthAllowed(CommandContext& ctx, std::uint64_t base, std::uint64_t added) {
  const std::uint64_t total = base + added;
  const auto limit = static_cast<std::uint64_t>(ctx.server.config().proto_max_bulk_len);
  if (total > limit || total < base) {
    ctx.reply.Error(kErrStringTooLong);
    return false;
  }
  return true;
}

// Stores `value` with expiry `expire_at_ms` (0: none). A time already past leaves the key gone,
// which is what Redis's lazy expiry makes of SET ... PXAT <past>.
bool StoreValue(CommandContext& ctx, std::string_view key, std::string_view value,
                std::int64_t expire_at_ms) {
  if (expire_at_ms != 0 && expire_at_ms <= NowMs()) {
    ctx.keyspace.Delete(key);
    return true;
  }
  return WriteOk(ctx, ctx.keyspace.Put(key, value, expire_at_ms));
}

// How a SET-like command acknowledges: SET says OK or nil (NX/XX not met), SETNX 1 or 0.
enum class SetReply { kOkOrNil, kOneOrZero };

// Redis's setGenericCommand. The expiry is validated before anything is looked up.
void SetGeneric(CommandContext& ctx, std::string_view key, std::string_view value,
                const StringOptions& opt, std::string_view command, SetReply style) {
  Keyspace& keyspace = ctx.keyspace;
  std::int64_t expire_at = 0;
  if (opt.expire != ExpireKind::kNone) {
    const ExpireError error = ResolveStringExpire(opt.expire, opt.expire_arg, NowMs(), &expire_at);
    if (ReplyExpireError(ctx.reply, error, command)) return;
  }

  // Look up only what the options need: the fast path (plain SET) does no lookup at all.
  bool found = false;
  std::int64_t old_expire = 0;
  std::optional<std::string> old_value;  // SET ... GET replies with it
  if (opt.get) {
    if (std::optional<storage::ValueRef> old = LookupRead(ctx, key)) {
      if (ReplyIfNotString(ctx, *old)) return;
      found = true;
      old_expire = old->expire_at_ms();
      old_value = old->ToString();
    }
  } else if (opt.keepttl) {
    const std::optional<std::int64_t> current = keyspace.GetExpireAt(key);
    found = current.has_value();
    old_expire = current.value_or(0);
  } else if (opt.nx || opt.xx) {
    found = keyspace.Exists(key);
  }

  auto reply_get = [&] {
    if (old_value) {
      ctx.reply.Bulk(*old_value);
    } else {
      ctx.reply.Null();
    }
  };
  if ((opt.nx && found) || (opt.xx && !found)) {
    if (opt.get) {
      reply_get();
    } else if (style == SetReply::kOneOrZero) {
      ctx.reply.Integer(0);
    } else {
      ctx.reply.Null();
    }
    return;
  }

  if (opt.expire == ExpireKind::kNone) expire_at = opt.keepttl ? old_expire : 0;
  if (!StoreValue(ctx, key, value, expire_at)) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "set", key);
  if (opt.expire != ExpireKind::kNone) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "expire", key);
  if (opt.get) {
    reply_get();
  } else if (style == SetReply::kOneOrZero) {
    ctx.reply.Integer(1);
  } else {
    ctx.reply.Ok();
  }
}

void GetCommand(CommandContext& ctx) {
  if (std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1])) {
    if (ReplyIfNotString(ctx, *value)) return;
    ReplyValue(ctx.reply, *value);
  } else {
    ctx.reply.Null();
  }
}

void SetCommand(CommandContext& ctx) {
  StringOptions opt;
  if (!ParseStringOptions(ArgsFrom(ctx, 3), StringCommand::kSet, &opt)) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  SetGeneric(ctx, ctx.argv[1], ctx.argv[2], opt, "set", SetReply::kOkOrNil);
}

void SetNxCommand(CommandContext& ctx) {
  StringOptions opt;
  opt.nx = true;
  SetGeneric(ctx, ctx.argv[1], ctx.argv[2], opt, "setnx", SetReply::kOneOrZero);
}

void SetExGeneric(CommandContext& ctx, ExpireKind kind, std::string_view command) {
  StringOptions opt;
  opt.expire = kind;
  opt.expire_arg = ctx.argv[2];
  SetGeneric(ctx, ctx.argv[1], ctx.argv[3], opt, command, SetReply::kOkOrNil);
}

void SetExCommand(CommandContext& ctx) { SetExGeneric(ctx, ExpireKind::kEx, "setex"); }
void PSetExCommand(CommandContext& ctx) { SetExGeneric(ctx, ExpireKind::kPx, "psetex"); }

void GetSetCommand(CommandContext& ctx) {
  StringOptions opt;
  opt.get = true;
  SetGeneric(ctx, ctx.argv[1], ctx.argv[2], opt, "getset", SetReply::kOkOrNil);
}

void GetDelCommand(CommandContext& ctx) {
  std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1]);
  if (!value) {
    ctx.reply.Null();
    return;
  }
  if (ReplyIfNotString(ctx, *value)) return;
  ReplyValue(ctx.reply, *value);
  if (ctx.keyspace.Delete(ctx.argv[1]))
    NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", ctx.argv[1]);
}

void GetExCommand(CommandContext& ctx) {
  StringOptions opt;
  if (!ParseStringOptions(ArgsFrom(ctx, 2), StringCommand::kGetEx, &opt)) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const std::string_view key = ctx.argv[1];
  std::optional<storage::ValueRef> value = LookupRead(ctx, key);
  if (!value) {  // a missing key answers nil before the expiry is even validated
    ctx.reply.Null();
    return;
  }
  if (ReplyIfNotString(ctx, *value)) return;
  const std::int64_t now = NowMs();
  std::int64_t expire_at = 0;
  if (opt.expire != ExpireKind::kNone) {
    const ExpireError error = ResolveStringExpire(opt.expire, opt.expire_arg, now, &expire_at);
    if (ReplyExpireError(ctx.reply, error, "getex")) return;
  }
  const bool had_expiry = value->expire_at_ms() != 0;
  ReplyValue(ctx.reply, *value);  // before the keyspace is touched again
  if (opt.expire != ExpireKind::kNone) {
    if (expire_at <= now) {
      ctx.keyspace.Delete(key);
      NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
    } else {
      ctx.keyspace.SetExpireAt(key, expire_at);
      NotifyKeyspaceEvent(ctx, kNotifyGeneric, "expire", key);
    }
  } else if (opt.persist && had_expiry) {
    ctx.keyspace.SetExpireAt(key, 0);
    NotifyKeyspaceEvent(ctx, kNotifyGeneric, "persist", key);
  }
}

void MGetCommand(CommandContext& ctx) {
  ctx.reply.ArrayHeader(ctx.argv.size() - 1);
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[i]);
    if (value && value->object() == nullptr) {  // any other type reads as nil, as in Redis
      ReplyValue(ctx.reply, *value);
    } else {
      ctx.reply.Null();
    }
  }
}

// MSET and MSETNX: the pairs are stored in order, so a repeated key keeps its last value.
bool MSetPairs(CommandContext& ctx, std::string_view command) {
  if (ctx.argv.size() % 2 == 0) {
    ReplyWrongArity(ctx.reply, command);
    return false;
  }
  return true;
}

bool StorePairs(CommandContext& ctx) {
  for (std::size_t i = 1; i < ctx.argv.size(); i += 2) {
    if (!WriteOk(ctx, ctx.keyspace.Put(ctx.argv[i], ctx.argv[i + 1], 0))) return false;
    NotifyKeyspaceEvent(ctx, kNotifyString, "set", ctx.argv[i]);
  }
  return true;
}

void MSetCommand(CommandContext& ctx) {
  if (!MSetPairs(ctx, "mset") || !StorePairs(ctx)) return;
  ctx.reply.Ok();
}

void MSetNxCommand(CommandContext& ctx) {
  if (!MSetPairs(ctx, "msetnx")) return;
  for (std::size_t i = 1; i < ctx.argv.size(); i += 2) {
    if (ctx.keyspace.Exists(ctx.argv[i])) {
      ctx.reply.Integer(0);
      return;
    }
  }
  if (!StorePairs(ctx)) return;
  ctx.reply.Integer(1);
}

// Redis's incrDecrCommand. The key keeps its expiry; a missing key counts as 0.
void IncrDecr(CommandContext& ctx, long long incr) {
  Keyspace& keyspace = ctx.keyspace;
  const std::string_view key = ctx.argv[1];
  long long value = 0;
  std::int64_t expire_at = 0;
  if (std::optional<storage::ValueRef> current = keyspace.Get(key)) {
    if (ReplyIfNotString(ctx, *current)) return;
    char digits[kMaxLongLongChars];
    if (current->size() > sizeof(digits)) {
      ctx.reply.Error(kErrNotInteger);
      return;
    }
    current->CopyTo(digits);
    if (!ParseLongLong(std::string_view(digits, current->size()), &value)) {
      ctx.reply.Error(kErrNotInteger);
      return;
    }
    expire_at = current->expire_at_ms();
  }
  constexpr long long kMin = std::numeric_limits<long long>::min();
  constexpr long long kMax = std::numeric_limits<long long>::max();
  if ((incr < 0 && value < 0 && incr < kMin - value) ||
      (incr > 0 && value > 0 && incr > kMax - value)) {
    ctx.reply.Error(kErrOverflow);
    return;
  }
  value += incr;
  char text[kMaxLongLongChars];
  const std::to_chars_result end = std::to_chars(text, text + sizeof(text), value);
  const std::string_view stored(text, static_cast<std::size_t>(end.ptr - text));
  if (!WriteOk(ctx, keyspace.Put(key, stored, expire_at))) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "incrby", key);
  ctx.reply.Integer(value);
}

bool ParseIncrement(CommandContext& ctx, long long* incr) {
  if (ParseLongLong(ctx.argv[2], incr)) return true;
  ctx.reply.Error(kErrNotInteger);
  return false;
}

void IncrCommand(CommandContext& ctx) { IncrDecr(ctx, 1); }
void DecrCommand(CommandContext& ctx) { IncrDecr(ctx, -1); }

void IncrByCommand(CommandContext& ctx) {
  long long incr = 0;
  if (ParseIncrement(ctx, &incr)) IncrDecr(ctx, incr);
}

void DecrByCommand(CommandContext& ctx) {
  long long decr = 0;
  if (!ParseIncrement(ctx, &decr)) return;
  if (decr == std::numeric_limits<long long>::min()) {  // its negation does not exist
    ctx.reply.Error("ERR decrement would overflow");
    return;
  }
  IncrDecr(ctx, -decr);
}

void IncrByFloatCommand(CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace;
  const std::string_view key = ctx.argv[1];
  long double value = 0;
  std::int64_t expire_at = 0;
  if (std::optional<storage::ValueRef> current = keyspace.Get(key)) {
    if (ReplyIfNotString(ctx, *current)) return;
    // Longer text is never a float (string2ld's limit); checking first avoids copying it.
    char text[kMaxLongDoubleChars];
    if (current->size() >= sizeof(text)) {
      ctx.reply.Error(kErrNotFloat);
      return;
    }
    current->CopyTo(text);
    if (!ParseLongDouble(std::string_view(text, current->size()), &value)) {
      ctx.reply.Error(kErrNotFloat);
      return;
    }
    expire_at = current->expire_at_ms();
  }
  long double incr = 0;
  if (!ParseLongDouble(ctx.argv[2], &incr)) {
    ctx.reply.Error(kErrNotFloat);
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply.Error("ERR increment would produce NaN or Infinity");
    return;
  }
  const std::string stored = FormatLongDouble(value);
  // Redis makes the new value from its text, never an int (createStringObjectFromLongDouble).
  if (!WriteOk(ctx, keyspace.PutString(key, stored, expire_at, kStringText))) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "incrbyfloat", key);
  ctx.reply.Bulk(stored);
}

void AppendCommand(CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace;
  const std::string_view key = ctx.argv[1];
  const std::string_view tail = ctx.argv[2];
  std::optional<storage::ValueRef> current = keyspace.Get(key);
  if (!current) {
    if (!WriteOk(ctx, keyspace.Put(key, tail, 0))) return;
    NotifyKeyspaceEvent(ctx, kNotifyString, "append", key);
    ctx.reply.Integer(static_cast<long long>(tail.size()));
    return;
  }
  if (ReplyIfNotString(ctx, *current)) return;
  if (!LengthAllowed(ctx, current->size(), tail.size())) return;
  std::string value(current->size() + tail.size(), '\0');
  current->CopyTo(value.data());
  std::memcpy(value.data() + current->size(), tail.data(), tail.size());
  // Redis unshares the value and appends in place: raw, however short (a new key above is SET's).
  if (!WriteOk(ctx, keyspace.PutString(key, value, current->expire_at_ms(), kStringRaw))) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "append", key);
  ctx.reply.Integer(static_cast<long long>(value.size()));
}

void StrLenCommand(CommandContext& ctx) {
  std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1]);
  if (value && ReplyIfNotString(ctx, *value)) return;
  ctx.reply.Integer(value ? static_cast<long long>(value->size()) : 0);
}

// GETRANGE (and its old name SUBSTR): inclusive offsets, negative ones counted from the end.
void GetRangeCommand(CommandContext& ctx) {
  long long start = 0;
  long long end = 0;
  if (!ParseLongLong(ctx.argv[2], &start) || !ParseLongLong(ctx.argv[3], &end)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[1]);
  if (!value) {
    ctx.reply.Bulk("");
    return;
  }
  if (ReplyIfNotString(ctx, *value)) return;
  const auto len = static_cast<long long>(value->size());
  if (start < 0 && end < 0 && start > end) {
    ctx.reply.Bulk("");
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.reply.Bulk("");
    return;
  }
  if (start == 0 && end == len - 1) {  // the whole value: no intermediate copy
    ReplyValue(ctx.reply, *value);
    return;
  }
  const std::string text = value->ToString();
  ctx.reply.Bulk(std::string_view(text).substr(static_cast<std::size_t>(start),
                                               static_cast<std::size_t>(end - start + 1)));
}

void SetRangeCommand(CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace;
  const std::string_view key = ctx.argv[1];
  const std::string_view patch = ctx.argv[3];
  long long offset = 0;
  if (!ParseLongLong(ctx.argv[2], &offset)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  if (offset < 0) {
    ctx.reply.Error("ERR offset is out of range");
    return;
  }
  std::optional<storage::ValueRef> current = keyspace.Get(key);
  if (current && ReplyIfNotString(ctx, *current)) return;
  if (patch.empty()) {  // nothing to write: a missing key stays missing
    ctx.reply.Integer(current ? static_cast<long long>(current->size()) : 0);
    return;
  }
  const auto at = static_cast<std::uint64_t>(offset);
  if (!LengthAllowed(ctx, at, patch.size())) return;
  const std::size_t old_size = current ? current->size() : 0;
  const std::size_t new_size = std::max<std::size_t>(old_size, at + patch.size());
  // Only the new bytes are written (and logged), whatever the value's size.
  if (!WriteOk(ctx, keyspace.PatchString(key, {storage::BytePatch{at, patch}}))) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "setrange", key);
  ctx.reply.Integer(static_cast<long long>(new_size));
}

// LCS a b [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: missing keys are empty strings.
void LcsCommand(CommandContext& ctx) {
  std::optional<StringView> first;
  std::optional<StringView> second;
  // Another type is refused with LCS's own text, not WRONGTYPE (Redis 7.0).
  constexpr std::string_view kNotStrings = "ERR The specified keys must contain string values";
  if (!ReadString(ctx, ctx.argv[1], &first, kNotStrings)) return;
  const std::string a = first ? std::string(first->bytes()) : std::string();
  if (!ReadString(ctx, ctx.argv[2], &second, kNotStrings)) return;
  const std::string_view b = second ? second->bytes() : std::string_view();
  bool get_len = false;
  bool get_idx = false;
  bool with_match_len = false;
  long long min_match_len = 0;
  for (std::size_t j = 3; j < ctx.argv.size(); ++j) {
    const std::string_view opt = ctx.argv[j];
    const bool more = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "idx")) {
      get_idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      get_len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && more) {
      if (!ParseLongLong(ctx.argv[++j], &min_match_len)) {
        ctx.reply.Error(kErrNotInteger);
        return;
      }
      if (min_match_len < 0) min_match_len = 0;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  if (get_idx && get_len) {
    ctx.reply.Error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  if (LcsTableBytes(a.size(), b.size()) >
      static_cast<std::uint64_t>(ctx.server.config().proto_max_bulk_len)) {
    ctx.reply.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return;
  }
  const LcsResult lcs =
      ComputeLcs(a, b, get_idx || !get_len, static_cast<std::uint64_t>(min_match_len));
  if (get_idx) {
    ctx.reply.MapHeader(2);
    ctx.reply.Bulk("matches");
    ctx.reply.ArrayHeader(lcs.matches.size());
    for (const LcsMatch& match : lcs.matches) {
      ctx.reply.ArrayHeader(with_match_len ? 3 : 2);
      ctx.reply.ArrayHeader(2);
      ctx.reply.Integer(match.a_start);
      ctx.reply.Integer(match.a_end);
      ctx.reply.ArrayHeader(2);
      ctx.reply.Integer(match.b_start);
      ctx.reply.Integer(match.b_end);
      if (with_match_len) ctx.reply.Integer(match.length());
    }
    ctx.reply.Bulk("len");
    ctx.reply.Integer(lcs.length);
  } else if (get_len) {
    ctx.reply.Integer(lcs.length);
  } else {
    ctx.reply.Bulk(lcs.sequence);
  }
}

// Redis's setGetKeys: with the GET option the key is read too.
int SetGetKeys(const std::vector<std::string_view>& argv, std::vector<KeyRef>* keys) {
  bool get = false;
  for (std::size_t i = 3; i < argv.size() && !get; ++i) get = EqualsIgnoreCase(argv[i], "get");
  keys->assign(1, KeyRef{1, static_cast<std::uint16_t>(get ? kKeyRW | kKeyAccess | kKeyUpdate
                                                           : kKeyOW | kKeyUpdate)});
  return 1;
}

// SET's options (argv[3] on); false when they do not parse: the SET replies a syntax error and
// writes nothing.
bool ParseSetOptions(const std::vector<std::string_view>& argv, StringOptions* opt) {
  const std::span<const std::string_view> options =
      std::span<const std::string_view>(argv).subspan(std::min<std::size_t>(3, argv.size()));
  return ParseStringOptions(options, StringCommand::kSet, opt);
}

// Cluster mode: a SET without NX/XX/GET/KEEPTTL does not depend on the old value (nor does one
// that fails to parse).
bool SetIsBlind(const std::vector<std::string_view>& argv) {
  StringOptions opt;
  return !ParseSetOptions(argv, &opt) || (!opt.nx && !opt.xx && !opt.get && !opt.keepttl);
}

// Cluster mode: a SET with NX, XX or GET decides by the value it finds (a lock, a compare).
bool SetIsConditional(const std::vector<std::string_view>& argv) {
  StringOptions opt;
  return ParseSetOptions(argv, &opt) && (opt.nx || opt.xx || opt.get);
}

// Arity, flags, ACL categories, key specs and tips as Redis 7.0 declares them; the cluster
// behaviour (level option, blind writes) is dynakv's.
// clang-format off
constexpr CommandSpec kStringCommands[] = {
    {.name = "get", .arity = 2, .flags = kCmdReadOnly | kCmdFast | kCmdLevelOption,
     .acl = kAclString, .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = GetCommand},
    // Redis 7 marks its key RW + ACCESS only with the GET option (variable_flags): SetGetKeys
    // gives each request's flags.
    {.name = "set", .arity = -3, .flags = kCmdWrite | kCmdDenyOom | kCmdLevelOption,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate | kKeyVariableFlags,
                    "RW and ACCESS due to the optional `GET` argument")},
     .getkeys = SetGetKeys, .blind = SetIsBlind, .conditional = SetIsConditional,
     .handler = SetCommand},
    {.name = "setnx", .arity = 3, .flags = kCmdWrite | kCmdDenyOom | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyOW | kKeyInsert)}, .handler = SetNxCommand},
    {.name = "setex", .arity = 4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate)}, .blind = AlwaysBlind, .handler = SetExCommand},
    {.name = "psetex", .arity = 4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate)}, .blind = AlwaysBlind, .handler = PSetExCommand},
    {.name = "getset", .arity = 3, .flags = kCmdWrite | kCmdDenyOom | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .conditional = AlwaysConditional,
     .handler = GetSetCommand},
    {.name = "getdel", .arity = 2, .flags = kCmdWrite | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .conditional = AlwaysConditional,
     .handler = GetDelCommand},
    {.name = "getex", .arity = -2, .flags = kCmdWrite | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate,
                    "RW and UPDATE because it changes the TTL")},
     .handler = GetExCommand},
    {.name = "mget", .arity = -2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclString,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO | kKeyAccess)}, .tips = "request_policy:multi_shard",
     .handler = MGetCommand},
    {.name = "mset", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
     .keys = {IndexRange(1, -1, 2, 0, kKeyOW | kKeyUpdate)},
     .tips = "request_policy:multi_shard response_policy:all_succeeded", .blind = AlwaysBlind,
     .handler = MSetCommand},
    {.name = "msetnx", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
     .keys = {IndexRange(1, -1, 2, 0, kKeyOW | kKeyInsert)},
     .tips = "request_policy:multi_shard response_policy:agg_min", .handler = MSetNxCommand},
    {.name = "incr", .arity = 2,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdLevelOption | kCmdClusterCounter,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .conditional = AlwaysConditional,
     .handler = IncrCommand},
    {.name = "decr", .arity = 2,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdLevelOption | kCmdClusterCounter,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .conditional = AlwaysConditional,
     .handler = DecrCommand},
    {.name = "incrby", .arity = 3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdLevelOption | kCmdClusterCounter,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .conditional = AlwaysConditional,
     .handler = IncrByCommand},
    {.name = "decrby", .arity = 3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdLevelOption | kCmdClusterCounter,
     .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .conditional = AlwaysConditional,
     .handler = DecrByCommand},
    {.name = "incrbyfloat", .arity = 3, .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
     .acl = kAclString, .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)},
     .conditional = AlwaysConditional, .handler = IncrByFloatCommand},
    {.name = "append", .arity = 3, .flags = kCmdWrite | kCmdDenyOom | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = AppendCommand},
    {.name = "strlen", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRO)}, .handler = StrLenCommand},
    {.name = "getrange", .arity = 4, .flags = kCmdReadOnly, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = GetRangeCommand},
    {.name = "substr", .arity = 4, .flags = kCmdReadOnly, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = GetRangeCommand},
    {.name = "setrange", .arity = 4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclString,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = SetRangeCommand},
    {.name = "lcs", .arity = -3, .flags = kCmdReadOnly, .acl = kAclString,
     .keys = {IndexRange(1, 1, 1, 0, kKeyRO | kKeyAccess)}, .handler = LcsCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> StringCommands() { return kStringCommands; }

}  // namespace dynakv::server
