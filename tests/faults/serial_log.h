// The SERIAL op log: what the lock and register clients of the serial workload sent and saw, one
// line each, apart from the main op log (whose values and checkers are the QUORUM key space's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dynakv::faults {

struct SerialOp {
  // kAcquire: SET lock:<key> <token> NX PX <px>. kRelease: DEL lock:<key> (after a SERIAL GET saw
  // the holder's own token). kGet / kSet / kIncr: register reg:<key>.
  enum class Kind : char { kAcquire = 'A', kRelease = 'R', kGet = 'G', kSet = 'S', kIncr = 'I' };
  // kOk: acknowledged (acquire: OK, the lock is taken). kRefused: answered, nothing changed (an
  // acquire that got nil) or an error that says the command was not applied (UNAVAILABLE, "was
  // not applied"). kUnknown: a timeout, a dropped connection or "outcome unknown": it may have
  // happened, at any time after its start.
  enum class Outcome : char { kOk = 'o', kRefused = 'n', kUnknown = '?' };

  Kind kind = Kind::kGet;
  Outcome outcome = Outcome::kUnknown;
  int key = 0;
  // kAcquire: the token (unique in the run); kSet: the value written; kGet: the value read (kIncr:
  // the value it returned), meaningful when `nil` is false.
  long long value = 0;
  bool nil = false;  // kGet: the register was nil
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  std::int64_t px_ms = 0;  // kAcquire: the lease
  int node = 0;
  int client = 0;
  std::string error;  // not kOk: the first word of the error, or "nil"

  bool ok() const { return outcome == Outcome::kOk; }
};

std::string LockName(int key);
std::string RegisterName(int key);

bool WriteSerialOps(const std::string& path, const std::vector<SerialOp>& ops);
// False (and a message on stderr) when the file cannot be read or a line is malformed.
bool ReadSerialOps(const std::string& path, std::vector<SerialOp>* ops);

}  // namespace dynakv::faults
