#include "expire_options.h"

#include <limits>

#include "command.h"
#include "command_util.h"
#include "number_parse.h"

namespace dynakv::server {

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

}  // namespace

bool ParseStringOptions(std::span<const std::string_view> args, StringCommand command,
                        StringOptions* o) {
  const bool is_set = command == StringCommand::kSet;
  for (std::size_t j = 0; j < args.size(); ++j) {
    const std::string_view opt = args[j];
    const bool has_next = j + 1 < args.size();
    const bool has_expire = o->expire != ExpireKind::kNone;
    // The same kind may repeat (the last number wins); a different kind is a conflict.
    auto expire_allowed = [&](ExpireKind kind) {
      return has_next && !o->keepttl && !o->persist && (!has_expire || o->expire == kind);
    };
    ExpireKind kind = ExpireKind::kNone;
    if (EqualsIgnoreCase(opt, "ex")) {
      kind = ExpireKind::kEx;
    } else if (EqualsIgnoreCase(opt, "px")) {
      kind = ExpireKind::kPx;
    } else if (EqualsIgnoreCase(opt, "exat")) {
      kind = ExpireKind::kExAt;
    } else if (EqualsIgnoreCase(opt, "pxat")) {
      kind = ExpireKind::kPxAt;
    }

    if (is_set && EqualsIgnoreCase(opt, "nx") && !o->xx) {
      o->nx = true;
    } else if (is_set && EqualsIgnoreCase(opt, "xx") && !o->nx) {
      o->xx = true;
    } else if (is_set && EqualsIgnoreCase(opt, "get")) {
      o->get = true;
    } else if (is_set && EqualsIgnoreCase(opt, "keepttl") && !has_expire) {
      o->keepttl = true;
    } else if (!is_set && EqualsIgnoreCase(opt, "persist") && !has_expire) {
      o->persist = true;
    } else if (kind != ExpireKind::kNone && expire_allowed(kind)) {
      o->expire = kind;
      o->expire_arg = args[++j];
    } else {
      return false;
    }
  }
  return true;
}

std::string InvalidExpireError(std::string_view command) {
  std::string text = "ERR invalid expire time in '";
  text.append(command);
  text.append("' command");
  return text;
}

ExpireError ResolveStringExpire(ExpireKind kind, std::string_view arg, std::int64_t now_ms,
                                std::int64_t* expire_at_ms) {
  long long v = 0;
  if (!ParseLongLong(arg, &v)) return ExpireError::kNotInteger;
  const bool seconds = kind == ExpireKind::kEx || kind == ExpireKind::kExAt;
  if (v <= 0 || (seconds && v > kMax / 1000)) return ExpireError::kInvalidTime;
  if (seconds) v *= 1000;
  if (kind == ExpireKind::kEx || kind == ExpireKind::kPx) {
    if (v > kMax - now_ms) return ExpireError::kInvalidTime;  // Redis sees the sum wrap negative
    v += now_ms;
  }
  *expire_at_ms = v;
  return ExpireError::kNone;
}

ExpireError ResolveKeyExpire(std::string_view arg, bool seconds, std::int64_t basetime_ms,
                             std::int64_t* when_ms) {
  long long v = 0;
  if (!ParseLongLong(arg, &v)) return ExpireError::kNotInteger;
  if (seconds) {
    if (v > kMax / 1000 || v < kMin / 1000) return ExpireError::kInvalidTime;
    v *= 1000;
  }
  if (v > kMax - basetime_ms) return ExpireError::kInvalidTime;
  *when_ms = v + basetime_ms;
  return ExpireError::kNone;
}

bool ReplyExpireError(resp::ReplyWriter& reply, ExpireError error, std::string_view command) {
  switch (error) {
    case ExpireError::kNone:
      return false;
    case ExpireError::kNotInteger:
      reply.Error(kErrNotInteger);
      return true;
    case ExpireError::kInvalidTime:
      reply.Error(InvalidExpireError(command));
      return true;
  }
  return false;
}

ConditionError ParseExpireCondition(std::span<const std::string_view> args,
                                    ExpireCondition* c, std::string_view* bad_option) {
  for (const std::string_view opt : args) {
    if (EqualsIgnoreCase(opt, "nx")) {
      c->nx = true;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      c->xx = true;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      c->gt = true;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      c->lt = true;
    } else {
      *bad_option = opt;
      return ConditionError::kUnsupported;
    }
  }
  if (c->nx && (c->xx || c->gt || c->lt)) return ConditionError::kNxConflict;
  if (c->gt && c->lt) return ConditionError::kGtLtConflict;
  return ConditionError::kNone;
}

std::string_view ConditionErrorText(ConditionError error) {
  switch (error) {
    case ConditionError::kNxConflict:
      return "ERR NX and XX, GT or LT options at the same time are not compatible";
    case ConditionError::kGtLtConflict:
      return "ERR GT and LT options at the same time are not compatible";
    case ConditionError::kUnsupported:
    case ConditionError::kNone:
      break;
  }
  return "ERR syntax error";
}

bool ExpireConditionAllows(const ExpireCondition& c, std::int64_t current_ms,
                           std::int64_t when_ms) {
  const bool has_ttl = current_ms != -1;
  if (c.nx && has_ttl) return false;
  if (c.xx && !has_ttl) return false;
  // No TTL is an infinite one: nothing is greater, and anything is less.
  if (c.gt && (!has_ttl || when_ms <= current_ms)) return false;
  if (c.lt && has_ttl && when_ms >= current_ms) return false;
  return true;
}

}  // namespace dynakv::server
