#include "stand_ins.h"

#include <algorithm>

namespace dynakv::cluster {

StandIns::StandIns(const Ring& ring, std::string_view key,
                   const std::vector<QuorumTarget>& preferred, bool same_dc)
    : same_dc_(same_dc) {
  // Every member in ring order from the key: the preferred ones first, then the rest.
  for (const NodeInfo* node : ring.PreferenceList(key, static_cast<int>(ring.size()))) {
    const bool is_preferred =
        std::any_of(preferred.begin(), preferred.end(),
                    [&](const QuorumTarget& target) { return target.node == node->id; });
    if (!is_preferred) candidates_.push_back(QuorumTarget{node->id, node->dc});
  }
  used_.assign(candidates_.size(), false);
}

const QuorumTarget* StandIns::Next(std::string_view owner_dc) {
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    if (used_[i] || (same_dc_ && candidates_[i].dc != owner_dc)) continue;
    used_[i] = true;
    return &candidates_[i];
  }
  return nullptr;
}

}  // namespace dynakv::cluster
