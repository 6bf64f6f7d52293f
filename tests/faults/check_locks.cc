#include <algorithm>
#include <map>

#include "checks.h"

namespace dynakv::faults {
namespace {

constexpr std::int64_t kExpiryGrainUs = 1000;

struct Hold {
  const SerialOp* acquire = nullptr;
  std::int64_t from_us = 0;  // the ack
  std::int64_t to_us = 0;    // lease end, or the first DEL that may have freed it
};

std::string Describe(const Hold& h) {
  const SerialOp& a = *h.acquire;
  return "token " + std::to_string(a.value) + " via n" + std::to_string(a.node) + " (client " +
         std::to_string(a.client) + ") acquired [" + std::to_string(a.start_us) + ", " +
         std::to_string(a.end_us) + "] PX " + std::to_string(a.px_ms) + ", held surely until " +
         std::to_string(h.to_us);
}

}  // namespace

int CheckLocks(const std::vector<SerialOp>& ops, std::vector<Violation>* out) {
  std::map<int, std::vector<const SerialOp*>> releases;
  for (const SerialOp& op : ops) {
    if (op.kind == SerialOp::Kind::kRelease && op.outcome != SerialOp::Outcome::kRefused)
      releases[op.key].push_back(&op);
  }
  std::map<int, std::vector<Hold>> holds;
  for (const SerialOp& op : ops) {
    if (op.kind != SerialOp::Kind::kAcquire || !op.ok()) continue;
    // The nodes keep an expiry in whole unix milliseconds (the acquisition's time truncated, plus
    // PX), so a lease may be over up to 1 ms before start + PX.
    Hold h{&op, op.end_us, op.start_us + op.px_ms * 1000 - kExpiryGrainUs};
    // The acquisition took effect at some t >= start; a DEL that may take effect after that
    // (its end, +infinity when unknown, lies past our start) may have removed the lock since.
    for (const SerialOp* d : releases[op.key]) {
      const std::int64_t d_end = d->ok() ? d->end_us : kNever;
      if (d_end > op.start_us) h.to_us = std::min(h.to_us, std::max(d->start_us, op.end_us));
    }
    if (h.to_us > h.from_us) holds[op.key].push_back(h);
  }
  int found = 0;
  for (auto& [key, list] : holds) {
    std::sort(list.begin(), list.end(),
              [](const Hold& a, const Hold& b) { return a.from_us < b.from_us; });
    // Sweep: the hold reaching furthest so far overlaps the next one if it outlasts its start.
    const Hold* reach = nullptr;
    for (const Hold& h : list) {
      if (reach != nullptr && reach->to_us > h.from_us) {
        ++found;
        Violation v;
        v.property = "two-holders";
        v.key = key;
        v.what = LockName(key) + ": " + Describe(*reach) + "; yet " + Describe(h);
        v.from_us = reach->acquire->start_us;
        v.to_us = h.to_us;
        out->push_back(std::move(v));
      }
      if (reach == nullptr || h.to_us > reach->to_us) reach = &h;
    }
  }
  return found;
}

}  // namespace dynakv::faults
