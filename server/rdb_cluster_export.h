// The whole cluster's keys as one Redis RDB file, through one node (BGSAVE CLUSTER, issue 17):
// every member's live keys are listed page by page (KEY_PAGE, as whole-cluster KEYS and SCAN
// do), each kept only from its primary (ClusterNode::PrimaryOf) so it is written once, and read
// from its replicas at the read level; the last-write-wins live version of each goes into the
// file (database 0, cluster mode's only one). Members that do not answer are skipped as
// KEYS skips them (their keys' primary is then the next replica); a key whose read fails
// fails the export, as does a member whose page fails: nothing is left out without an error.
// Keys written during the walk may or may not be in the file, as with SCAN.
#pragma once

#include <functional>
#include <string>

#include "cluster/consistency_level.h"

namespace dynakv::cluster {
class ClusterNode;
}
namespace dynakv::storage {
class ObjectCodec;
}

namespace dynakv::server {

// Builds the file; `done` runs once, on the loop, with the RDB's bytes, or with a non-empty
// error. `node` and `codec` must outlive the export (the server's).
void BuildClusterRdb(cluster::ClusterNode& node, const storage::ObjectCodec* codec,
                     const cluster::ConsistencyLevel& read, long long list_max_listpack_size,
                     std::function<void(std::string rdb, std::string error)> done);

}  // namespace dynakv::server
