// The properties a fault run must keep, one checker each. A checker reads the op log (through
// History) and the state found after healing, appends what it finds wrong to `violations` and
// returns how many it found. New properties (counters, locks) get a checker of their own.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "history.h"
#include "op_log.h"
#include "serial_log.h"

namespace dynakv::faults {

// What the cluster holds once every fault is healed, read by settle.h.
struct FinalState {
  struct Key {
    bool read_ok = false;             // the final read (GET R ALL) answered
    long long seq = 0;                // what it read: as Op::seq of a GET
    std::string read;                 // the reply, for reports
    std::vector<std::string> copies;  // each node's own copy's bytes (DEBUG LOCALRAW), rendered
  };
  std::vector<Key> keys;  // by key index
  struct Counter {
    bool read_ok = false;             // the final read (GET R ALL) answered an integer or nil
    long long value = 0;              // nil reads as 0
    std::string read;                 // the reply, for reports
    std::vector<std::string> copies;  // each node's own copy's bytes (DEBUG LOCALRAW), rendered
  };
  std::vector<Counter> counters;  // by counter index
  struct Collection {
    bool read_ok = false;  // the final read (R ALL) answered
    std::string read;      // a summary of the reply, for reports
    // element -> payload ("" for a kind without one), as read.
    std::map<std::string, std::string> elements;
    std::vector<std::string> copies;  // each node's own copy's bytes (DEBUG LOCALRAW), rendered
  };
  std::vector<Collection> collections;  // by collection index (collections.h)
  // Other keys whose replicas must hold identical bytes too (the SERIAL locks and registers).
  struct Named {
    std::string name;
    std::vector<std::string> copies;  // each node's DEBUG LOCALRAW, rendered
  };
  std::vector<Named> others;
};

struct Violation {
  std::string property;  // "lost", "stale", "divergent", ...
  int key = 0;
  std::string what;
  std::int64_t from_us = 0;  // the span of the history involved, to name the faults
  std::int64_t to_us = 0;
};

// Durability: every key's final value is the last acknowledged write or a later indeterminate
// one. An acknowledged SET that is overwritten by an older write or gone is lost; an
// acknowledged DEL whose key shows an older value again is a deleted value come back. Both count
// as "lost"; a final value nobody wrote, or an unreadable key, as "unreadable".
int CheckDurable(const History& history, const FinalState& final, std::vector<Violation>* out);

// Read freshness at R + W > N: no read (GET, or a DEL that found nothing to delete) returns a
// value older than a write acknowledged before the read began ("stale"), nor one that no write
// started before the read ended ("bogus").
int CheckReads(const History& history, const std::vector<Op>& ops, std::vector<Violation>* out);

// Counters: every counter's final value is the sum of its acknowledged increments plus some of
// the indeterminate ones (an error or a timeout: applied or not), so it lies in [acked + the
// negative indeterminate ones, acked + the positive ones]. Below: an acknowledged increment was
// lost ("lost"); above: something counted that nobody sent, or twice ("phantom").
int CheckCounters(const std::vector<Op>& ops, const FinalState& final,
                  std::vector<Violation>* out);

// Collections (issue 13's checker 2), per collection (collections.h): every element whose add
// was acknowledged is present unless a remove of it was sent that may have removed it (an
// acknowledged remove that replied 0 saw nothing, so it does not count) ("lost"); every element
// present was added by some add, acknowledged or not, with that add's payload ("phantom"); an
// element whose remove was acknowledged as having removed it (it saw the one add of that element)
// is absent: nothing brought it back, not anti-entropy, a hint or an old copy ("resurrected").
// A sorted-set element bumped by ZINCRBY (Op::kBump) scores its add's score plus every
// acknowledged bump plus some of the indeterminate ones: lower is "lost" (an acknowledged
// increment gone), higher "phantom".
int CheckCollections(const std::vector<Op>& ops, const FinalState& final,
                     std::vector<Violation>* out);

// Convergence: after healing and anti-entropy, every replica holds the same copy of every key
// and the same bytes of every counter and collection ("divergent" otherwise).
int CheckConverged(const FinalState& final, std::vector<Violation>* out);

// Mutual exclusion of SERIAL locks ("two-holders"): an acknowledged acquisition surely holds its
// lock from its ack until its lease runs out (counted from the acquisition's start, less the 1 ms
// grain of the nodes' expiry times: the coordinator sets the expiry after the start) or until a
// DEL of the lock may have removed it, whichever comes first. No two such spans of one lock may
// overlap: at the later of the two acquisitions' effects the earlier one still held the key, so
// SET NX must have failed.
int CheckLocks(const std::vector<SerialOp>& ops, std::vector<Violation>* out);

// Linearizability of each SERIAL register's history of GET, SET and INCR (tests/lincheck):
// "not-linearizable" when no order explains it; "undecided" when the search of a register took
// more than `max_steps` states (the workload's register rate keeps histories well below that; an
// undecided history is no pass). Refused ops (not applied) take no part, unknown ones may or may
// not have happened.
int CheckRegisters(const std::vector<SerialOp>& ops, std::vector<Violation>* out,
                   std::uint64_t max_steps = 5'000'000);

}  // namespace dynakv::faults
