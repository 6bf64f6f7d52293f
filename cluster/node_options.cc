#include "node_options.h"

#include <utility>

namespace dynakv::cluster {
namespace {

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

}  // namespace

bool ValidateOptions(const ClusterOptions& options, const Ring& ring, std::string* error) {
  if (ring.Find(options.self_id) == nullptr) {
    return Fail(error, "this node's id '" + options.self_id + "' is not among the members");
  }
  const int members = static_cast<int>(ring.size());
  if (options.replicas_per_dc.empty()) {
    if (options.replication_factor < 1 ||
        (options.seeds.empty() && options.replication_factor > members)) {
      return Fail(error, "replication factor " + std::to_string(options.replication_factor) +
                             " must be between 1 and the number of members (" +
                             std::to_string(members) + ")");
    }
  } else {
    int total = 0;
    for (const auto& [dc, count] : options.replicas_per_dc) {
      int in_dc = 0;
      for (const NodeInfo& node : ring.nodes()) in_dc += node.dc == dc ? 1 : 0;
      if (count < 0 || (options.seeds.empty() && count > in_dc)) {
        return Fail(error, "dc '" + dc + "' wants " + std::to_string(count) + " replicas but has " +
                               std::to_string(in_dc) + " members");
      }
      total += count;
    }
    if (total == 0) return Fail(error, "replicas per dc add up to no replica at all");
  }
  if (options.request_timeout_ms < 1) return Fail(error, "request timeout must be at least 1 ms");
  if (!(options.read_repair_chance >= 0 && options.read_repair_chance <= 1)) {
    return Fail(error, "read repair chance must be between 0 and 1");
  }
  if (options.gossip_interval_ms < 1 || options.down_after_ms < 1 || !(options.phi_threshold > 0)) {
    return Fail(error,
                "gossip interval and down-after must be at least 1 ms, phi threshold above 0");
  }
  if (options.reconnect_backoff_initial_ms < 0 || options.reconnect_backoff_max_ms < 0 ||
      options.ping_interval_ms < 0 || options.tombstone_grace_ms < 0) {
    return Fail(error, "backoff, ping interval and tombstone grace must not be negative");
  }
  if (options.handshake_timeout_ms < 1) {
    return Fail(error, "bus handshake timeout must be at least 1 ms");
  }
  if (options.hint_handoff_interval_ms < 1 || options.hint_handoff_batch < 1) {
    return Fail(error, "hint handoff interval and batch must be at least 1");
  }
  if (options.anti_entropy_interval_ms < 0 || options.anti_entropy_rebuild_interval_ms < 0) {
    return Fail(error, "anti-entropy interval and rebuild interval must not be negative");
  }
  if (options.max_member_weight < 1 || options.max_member_weight > Ring::kMaxWeight) {
    return Fail(error,
                "max member weight must be between 1 and " + std::to_string(Ring::kMaxWeight));
  }
  for (const NodeInfo& node : ring.nodes()) {
    if (node.weight > options.max_member_weight) {
      return Fail(error, "member " + node.id + " has weight " + std::to_string(node.weight) +
                             ", above cluster-max-weight (" +
                             std::to_string(options.max_member_weight) + ")");
    }
  }
  return true;
}

bool BuildBusTls(ClusterOptions* options, std::string* error) {
  if (!options->tls) {
    options->tls_contexts = nullptr;
    return true;
  }
  const net::TlsOptions& tls = options->tls_options;
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return Fail(error,
                "tls-cluster yes needs this node's certificate and key (tls-cert-file and "
                "tls-key-file): every member proves itself with one signed by the cluster's CA");
  }
  if (tls.ca_cert_file.empty() && tls.ca_cert_dir.empty()) {
    return Fail(error,
                "tls-cluster yes needs the CA that signs the members' certificates "
                "(tls-ca-cert-file or tls-ca-cert-dir)");
  }
  net::TlsOptions bus = tls;
  bus.ca_required = true;
  std::string reason;
  auto server = net::TlsContext::Create(bus, net::TlsContext::Side::kServer, &reason);
  auto client =
      server ? net::TlsContext::Create(bus, net::TlsContext::Side::kClient, &reason) : nullptr;
  if (!client) return Fail(error, "tls-cluster: " + reason);
  if (!options->tls_contexts)
    options->tls_contexts = std::make_shared<ClusterOptions::TlsContexts>();
  options->tls_contexts->server = std::move(server);
  options->tls_contexts->client = std::move(client);
  return true;
}

}  // namespace dynakv::cluster
