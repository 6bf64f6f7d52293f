#include "crdt/hll_state.h"

#include <algorithm>

#include "wire.h"

namespace dynakv::crdt {

namespace {

constexpr char kTag = 'P';
constexpr std::uint64_t kMaxOriginLength = 255;
// The longest canonical HLL string: a dense one (16-byte header, 12288 bytes of registers).
constexpr std::uint64_t kMaxRegistersBytes = 16 + HllRegisters::kRegisters * 6 / 8;

const HllRegisters& Zero() {
  static const HllRegisters zero;
  return zero;
}

}  // namespace

HllState::HllState(const HllState& other) : epoch_(other.epoch_), exists_(other.exists_) {
  if (other.registers_) registers_ = std::make_unique<HllRegisters>(*other.registers_);
}

HllState& HllState::operator=(const HllState& other) {
  if (this != &other) *this = HllState(other);
  return *this;
}

const HllRegisters& HllState::registers() const { return registers_ ? *registers_ : Zero(); }

HllState HllState::Raise(const HllRegisters& result) {
  HllState delta;
  delta.epoch_ = epoch_;
  delta.exists_ = true;
  exists_ = true;
  std::uint8_t raised[HllRegisters::kRegisters] = {};
  bool any = false;
  const HllRegisters& mine = registers();
  for (int i = 0; i < HllRegisters::kRegisters; ++i) {
    if (result.at(i) > mine.at(i)) {
      raised[i] = result.at(i);
      any = true;
    }
  }
  if (!any) return delta;
  delta.registers_ = std::make_unique<HllRegisters>(HllRegisters::FromRegisters(raised));
  if (!registers_) registers_ = std::make_unique<HllRegisters>();
  registers_->Join(*delta.registers_);
  return delta;
}

HllState HllState::Reset(std::int64_t timestamp_us, std::string_view origin,
                         const HllRegisters* result) {
  HllState next;
  // Later than this epoch whatever the clocks say: a reset must replace what its writer saw.
  next.epoch_.timestamp_us = std::max(timestamp_us, epoch_.timestamp_us + 1);
  next.epoch_.origin.assign(origin.empty() ? std::string_view("-") : origin);
  next.exists_ = result != nullptr;
  if (result != nullptr && !result->IsZero()) {
    next.registers_ = std::make_unique<HllRegisters>(*result);
  }
  *this = next;
  return next;
}

void HllState::Join(const HllState& other) {
  if (other.epoch_ < epoch_) return;
  if (epoch_ < other.epoch_) {
    *this = other;
    return;
  }
  exists_ = exists_ || other.exists_;
  if (!other.registers_) return;
  if (!registers_) {
    registers_ = std::make_unique<HllRegisters>(*other.registers_);
  } else {
    registers_->Join(*other.registers_);
  }
}

std::string HllState::Encode() const {
  std::string out(1, kTag);
  wire::PutSignedVarint(&out, epoch_.timestamp_us);
  wire::PutBytes(&out, epoch_.origin);
  out.push_back(exists_ ? 1 : 0);
  wire::PutBytes(&out, registers().Encode());
  return out;
}

bool HllState::Decode(std::string_view bytes, HllState* state) {
  std::string_view in = bytes;
  if (in.empty() || in.front() != kTag) return false;
  in.remove_prefix(1);
  HllState decoded;
  std::string_view origin;
  std::string_view registers;
  if (!wire::GetSignedVarint(&in, &decoded.epoch_.timestamp_us) ||
      !wire::GetBytes(&in, &origin, kMaxOriginLength) || in.empty() ||
      static_cast<unsigned char>(in.front()) > 1) {
    return false;
  }
  // The first epoch is the unstamped one; a stamped epoch names its origin.
  if ((decoded.epoch_.timestamp_us == 0) != origin.empty()) return false;
  decoded.epoch_.origin.assign(origin);
  decoded.exists_ = in.front() == 1;
  in.remove_prefix(1);
  HllRegisters parsed;
  if (!wire::GetBytes(&in, &registers, kMaxRegistersBytes) || !in.empty() ||
      !HllRegisters::Decode(registers, &parsed)) {
    return false;
  }
  if (!parsed.IsZero()) {
    if (!decoded.exists_) return false;  // only a delete empties an epoch, and it clears them
    decoded.registers_ = std::make_unique<HllRegisters>(parsed);
  }
  *state = std::move(decoded);
  return true;
}

}  // namespace dynakv::crdt
