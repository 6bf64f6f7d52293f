// A HyperLogLog key as a convergent value (cluster mode): its registers (hll_registers.h, joined
// register-wise by max, so concurrent PFADDs and PFMERGEs through different nodes all count)
// inside an epoch, and whether the key exists in that epoch.
//
// Registers carry no dots, so a delete cannot tell the adds it saw from those it did not. A
// delete therefore wins over every write concurrent with it (Redis Enterprise's Active-Active
// HLL does the same): DEL, a write that replaces the value (a SET of other HLL bytes) and a write
// after expiry start a new epoch, stamped (hybrid timestamp, origin) and always later than the
// epoch its writer saw. Join keeps the later epoch's state; within one epoch it is the max of the
// registers and the OR of "exists". So a PFADD that saw the delete (made in the new epoch) counts,
// and one made concurrently on a copy that had not seen it (still in the old epoch) is dropped
// with the old epoch, on every replica alike.
//
// Lattice: epochs totally ordered, and within one epoch a product of semilattices: the join is
// commutative, associative and idempotent, and two states that joined the same deltas, in any
// order, encode to the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crdt/hll_registers.h"

namespace dynakv::crdt {

class HllState {
 public:
  struct Epoch {
    std::int64_t timestamp_us = 0;  // 0: the first epoch, which no reset stamped
    std::string origin;
    auto operator<=>(const Epoch&) const = default;
  };

  HllState() = default;
  HllState(const HllState& other);
  HllState& operator=(const HllState& other);
  HllState(HllState&&) = default;
  HllState& operator=(HllState&&) = default;

  // PFADD, PFMERGE, or any write leaving an HLL that keeps every register the writer saw:
  // raises the registers to `result`'s in this epoch and marks the key as existing. The delta
  // holds only the registers it raised.
  HllState Raise(const HllRegisters& result);
  // DEL (`result` null), a write replacing the HLL, or a write after expiry: a new epoch,
  // stamped (max(timestamp_us, this epoch's + 1), origin), holding `result`.
  HllState Reset(std::int64_t timestamp_us, std::string_view origin, const HllRegisters* result);
  void Join(const HllState& other);

  bool exists() const { return exists_; }
  const Epoch& epoch() const { return epoch_; }
  const HllRegisters& registers() const;  // all zero when none was raised

  // Canonical: tag 'P', the epoch, the exists byte, the registers as HllRegisters::Encode (a
  // Redis HLL string). Decode accepts only what Encode writes.
  std::string Encode() const;
  static bool Decode(std::string_view bytes, HllState* state);

 private:
  Epoch epoch_;
  bool exists_ = false;
  // Null while every register is zero: a 16 KB array only where there is something in it.
  std::unique_ptr<HllRegisters> registers_;
};

}  // namespace dynakv::crdt
