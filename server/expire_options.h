// The expiry arguments of the string and keyspace commands, parsed with Redis's exact rules:
// SET's and GETEX's option lists (NX|XX, GET, EX|PX|EXAT|PXAT|KEEPTTL|PERSIST) and the
// EXPIRE family's conditions (NX|XX|GT|LT). Pure logic over argument text and a clock reading,
// so it is tested without a server.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "resp/reply_writer.h"

namespace dynakv::server {

enum class ExpireKind { kNone, kEx, kPx, kExAt, kPxAt };

// Options after SET's value or GETEX's key.
struct StringOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;      // SET ... GET
  bool keepttl = false;  // SET only
  bool persist = false;  // GETEX only
  ExpireKind expire = ExpireKind::kNone;
  std::string_view expire_arg;  // the number after EX/PX/EXAT/PXAT
};

enum class StringCommand { kSet, kGetEx };

// Returns false on a syntax error: an unknown option, a missing number, or a conflicting pair
// (NX with XX, two different expiry kinds, KEEPTTL or PERSIST with an expiry). Repeating the same
// option is allowed and the last number wins, as in Redis.
bool ParseStringOptions(std::span<const std::string_view> args, StringCommand command,
                        StringOptions* options);

enum class ExpireError {
  kNone,
  kNotInteger,   // -> kErrNotInteger
  kInvalidTime,  // -> "ERR invalid expire time in '<command>' command"
};

// "ERR invalid expire time in 'set' command": `command` is the lower-case command name.
std::string InvalidExpireError(std::string_view command);

// The absolute unix-ms time an EX/PX/EXAT/PXAT argument designates. The number must be positive
// and the result must not overflow (Redis's getExpireMillisecondsOrReply).
ExpireError ResolveStringExpire(ExpireKind kind, std::string_view arg, std::int64_t now_ms,
                                std::int64_t* expire_at_ms);

// The absolute unix-ms time of EXPIRE (seconds, basetime now), PEXPIRE (ms, now), EXPIREAT
// (seconds, basetime 0) or PEXPIREAT (ms, 0). Zero and negative numbers are allowed (they mean
// "already expired"); only overflow is an invalid time.
ExpireError ResolveKeyExpire(std::string_view arg, bool seconds, std::int64_t basetime_ms,
                             std::int64_t* when_ms);

// Replies with the error text for `error` and returns true; returns false for kNone.
bool ReplyExpireError(resp::ReplyWriter& reply, ExpireError error, std::string_view command);

// EXPIRE's NX|XX|GT|LT.
struct ExpireCondition {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
};

enum class ConditionError { kNone, kUnsupported, kNxConflict, kGtLtConflict };

// On kUnsupported, `*bad_option` is the offending argument
// ("ERR Unsupported option <arg>"); the conflicts have fixed texts (ConditionErrorText).
ConditionError ParseExpireCondition(std::span<const std::string_view> args,
                                    ExpireCondition* condition, std::string_view* bad_option);
std::string_view ConditionErrorText(ConditionError error);

// Whether the condition lets a key whose expiry is `current_ms` (-1: none, which counts as an
// infinite TTL) get the new expiry `when_ms`.
bool ExpireConditionAllows(const ExpireCondition& condition, std::int64_t current_ms,
                           std::int64_t when_ms);

}  // namespace dynakv::server
