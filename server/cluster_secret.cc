#include "cluster_secret.h"

#include <fstream>

#include "cluster/cluster_node.h"
#include "utf8.h"

namespace dynakv::server {

namespace {

std::string TooShort(const std::string& what, std::size_t size) {
  return what + " must be at least " + std::to_string(cluster::kMinClusterSecretBytes) +
         " bytes long (it is " + std::to_string(size) +
         "); generate one with e.g. `openssl rand -hex 32`";
}

}  // namespace

bool ParseClusterSecret(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = "argument must be valid UTF-8 (the config file is TOML)";
    return false;
  }
  if (!value.empty() && value.size() < cluster::kMinClusterSecretBytes) {
    *reason = TooShort("cluster-secret", value.size());
    return false;
  }
  config->cluster_secret.assign(value);
  return true;
}

std::string FormatClusterSecret(const Config&) { return std::string(); }

bool ParseClusterSecretFile(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = "argument must be valid UTF-8 (the config file is TOML)";
    return false;
  }
  config->cluster_secret_file.assign(value);
  return true;
}

bool LoadClusterSecret(const Config& config, std::string* secret, std::string* error) {
  if (!config.cluster_secret.empty() && !config.cluster_secret_file.empty()) {
    *error = "set cluster-secret or cluster-secret-file, not both";
    return false;
  }
  if (config.cluster_secret_file.empty()) {
    *secret = config.cluster_secret;
    return true;
  }
  std::ifstream file(config.cluster_secret_file, std::ios::binary);
  std::string line;
  if (!file || !std::getline(file, line)) {
    *error = "cannot read cluster-secret-file '" + config.cluster_secret_file + "'";
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() < cluster::kMinClusterSecretBytes) {
    *error = TooShort("the secret in cluster-secret-file '" + config.cluster_secret_file + "'",
                      line.size());
    return false;
  }
  *secret = std::move(line);
  return true;
}

bool ValidateClusterSecret(const Config& config, std::string* error) {
  std::string secret;
  if (!LoadClusterSecret(config, &secret, error)) return false;
  if (secret.empty() && !config.cluster_insecure) {
    *error =
        "cluster mode needs a cluster secret shared by all members (cluster-secret-file, or "
        "cluster-secret): without one anyone who can reach the cluster bus can join, read and "
        "overwrite data. Set cluster-insecure yes to run an unauthenticated bus anyway";
    return false;
  }
  return true;
}

}  // namespace dynakv::server
