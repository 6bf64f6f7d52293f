#include "checks.h"

namespace dynakv::faults {

int CheckConverged(const FinalState& final, std::vector<Violation>* out) {
  int found = 0;
  for (std::size_t k = 0; k < final.keys.size(); ++k) {
    const std::vector<std::string>& copies = final.keys[k].copies;
    bool same = true;
    for (const std::string& c : copies) same = same && c == copies.front();
    if (same) continue;
    ++found;
    Violation v;
    v.property = "divergent";
    v.key = static_cast<int>(k);
    v.what = KeyName(v.key) + " copies differ:";
    for (std::size_t n = 0; n < copies.size(); ++n)
      v.what += " n" + std::to_string(n + 1) + "=" + copies[n];
    out->push_back(std::move(v));
  }
  for (std::size_t k = 0; k < final.counters.size(); ++k) {
    const std::vector<std::string>& copies = final.counters[k].copies;
    bool same = true;
    for (const std::string& c : copies) same = same && c == copies.front();
    if (same) continue;
    ++found;
    Violation v;
    v.property = "divergent";
    v.key = static_cast<int>(k);
    v.what = CounterName(v.key) + " copies differ (bytes of sizes";
    for (std::size_t n = 0; n < copies.size(); ++n)
      v.what += " n" + std::to_string(n + 1) + "=" + std::to_string(copies[n].size());
    v.what += ")";
    out->push_back(std::move(v));
  }
  return found;
}

}  // namespace dynakv::faults
