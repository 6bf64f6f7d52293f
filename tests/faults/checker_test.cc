// The fault harness's checkers on hand-made histories: each property passes on a correct history
// and catches the violation it exists for, so a fault run that reports nothing means something.
#include <doctest/doctest.h>

#include "checks.h"

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
