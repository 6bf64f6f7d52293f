// The cluster secret's three parameters (cluster-secret, cluster-secret-file, cluster-insecure)
// and where the secret is read from.
//
// The secret authenticates the cluster bus (cluster/bus_auth.h). A file (its first line) is the
// preferred way: an inline secret shows in the config file and in flags (ps). CONFIG GET never
// shows the secret: cluster-secret reads as an empty string whether set or not (INFO cluster's
// cluster_bus_auth says whether the bus is authenticated); CONFIG REWRITE writes it back to the
// config file, where it came from. Cluster mode needs a secret unless cluster-insecure is yes.
#pragma once

#include <string>
#include <string_view>

#include "config.h"

namespace dynakv::server {

bool ParseClusterSecret(std::string_view value, Config* config, std::string* reason);
std::string FormatClusterSecret(const Config& config);  // always empty: see above
bool ParseClusterSecretFile(std::string_view value, Config* config, std::string* reason);

// The secret the node's bus uses: cluster-secret, or the first line of cluster-secret-file
// (read now), or empty when neither is set. False with *error when the file cannot be read or
// holds less than the minimum, or when both are set.
bool LoadClusterSecret(const Config& config, std::string* secret, std::string* error);

// Cluster mode's rule: a secret that loads, or cluster-insecure yes.
bool ValidateClusterSecret(const Config& config, std::string* error);

}  // namespace dynakv::server
