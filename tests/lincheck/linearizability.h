// A linearizability checker for one integer register (GET, SET, SET NX, INCR), shared by the
// SERIAL integration test and the fault harness: Wing & Gong's search with Lowe's memo (as
// Knossos and Porcupine).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace dynakv::lincheck {

struct RegisterOp {
  enum class Kind { kGet, kSet, kSetNx, kIncr };
  Kind kind = Kind::kGet;
  std::int64_t arg = 0;  // SET's and SET NX's value
  // Outcome: for GET the value read (nullopt: nil); SET NX whether it set; INCR the new value.
  std::optional<std::int64_t> value;
  bool set = false;
  // An error whose outcome is unknown: the op may take effect at any time after `invoke`, or
  // never (its `respond` is ignored). An unknown GET says nothing and may be left out.
  bool unknown = false;
  std::int64_t invoke = 0;
  std::int64_t respond = 0;
};

enum class Verdict { kLinearizable, kNotLinearizable, kUndecided };

// Whether some order of the ops, each taking effect between its invoke and its respond (unknown
// ones: after invoke, or not at all), explains every outcome, starting from nil. kUndecided when
// the search took more than `max_steps` states: the caller bounds its histories so that does not
// happen, and must not count it as a pass.
Verdict CheckRegister(std::vector<RegisterOp> ops, std::uint64_t max_steps = 20'000'000);

}  // namespace dynakv::lincheck
