#include "checks.h"
#include "collections.h"

namespace dynakv::faults {

namespace {

// Replicas that saw the same writes hold the same bytes (the encoded version set: anti-entropy
// compares them): every node's copy of the key must equal the first one's.
bool Differ(const std::string& name, int key, const std::vector<std::string>& copies,
            std::vector<Violation>* out) {
  bool same = true;
  for (const std::string& c : copies) same = same && c == copies.front();
  if (same) return false;
  Violation v;
  v.property = "divergent";
  v.key = key;
  v.what = name + " copies differ (bytes of sizes";
  for (std::size_t n = 0; n < copies.size(); ++n)
    v.what += " n" + std::to_string(n + 1) + "=" + std::to_string(copies[n].size());
  v.what += ")";
  out->push_back(std::move(v));
  return true;
}

}  // namespace

int CheckConverged(const FinalState& final, std::vector<Violation>* out) {
  int found = 0;
  for (std::size_t k = 0; k < final.keys.size(); ++k) {
    const int key = static_cast<int>(k);
    found += Differ(KeyName(key), key, final.keys[k].copies, out);
  }
  for (std::size_t k = 0; k < final.counters.size(); ++k) {
    const int key = static_cast<int>(k);
    found += Differ(CounterName(key), key, final.counters[k].copies, out);
  }
  for (std::size_t k = 0; k < final.collections.size(); ++k) {
    const int key = static_cast<int>(k);
    found += Differ(CollectionName(key), key, final.collections[k].copies, out);
  }
  for (std::size_t k = 0; k < final.others.size(); ++k) {
    found += Differ(final.others[k].name, static_cast<int>(k), final.others[k].copies, out);
  }
  return found;
}

}  // namespace dynakv::faults
