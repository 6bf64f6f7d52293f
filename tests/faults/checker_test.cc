// The fault harness's checkers on hand-made histories: each property passes on a correct history
// and catches the violation it exists for, so a fault run that reports nothing means something.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "checks.h"
#include "collections.h"

using namespace dynakv::faults;

namespace {

Op Write(Op::Kind kind, long long seq, std::int64_t start, std::int64_t end, bool ok = true) {
  Op op;
  op.kind = kind;
  op.seq = seq;
  op.start_us = start;
  op.end_us = end;
  op.outcome = ok ? Op::Outcome::kOk : Op::Outcome::kUnknown;
  op.node = 1;
  return op;
}
Op Set(long long seq, std::int64_t start, std::int64_t end, bool ok = true) {
  return Write(Op::Kind::kSet, seq, start, end, ok);
}
Op Del(long long seq, std::int64_t start, std::int64_t end, bool ok = true) {
  return Write(Op::Kind::kDel, seq, start, end, ok);
}
Op Get(long long seq_read, std::int64_t start, std::int64_t end) {
  Op op = Write(Op::Kind::kGet, 0, start, end);
  op.seq = seq_read;
  return op;
}

FinalState Final(long long seq, std::vector<std::string> copies = {"x", "x", "x"}) {
  FinalState f;
  f.keys.resize(1);
  f.keys[0].read_ok = true;
  f.keys[0].seq = seq;
  f.keys[0].read = std::to_string(seq);
  f.keys[0].copies = std::move(copies);
  return f;
}

int Durable(const std::vector<Op>& ops, long long final_seq) {
  std::vector<Violation> v;
  return CheckDurable(History(ops, 1), Final(final_seq), &v);
}

int Reads(const std::vector<Op>& ops) {
  std::vector<Violation> v;
  return CheckReads(History(ops, 1), ops, &v);
}

}  // namespace

TEST_CASE("durability: the final value is the last acked write or a later indeterminate one") {
  const std::vector<Op> ops = {Set(1, 10, 20), Set(2, 30, 40), Set(3, 50, 60, false)};
  CHECK(Durable(ops, 2) == 0);
  CHECK(Durable(ops, 3) == 0);  // the indeterminate write landed after all
  CHECK(Durable(ops, 1) == 1);  // #2 was acked after #1 finished: lost
  CHECK(Durable(ops, 0) == 1);  // nil, and no DEL: lost
  CHECK(Durable(ops, 9) == 1);  // nobody wrote #9
}

TEST_CASE("durability: overlapping acked writes may end either way; a deleted value stays gone") {
  CHECK(Durable({Set(1, 10, 40), Set(2, 20, 30)}, 1) == 0);
  CHECK(Durable({Set(1, 10, 40), Set(2, 20, 30)}, 2) == 0);
  const std::vector<Op> deleted = {Set(1, 10, 20), Del(2, 30, 40)};
  CHECK(Durable(deleted, 0) == 0);
  CHECK(Durable(deleted, 1) == 1);  // the acked DEL came undone
  CHECK(Durable({Set(1, 10, 20), Del(2, 30, 40, false)}, 1) == 0);
}

TEST_CASE("reads: nothing older than a write acked before the read began") {
  const std::vector<Op> writes = {Set(1, 10, 20), Set(2, 30, 40), Del(3, 60, 70)};
  auto with = [&](Op read) {
    std::vector<Op> ops = writes;
    ops.push_back(read);
    return Reads(ops);
  };
  CHECK(with(Get(2, 45, 50)) == 0);
  CHECK(with(Get(1, 45, 50)) == 1);   // #2 was acked at 40
  CHECK(with(Get(1, 35, 50)) == 0);   // began while #2 was in flight
  CHECK(with(Get(0, 5, 8)) == 0);     // the initial state
  CHECK(with(Get(0, 25, 28)) == 1);   // #1 acked at 20, nil is older
  CHECK(with(Get(0, 65, 80)) == 0);   // the DEL in flight
  CHECK(with(Get(2, 75, 80)) == 1);   // the acked DEL's key read back
  CHECK(with(Get(2, 20, 25)) == 1);   // #2 started only at 30: bogus
  CHECK(with(Get(-1, 45, 50)) == 1);  // not a value of this key
  Op found_nothing = Get(0, 45, 50);
  found_nothing.kind = Op::Kind::kDelNone;  // a DEL replying 0 saw nil: #2 was acked at 40
  CHECK(with(found_nothing) == 1);
  found_nothing.start_us = 65;
  found_nothing.end_us = 80;
  CHECK(with(found_nothing) == 0);
}

TEST_CASE("a DEL that deleted nothing wrote nothing: it cannot explain a later nil") {
  std::vector<Op> ops = {Set(1, 10, 20), Get(0, 30, 40)};
  ops[1].kind = Op::Kind::kDelNone;
  CHECK(Durable(ops, 1) == 0);
  CHECK(Durable(ops, 0) == 1);
  CHECK(Reads(ops) == 1);
}

TEST_CASE("convergence: every replica's copy must be the same") {
  std::vector<Violation> v;
  CHECK(CheckConverged(Final(1, {"a", "a", "a"}), &v) == 0);
  CHECK(CheckConverged(Final(1, {"a", "nil", "a"}), &v) == 1);
  REQUIRE(v.size() == 1);
  CHECK(v[0].property == "divergent");
}

namespace {

SerialOp Lock(SerialOp::Kind kind, long long token, std::int64_t start, std::int64_t end,
              SerialOp::Outcome outcome = SerialOp::Outcome::kOk) {
  SerialOp op;
  op.kind = kind;
  op.value = token;
  op.start_us = start;
  op.end_us = end;
  op.outcome = outcome;
  op.px_ms = 10;
  return op;
}
SerialOp Acquire(long long token, std::int64_t start, std::int64_t end,
                 SerialOp::Outcome outcome = SerialOp::Outcome::kOk) {
  return Lock(SerialOp::Kind::kAcquire, token, start, end, outcome);
}
SerialOp Release(long long token, std::int64_t start, std::int64_t end,
                 SerialOp::Outcome outcome = SerialOp::Outcome::kOk) {
  return Lock(SerialOp::Kind::kRelease, token, start, end, outcome);
}
int Locks(const std::vector<SerialOp>& ops) {
  std::vector<Violation> v;
  const int n = CheckLocks(ops, &v);
  for (const Violation& each : v) CHECK(each.property == "two-holders");
  return n;
}

SerialOp Register(SerialOp::Kind kind, long long value, std::int64_t start, std::int64_t end,
                  SerialOp::Outcome outcome = SerialOp::Outcome::kOk) {
  SerialOp op;
  op.kind = kind;
  op.value = value;
  op.start_us = start;
  op.end_us = end;
  op.outcome = outcome;
  return op;
}
SerialOp RegGet(long long value, std::int64_t start, std::int64_t end) {
  SerialOp op = Register(SerialOp::Kind::kGet, value, start, end);
  op.nil = value == 0;
  return op;
}
int Registers(const std::vector<SerialOp>& ops, std::uint64_t max_steps = 1'000'000,
              std::string* property = nullptr) {
  std::vector<Violation> v;
  const int n = CheckRegisters(ops, &v, max_steps);
  if (property != nullptr && !v.empty()) *property = v[0].property;
  return n;
}

}  // namespace

TEST_CASE("locks: one holder at a time, counted from the ack to the lease's end or a release") {
  // Lease 10 ms from the acquisition's start, less the 1 ms grain of expiry times: surely held
  // until 9000 us.
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 9100, 9200)}) == 0);  // the lease may be over
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 8800, 8900)}) == 1);  // it is not: two holders
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 500, 600)}) == 1);
  // Released at 300: the next may take it after that.
  CHECK(Locks({Acquire(1, 0, 100), Release(1, 300, 350), Acquire(2, 400, 450)}) == 0);
  CHECK(Locks({Acquire(1, 0, 100), Release(1, 300, 350), Acquire(2, 200, 250)}) == 1);
  // An acquisition that got nil, was refused or is unknown holds nothing the checker relies on.
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 500, 600, SerialOp::Outcome::kRefused)}) == 0);
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 500, 600, SerialOp::Outcome::kUnknown)}) == 0);
  // An unknown release may land any time later, so it frees the lock from its start on...
  CHECK(Locks({Acquire(1, 0, 100), Release(1, 300, 350, SerialOp::Outcome::kUnknown),
               Acquire(2, 400, 450)}) == 0);
  // ...and may even remove a later holder's lock: that holder surely held it only until then.
  CHECK(Locks({Acquire(1, 0, 100), Release(1, 300, 50000, SerialOp::Outcome::kUnknown),
               Acquire(2, 400, 450), Acquire(3, 700, 800)}) == 0);
  // A release that refused (not applied) frees nothing.
  CHECK(Locks({Acquire(1, 0, 100), Release(1, 300, 350, SerialOp::Outcome::kRefused),
               Acquire(2, 400, 450)}) == 1);
  // Different locks do not exclude each other; three overlapping holders are two violations.
  std::vector<SerialOp> two = {Acquire(1, 0, 100), Acquire(2, 500, 600)};
  two[1].key = 1;
  CHECK(Locks(two) == 0);
  CHECK(Locks({Acquire(1, 0, 100), Acquire(2, 200, 300), Acquire(3, 400, 500)}) == 2);
}

TEST_CASE("registers: SERIAL GET/SET/INCR histories must be linearizable") {
  using K = SerialOp::Kind;
  using O = SerialOp::Outcome;
  CHECK(Registers({Register(K::kSet, 5, 0, 10), RegGet(5, 20, 30), Register(K::kIncr, 6, 40, 50),
                   RegGet(6, 60, 70)}) == 0);
  std::string property;
  // A read after an acked SET that sees the initial nil: stale.
  CHECK(Registers({Register(K::kSet, 5, 0, 10), RegGet(0, 20, 30)}, 1'000'000, &property) == 1);
  CHECK(property == "not-linearizable");
  // Two INCRs answering the same value: one increment lost.
  CHECK(Registers({Register(K::kIncr, 1, 0, 10), Register(K::kIncr, 1, 5, 15)}) == 1);
  // An unknown SET may explain a later read, or never happen.
  CHECK(Registers({Register(K::kSet, 7, 0, 10, O::kUnknown), RegGet(7, 20, 30)}) == 0);
  CHECK(Registers({Register(K::kSet, 7, 0, 10, O::kUnknown), RegGet(0, 20, 30)}) == 0);
  // A refused SET was not applied: a read of its value is not explained.
  CHECK(Registers({Register(K::kSet, 7, 0, 10, O::kRefused), RegGet(7, 20, 30)}) == 1);
  // Registers are separate histories.
  std::vector<SerialOp> two = {Register(K::kSet, 5, 0, 10), RegGet(5, 20, 30)};
  two[1].key = 1;
  CHECK(Registers(two) == 1);
  // A search over its bound is no pass: "undecided".
  std::vector<SerialOp> wide;
  for (int i = 0; i < 12; ++i) wide.push_back(Register(K::kSet, i + 1, 0, 1000, O::kUnknown));
  wide.push_back(RegGet(99, 2000, 2100));  // nobody wrote 99: every order must be tried
  CHECK(Registers(wide, 100, &property) == 1);
  CHECK(property == "undecided");
  CHECK(Registers(wide, 10'000'000, &property) == 1);
  CHECK(property == "not-linearizable");
}

TEST_CASE("counters: the final value lies between the acknowledged sum and the indeterminate") {
  auto incr = [](long long delta, bool ok) {
    Op op = Write(Op::Kind::kIncr, delta, 10, 20, ok);
    op.key = 0;
    return op;
  };
  // Acknowledged: +1 +5 -3 = 3; indeterminate: +100 and -1, so [2, 103].
  const std::vector<Op> ops = {incr(1, true), incr(5, true), incr(-3, true), incr(100, false),
                               incr(-1, false)};
  auto check = [&](bool read_ok, long long value, std::string* property = nullptr) {
    FinalState f;
    f.counters.resize(1);
    f.counters[0].read_ok = read_ok;
    f.counters[0].value = value;
    f.counters[0].read = std::to_string(value);
    std::vector<Violation> v;
    const int found = CheckCounters(ops, f, &v);
    if (property != nullptr && !v.empty()) *property = v[0].property;
    return found;
  };
  CHECK(check(true, 3) == 0);
  CHECK(check(true, 2) == 0);
  CHECK(check(true, 103) == 0);
  std::string property;
  CHECK(check(true, 1, &property) == 1);
  CHECK(property == "lost");
  CHECK(check(true, 104, &property) == 1);
  CHECK(property == "phantom");
  CHECK(check(false, 3, &property) == 1);
  CHECK(property == "unreadable");

  // A counter's copies must be the same bytes on every replica.
  FinalState f;
  f.counters.resize(1);
  f.counters[0].copies = {"ab", "ab", "abc"};
  std::vector<Violation> v;
  CHECK(CheckConverged(f, &v) == 1);
  f.counters[0].copies = {"ab", "ab", "ab"};
  CHECK(CheckConverged(f, &v) == 0);
  // So must every other key's (the SERIAL locks and registers), named in the report.
  f.others.push_back({"lock:0", {"v", "v", "w"}});
  v.clear();
  CHECK(CheckConverged(f, &v) == 1);
  REQUIRE(v.size() == 1);
  CHECK(v[0].what.find("lock:0") != std::string::npos);
  f.others[0].copies = {"v", "v", "v"};
  CHECK(CheckConverged(f, &v) == 0);
}

TEST_CASE(
    "collections: acknowledged adds stay unless a remove may have taken them; nothing "
    "unsent appears, nothing surely removed comes back") {
  // Collection 0 is a set, 1 a hash (collections.h).
  auto op = [](Op::Kind kind, int key, long long seq, bool ok) {
    Op o = Write(kind, seq, 10, 20, ok);
    o.key = key;
    return o;
  };
  using K = Op::Kind;
  const std::vector<Op> ops = {
      op(K::kAdd, 0, 1, true),         // e1: acked
      op(K::kAdd, 0, 2, false),        // e2: indeterminate
      op(K::kAdd, 0, 3, true),         // e3: acked, then a remove that may have removed it
      op(K::kRemove, 0, 3, false),     //
      op(K::kAdd, 0, 4, true),         // e4: acked, removed for sure
      op(K::kRemove, 0, 4, true),      //
      op(K::kAdd, 0, 5, true),         // e5: acked; a remove that saw nothing excuses nothing
      op(K::kRemoveNone, 0, 5, true),  //
      op(K::kAdd, 1, 6, true),         // hash field e6 = v6
  };
  auto check = [&](std::map<std::string, std::string> set, std::map<std::string, std::string> hash,
                   std::string* property = nullptr) {
    FinalState f;
    f.collections.resize(2);
    f.collections[0].read_ok = true;
    f.collections[0].elements = std::move(set);
    f.collections[1].read_ok = true;
    f.collections[1].elements = std::move(hash);
    std::vector<Violation> v;
    const int found = CheckCollections(ops, f, &v);
    if (property != nullptr && !v.empty()) *property = v[0].property;
    return found;
  };
  const std::map<std::string, std::string> hash = {{"e6", "v6"}};
  CHECK(check({{"e1", ""}, {"e5", ""}}, hash) == 0);
  CHECK(check({{"e1", ""}, {"e2", ""}, {"e3", ""}, {"e5", ""}}, hash) == 0);
  std::string property;
  CHECK(check({{"e5", ""}}, hash, &property) == 1);  // e1
  CHECK(property == "lost");
  CHECK(check({{"e1", ""}}, hash, &property) == 1);  // e5
  CHECK(property == "lost");
  CHECK(check({{"e1", ""}, {"e5", ""}}, {}, &property) == 1);  // e6
  CHECK(property == "lost");
  CHECK(check({{"e1", ""}, {"e5", ""}, {"e9", ""}}, hash, &property) == 1);
  CHECK(property == "phantom");
  CHECK(check({{"e1", ""}, {"e5", ""}}, {{"e6", "v7"}}, &property) == 1);
  CHECK(property == "phantom");
  CHECK(check({{"e1", ""}, {"e4", ""}, {"e5", ""}}, hash, &property) == 1);
  CHECK(property == "resurrected");

  FinalState unread;
  unread.collections.resize(2);
  unread.collections[1].read_ok = true;
  unread.collections[1].elements = hash;
  std::vector<Violation> v;
  CHECK(CheckCollections(ops, unread, &v) == 1);
  CHECK(v[0].property == "unreadable");

  // A collection's copies must be the same bytes on every replica.
  FinalState f;
  f.collections.resize(1);
  f.collections[0].copies = {"ab", "ab", "abc"};
  v.clear();
  CHECK(CheckConverged(f, &v) == 1);
  CHECK(v[0].what.find("fs:0") != std::string::npos);
}

TEST_CASE(
    "collections: a sorted set's member scores its add plus the acknowledged ZINCRBYs, give or "
    "take the indeterminate ones") {
  // Collection 2 is a sorted set (collections.h): ZADD's score is the element's seq.
  REQUIRE(std::string(KindOfCollection(2).name) == "zset");
  auto op = [](Op::Kind kind, long long seq, bool ok) {
    Op o = Write(kind, seq, 10, 20, ok);
    o.key = 2;
    return o;
  };
  using K = Op::Kind;
  const std::vector<Op> ops = {
      op(K::kAdd, 7, true),     // e7: score 7,
      op(K::kBump, 7, true),    // + 1 acked
      op(K::kBump, 7, true),    // + 1 acked
      op(K::kBump, 7, false),   // + 1 maybe
      op(K::kAdd, 8, true),     // e8: score 8, removed for sure
      op(K::kRemove, 8, true),  //
      op(K::kAdd, 9, true),     // e9: score 9, never bumped
  };
  auto check = [&](std::map<std::string, std::string> zset, std::string* property = nullptr) {
    FinalState f;
    f.collections.resize(3);
    f.collections[2].read_ok = true;
    f.collections[2].elements = std::move(zset);
    std::vector<Violation> v;
    const int found = CheckCollections(ops, f, &v);
    if (property != nullptr && !v.empty()) *property = v[0].property;
    return found;
  };
  CHECK(check({{"e7", "9"}, {"e9", "9"}}) == 0);
  CHECK(check({{"e7", "10"}, {"e9", "9"}}) == 0);  // the indeterminate bump landed
  std::string property;
  CHECK(check({{"e7", "8"}, {"e9", "9"}}, &property) == 1);  // an acked increment lost
  CHECK(property == "lost");
  CHECK(check({{"e7", "7"}, {"e9", "9"}}, &property) == 1);  // both lost (a ZADD won)
  CHECK(property == "lost");
  CHECK(check({{"e7", "11"}, {"e9", "9"}}, &property) == 1);  // counted twice
  CHECK(property == "phantom");
  CHECK(check({{"e7", "9.5"}, {"e9", "9"}}, &property) == 1);
  CHECK(property == "phantom");
  CHECK(check({{"e9", "9"}}, &property) == 1);  // e7 gone
  CHECK(property == "lost");
  CHECK(check({{"e7", "9"}, {"e9", "10"}}, &property) == 1);  // nobody bumped e9
  CHECK(property == "phantom");
  CHECK(check({{"e7", "9"}, {"e8", "8"}, {"e9", "9"}}, &property) == 1);
  CHECK(property == "resurrected");
}
