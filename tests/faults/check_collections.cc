#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "checks.h"
#include "collections.h"

namespace dynakv::faults {

namespace {

struct Ledger {
  std::map<long long, const Op*> adds;  // element -> its add (acknowledged or not)
  std::set<long long> removed;          // elements a remove that may have removed them was sent for
  std::map<long long, const Op*> surely_removed;  // acknowledged removes that removed it
  struct Bumps {
    long long acked = 0, unknown = 0;
  };
  std::map<long long, Bumps> bumps;  // element -> its increments by 1 (ZINCRBY)
  std::int64_t first_us = 0, last_us = 0;
};

std::string Describe(const Op& op) {
  return std::string(op.kind == Op::Kind::kAdd ? "add" : "remove") + " via n" +
         std::to_string(op.node) + (op.ok() ? " acked" : " indeterminate (" + op.error + ")");
}

}  // namespace

int CheckCollections(const std::vector<Op>& ops, const FinalState& final,
                     std::vector<Violation>* out) {
  std::map<int, Ledger> ledgers;
  for (const Op& op : ops) {
    if (op.kind != Op::Kind::kAdd && op.kind != Op::Kind::kRemove &&
        op.kind != Op::Kind::kRemoveNone && op.kind != Op::Kind::kBump) {
      continue;
    }
    Ledger& l = ledgers[op.key];
    if (l.first_us == 0 || op.start_us < l.first_us) l.first_us = op.start_us;
    l.last_us = std::max(l.last_us, op.end_us);
    if (op.kind == Op::Kind::kAdd) {
      l.adds[op.seq] = &op;
    } else if (op.kind == Op::Kind::kBump) {
      ++(op.ok() ? l.bumps[op.seq].acked : l.bumps[op.seq].unknown);
    } else if (op.kind == Op::Kind::kRemove) {
      // A remove that replied 0 saw no such element and wrote nothing: it excuses no absence.
      l.removed.insert(op.seq);
      if (op.ok()) l.surely_removed[op.seq] = &op;
    }
  }
  int found = 0;
  auto report = [&](const std::string& property, int key, const Ledger& l, std::string what) {
    ++found;
    Violation v;
    v.property = property;
    v.key = key;
    v.what = CollectionName(key) + " (" + KindOfCollection(key).name + "): " + std::move(what);
    v.from_us = l.first_us;
    v.to_us = l.last_us;
    out->push_back(std::move(v));
  };
  for (const auto& [key, l] : ledgers) {
    const bool known = key >= 0 && static_cast<std::size_t>(key) < final.collections.size();
    if (!known || !final.collections[static_cast<std::size_t>(key)].read_ok) {
      report("unreadable", key, l,
             known ? "the final read got " + final.collections[static_cast<std::size_t>(key)].read
                   : "not read");
      continue;
    }
    const FinalState::Collection& c = final.collections[static_cast<std::size_t>(key)];
    const CollectionKind& kind = KindOfCollection(key);
    for (const auto& [seq, add] : l.adds) {
      if (!add->ok() || l.removed.count(seq) || c.elements.count(ElementName(seq))) continue;
      report("lost", key, l,
             ElementName(seq) + " missing: its " + Describe(*add) + " and no remove was sent");
    }
    for (const auto& [element, payload] : c.elements) {
      const long long seq = ElementSeq(element);
      const auto add = l.adds.find(seq);
      const auto bumped = l.bumps.find(seq);
      if (add == l.adds.end()) {
        report("phantom", key, l, element + " present, but no client added it");
      } else if (bumped != l.bumps.end()) {
        // ZINCRBY makes the payload a counter: seq (the add's score, absent if the add never
        // landed) plus every acknowledged bump plus some of the indeterminate ones. An element
        // also sent a remove is not judged: a remove that saw only some bumps leaves the others
        // (add wins), whose sum no one wrote (the workload never removes a bumped element).
        if (l.removed.count(seq)) continue;
        const Ledger::Bumps& b = bumped->second;
        const long long low = (add->second->ok() ? seq : 0) + b.acked;
        const long long high = seq + b.acked + b.unknown;
        char* end = nullptr;
        const long long score = std::strtoll(payload.c_str(), &end, 10);
        const bool number = !payload.empty() && *end == '\0';
        if (number && score >= low && score <= high) continue;
        report(!number || score > high ? "phantom" : "lost", key, l,
               element + " scores " + payload + ", expected within [" + std::to_string(low) + ", " +
                   std::to_string(high) + "] (" + Describe(*add->second) + " of score " +
                   std::to_string(seq) + ", " + std::to_string(b.acked) +
                   " acknowledged increments by 1, " + std::to_string(b.unknown) +
                   " indeterminate)");
      } else if (payload != kind.payload(seq)) {
        report("phantom", key, l,
               element + " holds \"" + payload + "\", its add wrote \"" + kind.payload(seq) + "\"");
      } else if (const auto removed = l.surely_removed.find(seq);
                 removed != l.surely_removed.end()) {
        report("resurrected", key, l,
               element + " present after a remove that saw it: " + Describe(*removed->second));
      }
    }
  }
  return found;
}

}  // namespace dynakv::faults
