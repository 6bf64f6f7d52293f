// The operation log: every operation a workload client sent, with its start and end time and
// outcome, one line each. The checkers judge the cluster from this log alone (plus the final
// state read after healing), so it must record what the client saw, not what it hoped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dynakv::faults {

// Wall-clock microseconds (CLOCK_REALTIME: the nodes' hybrid clocks follow the same clock, and
// the fault log written by run.sh uses it too).
std::int64_t NowUs();

// Every write gets a sequence number unique in the run; a SET writes Value(key, seq), so a value
// read back names the one write that produced it.
std::string KeyName(int key);
// The counter keys (INCR, INCRBY, DECR, DECRBY), a key space of their own.
std::string CounterName(int counter);
std::string Value(int key, long long seq);
// The sequence number in a value of `key`; -1 when it is not one of Value(key, ...).
long long SeqOf(int key, const std::string& value);

struct Op {
  // kDelNone: a DEL that replied 0. It deleted nothing and wrote nothing (the coordinator found
  // no live value, and writes only what a command changed), so it is a read that saw nil, not a
  // write that must last.
  // kIncr: INCR/INCRBY/DECR/DECRBY of counter `key` (CounterName) by `seq`, the increment.
  // kAdd: SADD/HSET/... (collections.h) of element `seq` (a new one) to collection `key`.
  // kRemove: SREM/HDEL/... of element `seq` from collection `key`; acknowledged, it replied 1:
  // it saw the element and removed it. kRemoveNone: acknowledged with 0 (it saw no such element
  // on the replica it ran on), so it removed nothing.
  // kBump: ZINCRBY by 1 of element `seq` of collection `key` (a kind with CollectionKind::bump).
  enum class Kind : char {
    kSet = 'S',
    kDel = 'D',
    kGet = 'G',
    kDelNone = 'd',
    kIncr = 'I',
    kAdd = 'A',
    kRemove = 'R',
    kRemoveNone = 'r',
    kBump = 'B',
  };
  // kOk: acknowledged (a write) or answered (a read). kUnknown: an error or a timeout; a write
  // may still have landed on some replicas (as in Dynamo, a failed write is not rolled back) or
  // land later (a paused coordinator), so it is indeterminate. A read that failed says nothing.
  enum class Outcome : char { kOk = 'o', kUnknown = '?' };

  Kind kind = Kind::kGet;
  Outcome outcome = Outcome::kUnknown;
  int key = 0;
  // SET and DEL: this write's sequence number. GET: the sequence number of the value read, 0 for
  // nil, -1 for a value no write of this key could have produced. kDelNone: 0.
  long long seq = 0;
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  int node = 0;       // the coordinator, 1-based
  int client = 0;     // the workload thread
  std::string error;  // kUnknown: the first word of the error ("UNAVAILABLE", "timeout", ...)

  bool IsWrite() const { return kind == Kind::kSet || kind == Kind::kDel; }
  bool IsRead() const { return kind == Kind::kGet || kind == Kind::kDelNone; }
  bool ok() const { return outcome == Outcome::kOk; }
};

// An injected fault as run.sh logged it: "<start_us> <end_us> <kind> <node> [detail]".
struct Fault {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  std::string kind;
  int node = 0;
  std::string detail;
};

bool WriteOps(const std::string& path, const std::vector<Op>& ops);
// False (and a message on stderr) when the file cannot be read or a line is malformed.
bool ReadOps(const std::string& path, std::vector<Op>* ops);
// A missing file is no faults; a malformed line is an error.
bool ReadFaults(const std::string& path, std::vector<Fault>* faults);

// The faults active at any time in [start_us, end_us], for reports ("partition n2, kill n1").
std::string FaultsDuring(const std::vector<Fault>& faults, std::int64_t start_us,
                         std::int64_t end_us);

}  // namespace dynakv::faults
