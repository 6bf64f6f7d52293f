#include "placement.h"

namespace dynakv::cluster {

std::vector<const NodeInfo*> ReplicasOf(const Ring& ring, std::string_view key,
                                        const ClusterOptions& options) {
  return options.replicas_per_dc.empty() ? ring.PreferenceList(key, options.replication_factor)
                                         : ring.PreferenceList(key, options.replicas_per_dc);
}

}  // namespace dynakv::cluster
