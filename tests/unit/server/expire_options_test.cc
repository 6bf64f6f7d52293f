#include "expire_options.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "resp/reply_writer.h"

namespace dynakv::server {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

bool ParseSet(std::vector<std::string_view> args, StringOptions* o) {
  return ParseStringOptions(args, StringCommand::kSet, o);
}
bool ParseGetEx(std::vector<std::string_view> args, StringOptions* o) {
  return ParseStringOptions(args, StringCommand::kGetEx, o);
}

TEST_CASE("SET options parse case-insensitively") {
  StringOptions o;
  CHECK(ParseSet({}, &o));
  CHECK(o.expire == ExpireKind::kNone);

  o = {};
  CHECK(ParseSet({"nx", "GET", "Ex", "10"}, &o));
  CHECK(o.nx);
  CHECK(o.get);
  CHECK_FALSE(o.xx);
  CHECK(o.expire == ExpireKind::kEx);
  CHECK(o.expire_arg == "10");

  o = {};
  CHECK(ParseSet({"XX", "pxat", "123", "KEEPTTL"}, &o) == false);  // KEEPTTL after an expiry
  o = {};
  CHECK(ParseSet({"KEEPTTL", "xx"}, &o));
  CHECK(o.keepttl);
  CHECK(o.xx);

  o = {};
  CHECK(ParseSet({"EXAT", "5"}, &o));
  CHECK(o.expire == ExpireKind::kExAt);
  o = {};
  CHECK(ParseSet({"PX", "5"}, &o));
  CHECK(o.expire == ExpireKind::kPx);
}

TEST_CASE("SET options: conflicts and malformed lists are syntax errors") {
  StringOptions o;
  CHECK_FALSE(ParseSet({"NX", "XX"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"XX", "NX"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"EX", "10", "PX", "10"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"EXAT", "10", "PXAT", "10"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"KEEPTTL", "EX", "10"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"EX"}, &o));  // the number is missing
  o = {};
  CHECK_FALSE(ParseSet({"PERSIST"}, &o));  // GETEX only
  o = {};
  CHECK_FALSE(ParseSet({"NXX"}, &o));
  o = {};
  CHECK_FALSE(ParseSet({"10"}, &o));
}

TEST_CASE("SET options: a repeated option is allowed and the last number wins") {
  StringOptions o;
  CHECK(ParseSet({"EX", "10", "EX", "20"}, &o));
  CHECK(o.expire_arg == "20");
  o = {};
  CHECK(ParseSet({"NX", "NX", "GET", "GET"}, &o));
  CHECK(o.nx);
}

TEST_CASE("GETEX options") {
  StringOptions o;
  CHECK(ParseGetEx({"PERSIST"}, &o));
  CHECK(o.persist);
  o = {};
  CHECK(ParseGetEx({"px", "100"}, &o));
  CHECK(o.expire == ExpireKind::kPx);
  o = {};
  CHECK_FALSE(ParseGetEx({"PERSIST", "EX", "1"}, &o));
  o = {};
  CHECK_FALSE(ParseGetEx({"EX", "1", "PERSIST"}, &o));
  for (std::string_view set_only : {"NX", "XX", "GET", "KEEPTTL"}) {
    o = {};
    CHECK_FALSE(ParseGetEx({set_only}, &o));
  }
}

TEST_CASE("string expiry resolves to an absolute time") {
  std::int64_t at = 0;
  CHECK(ResolveStringExpire(ExpireKind::kEx, "10", kNow, &at) == ExpireError::kNone);
  CHECK(at == kNow + 10'000);
  CHECK(ResolveStringExpire(ExpireKind::kPx, "10", kNow, &at) == ExpireError::kNone);
  CHECK(at == kNow + 10);
  CHECK(ResolveStringExpire(ExpireKind::kExAt, "1000", kNow, &at) == ExpireError::kNone);
  CHECK(at == 1'000'000);
  CHECK(ResolveStringExpire(ExpireKind::kPxAt, "1000", kNow, &at) == ExpireError::kNone);
  CHECK(at == 1000);
}

TEST_CASE("string expiry errors") {
  std::int64_t at = 42;
  CHECK(ResolveStringExpire(ExpireKind::kEx, "abc", kNow, &at) == ExpireError::kNotInteger);
  CHECK(ResolveStringExpire(ExpireKind::kEx, "1.5", kNow, &at) == ExpireError::kNotInteger);
  CHECK(ResolveStringExpire(ExpireKind::kEx, "0", kNow, &at) == ExpireError::kInvalidTime);
  CHECK(ResolveStringExpire(ExpireKind::kPx, "-5", kNow, &at) == ExpireError::kInvalidTime);
  CHECK(ResolveStringExpire(ExpireKind::kPxAt, "0", kNow, &at) == ExpireError::kInvalidTime);
  // Seconds that overflow once multiplied, and relative times that overflow once added.
  CHECK(ResolveStringExpire(ExpireKind::kExAt, "9223372036854776", kNow, &at) ==
        ExpireError::kInvalidTime);
  CHECK(ResolveStringExpire(ExpireKind::kEx, "9223372036854775", kNow, &at) ==
        ExpireError::kInvalidTime);
  CHECK(ResolveStringExpire(ExpireKind::kPx, "9223372036854775807", kNow, &at) ==
        ExpireError::kInvalidTime);
  CHECK(at == 42);
  // Absolute times are not added to anything, so the largest ones are fine.
  CHECK(ResolveStringExpire(ExpireKind::kPxAt, "9223372036854775807", kNow, &at) ==
        ExpireError::kNone);
  CHECK(at == kMax);
  CHECK(InvalidExpireError("set") == "ERR invalid expire time in 'set' command");
}

TEST_CASE("expiry errors are replied with Redis's texts") {
  std::string out;
  resp::ReplyWriter reply(&out);
  CHECK_FALSE(ReplyExpireError(reply, ExpireError::kNone, "set"));
  CHECK(out.empty());
  CHECK(ReplyExpireError(reply, ExpireError::kInvalidTime, "getex"));
  CHECK(out == "-ERR invalid expire time in 'getex' command\r\n");
  out.clear();
  CHECK(ReplyExpireError(reply, ExpireError::kNotInteger, "expire"));
  CHECK(out == "-ERR value is not an integer or out of range\r\n");
}

TEST_CASE("EXPIRE family times") {
  std::int64_t when = 0;
  CHECK(ResolveKeyExpire("10", true, kNow, &when) == ExpireError::kNone);
  CHECK(when == kNow + 10'000);
  CHECK(ResolveKeyExpire("-10", true, kNow, &when) == ExpireError::kNone);
  CHECK(when == kNow - 10'000);
  CHECK(ResolveKeyExpire("0", false, 0, &when) == ExpireError::kNone);
  CHECK(when == 0);
  CHECK(ResolveKeyExpire("x", true, kNow, &when) == ExpireError::kNotInteger);
  CHECK(ResolveKeyExpire("9223372036854775807", true, kNow, &when) == ExpireError::kInvalidTime);
  CHECK(ResolveKeyExpire("-9223372036854775807", true, 0, &when) == ExpireError::kInvalidTime);
  CHECK(ResolveKeyExpire("9223372036854775807", false, kNow, &when) ==
        ExpireError::kInvalidTime);
  CHECK(ResolveKeyExpire("9223372036854775807", false, 0, &when) == ExpireError::kNone);
  CHECK(ResolveKeyExpire("-9223372036854775808", false, kNow, &when) == ExpireError::kNone);
}

TEST_CASE("EXPIRE conditions parse with Redis's compatibility rules") {
  ExpireCondition c;
  std::string_view bad;
  std::vector<std::string_view> args = {"gt", "XX"};
  CHECK(ParseExpireCondition(args, &c, &bad) == ConditionError::kNone);
  CHECK(c.gt);
  CHECK(c.xx);

  for (auto pair : std::vector<std::vector<std::string_view>>{{"NX", "XX"}, {"nx", "gt"},
                                                              {"LT", "NX"}}) {
    c = {};
    CHECK(ParseExpireCondition(pair, &c, &bad) == ConditionError::kNxConflict);
  }
  c = {};
  args = {"GT", "LT"};
  CHECK(ParseExpireCondition(args, &c, &bad) == ConditionError::kGtLtConflict);
  c = {};
  args = {"GT", "foo"};
  CHECK(ParseExpireCondition(args, &c, &bad) == ConditionError::kUnsupported);
  CHECK(bad == "foo");
  CHECK(ConditionErrorText(ConditionError::kNxConflict) ==
        "ERR NX and XX, GT or LT options at the same time are not compatible");
  CHECK(ConditionErrorText(ConditionError::kGtLtConflict) ==
        "ERR GT and LT options at the same time are not compatible");
}

TEST_CASE("EXPIRE conditions treat no expiry as an infinite one") {
  ExpireCondition none;
  CHECK(ExpireConditionAllows(none, -1, 5));
  CHECK(ExpireConditionAllows(none, 100, 5));

  ExpireCondition nx;
  nx.nx = true;
  CHECK(ExpireConditionAllows(nx, -1, 5));
  CHECK_FALSE(ExpireConditionAllows(nx, 100, 5));

  ExpireCondition xx;
  xx.xx = true;
  CHECK_FALSE(ExpireConditionAllows(xx, -1, 5));
  CHECK(ExpireConditionAllows(xx, 100, 5));

  ExpireCondition gt;
  gt.gt = true;
  CHECK_FALSE(ExpireConditionAllows(gt, -1, 500));  // nothing exceeds "never"
  CHECK_FALSE(ExpireConditionAllows(gt, 100, 100));
  CHECK(ExpireConditionAllows(gt, 100, 101));

  ExpireCondition lt;
  lt.lt = true;
  CHECK(ExpireConditionAllows(lt, -1, 500));  // anything is sooner than "never"
  CHECK_FALSE(ExpireConditionAllows(lt, 100, 100));
  CHECK(ExpireConditionAllows(lt, 100, 99));

  ExpireCondition xx_lt;
  xx_lt.xx = true;
  xx_lt.lt = true;
  CHECK_FALSE(ExpireConditionAllows(xx_lt, -1, 5));
}

}  // namespace
}  // namespace dynakv::server
