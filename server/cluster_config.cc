#include "cluster_config.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "cluster/ring.h"
#include "cluster_secret.h"
#include "net/tls_context.h"
#include "number_parse.h"

namespace dynakv::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Ids and dcs appear in RING lines, INFO fields and the member syntax itself, so they may not
// contain what separates those.
bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c < '!' || c > '~' || c == ',' || c == '@' || c == '/' || c == ':') return false;
  }
  return true;
}

// Host names and addresses are printable ASCII (IDNs are written in punycode). Anything else in
// a member or seed is a typo, and it is not UTF-8 either, which CONFIG REWRITE could not write.
// Printable ASCII without the characters that frame a member or an IPv6 literal: a host with a
// ']' in it was rendered as "[...]:port" and no longer parsed back (found by the config fuzzer).
bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (c < '!' || c > '~' || c == '[' || c == ']' || c == '@' || c == ',' || c == '/') {
      return false;
    }
  }
  return true;
}

bool ParseNode(std::string_view entry, cluster::NodeInfo* node, std::string* error) {
  auto fail = [&](std::string_view why) {
    *error = "invalid member '" + std::string(entry) + "': " + std::string(why) +
             " (expected id@host:port[/dc[/weight]])";
    return false;
  };
  const std::size_t at = entry.find('@');
  if (at == std::string_view::npos) return fail("no '@'");
  const std::string_view id = entry.substr(0, at);
  if (!ValidName(id)) return fail("bad node id");
  std::string_view rest = entry.substr(at + 1);
  const std::size_t slash = rest.find('/');
  const std::string_view address = rest.substr(0, slash);
  std::string_view options = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  std::string_view host;
  std::string_view port_text;
  if (address.starts_with('[')) {  // [ipv6]:port
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos || address.substr(close + 1, 1) != ":") {
      return fail("bad address");
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return fail("no port");
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  long long port = 0;
  if (host.empty()) return fail("no host");
  if (!ValidHost(host)) return fail("bad host");
  if (!ParseLongLong(port_text, &port) || port < 1 || port > 65535) return fail("bad port");

  cluster::NodeInfo parsed;
  parsed.id.assign(id);
  parsed.host.assign(host);
  parsed.port = static_cast<int>(port);
  if (slash != std::string_view::npos) {
    const std::size_t next = options.find('/');
    const std::string_view dc = options.substr(0, next);
    if (!dc.empty() && !ValidName(dc)) return fail("bad dc");
    parsed.dc.assign(dc);
    if (next != std::string_view::npos) {
      long long weight = 0;
      if (!ParseLongLong(options.substr(next + 1), &weight) || weight < 1 ||
          weight > cluster::Ring::kMaxWeight) {
        return fail("weight must be an integer between 1 and " +
                    std::to_string(cluster::Ring::kMaxWeight));
      }
      parsed.weight = static_cast<int>(weight);
    }
  }
  *node = std::move(parsed);
  return true;
}

std::string FormatNodeList(const std::vector<cluster::NodeInfo>& nodes) {
  std::string out;
  for (const cluster::NodeInfo& node : nodes) {
    if (!out.empty()) out += ',';
    out += FormatNode(node);
  }
  return out;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool ParseLevel(std::string_view value, cluster::ConsistencyLevel* level, std::string* reason) {
  if (cluster::ParseConsistencyLevel(value, level)) return true;
  *reason =
      "argument must be one, quorum, all, local_quorum, each_quorum, serial, local_serial or a "
      "replica count";
  return false;
}

// The entries of a comma-separated list, trimmed; an empty text is an empty list.
std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> entries;
  if (Trim(text).empty()) return entries;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    entries.push_back(Trim(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return entries;
}

std::string JoinList(const std::vector<std::string_view>& entries) {
  std::string out;
  for (std::string_view entry : entries) {
    if (!out.empty()) out += ',';
    out += entry;
  }
  return out;
}

// "host:port" or "[v6]:port".
bool ValidHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // bare IPv6 is ambiguous
  }
  long long port = 0;
  return ValidHost(host) && ParseLongLong(port_text, &port) && port >= 1 && port <= 65535;
}

}  // namespace

bool ParseNodeList(std::string_view text, std::vector<cluster::NodeInfo>* nodes,
                   std::string* error) {
  std::vector<cluster::NodeInfo> parsed;
  for (std::string_view entry : SplitList(text)) {
    cluster::NodeInfo node;
    if (!ParseNode(entry, &node, error)) return false;
    parsed.push_back(std::move(node));
  }
  *nodes = std::move(parsed);
  return true;
}

std::string FormatHostPort(const cluster::NodeInfo& node) {
  const bool ipv6 = node.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + node.host + "]" : node.host) + ":" + std::to_string(node.port);
}

std::string FormatNode(const cluster::NodeInfo& node) {
  std::string out = node.id + "@" + FormatHostPort(node);
  if (!node.dc.empty() || node.weight != 1) out += "/" + node.dc;
  if (node.weight != 1) out += "/" + std::to_string(node.weight);
  return out;
}

bool ParseClusterEnabled(std::string_view value, Config* config, std::string* reason) {
  return ParseBool(value, &config->cluster_enabled, reason);
}

std::string FormatClusterEnabled(const Config& config) {
  return config.cluster_enabled ? "yes" : "no";
}

bool ParseClusterNodeId(std::string_view value, Config* config, std::string* reason) {
  if (!value.empty() && !ValidName(value)) {
    *reason = "a node id is printable ASCII without spaces, ',', '@', '/' or ':'";
    return false;
  }
  config->cluster_node_id.assign(value);
  return true;
}

bool ParseClusterNodes(std::string_view value, Config* config, std::string* reason) {
  std::vector<cluster::NodeInfo> nodes;
  if (!ParseNodeList(value, &nodes, reason)) return false;
  config->cluster_nodes = FormatNodeList(nodes);
  return true;
}

bool ParseReadConsistency(std::string_view value, Config* config, std::string* reason) {
  return ParseLevel(value, &config->cluster_read_consistency, reason);
}

bool ParseWriteConsistency(std::string_view value, Config* config, std::string* reason) {
  return ParseLevel(value, &config->cluster_write_consistency, reason);
}

bool ParseConditionalWriteConsistency(std::string_view value, Config* config,
                                      std::string* reason) {
  cluster::ConsistencyLevel level;
  if (Lower(std::string(value)) == "write") {
    config->cluster_conditional_write_consistency.reset();
    return true;
  }
  if (!cluster::ParseConsistencyLevel(value, &level) || !cluster::IsSerial(level)) {
    *reason = "argument must be write, serial or local_serial";
    return false;
  }
  config->cluster_conditional_write_consistency = level;
  return true;
}

std::string FormatConditionalWriteConsistency(const Config& config) {
  const auto& level = config.cluster_conditional_write_consistency;
  return level ? Lower(cluster::ToString(*level)) : "write";
}

std::string FormatReadConsistency(const Config& config) {
  return Lower(cluster::ToString(config.cluster_read_consistency));
}

std::string FormatWriteConsistency(const Config& config) {
  return Lower(cluster::ToString(config.cluster_write_consistency));
}

bool ParseClusterSeeds(std::string_view value, Config* config, std::string* reason) {
  const std::vector<std::string_view> seeds = SplitList(value);
  for (std::string_view seed : seeds) {
    const bool address = seed.find(':') != std::string_view::npos;
    if (address ? !ValidHostPort(seed) : !ValidName(seed)) {
      *reason = "invalid seed '" + std::string(seed) +
                "' (expected host:bus-port, [ipv6]:bus-port or a member id)";
      return false;
    }
  }
  config->cluster_seeds = JoinList(seeds);
  return true;
}

bool ParseReadRepairChance(std::string_view value, Config* config, std::string* reason) {
  long double chance = 0;
  if (!ParseLongDouble(value, &chance) || !(chance >= 0 && chance <= 1)) {
    *reason = "argument must be a number from 0 to 1";
    return false;
  }
  config->cluster_read_repair_chance = static_cast<double>(chance);
  return true;
}

std::string FormatReadRepairChance(const Config& config) {
  return FormatLongDouble(config.cluster_read_repair_chance);
}

bool ParsePhiThreshold(std::string_view value, Config* config, std::string* reason) {
  long double phi = 0;
  if (!ParseLongDouble(value, &phi) || !(phi > 0) || phi > 1000) {
    *reason = "argument must be a number above 0 and at most 1000";
    return false;
  }
  config->cluster_phi_threshold = static_cast<double>(phi);
  return true;
}

std::string FormatPhiThreshold(const Config& config) {
  return FormatLongDouble(config.cluster_phi_threshold);
}

bool ParseSloppyQuorum(std::string_view value, Config* config, std::string* reason) {
  return ParseBool(value, &config->cluster_sloppy_quorum, reason);
}

std::string FormatSloppyQuorum(const Config& config) {
  return config.cluster_sloppy_quorum ? "yes" : "no";
}

bool ParseReplicasPerDc(std::string_view value, Config* config, std::string* reason) {
  cluster::ReplicasPerDc parsed;
  for (std::string_view entry : SplitList(value)) {
    const std::size_t colon = entry.rfind(':');
    const std::string_view dc = entry.substr(0, colon);
    long long count = 0;
    if (colon == std::string_view::npos || !ValidName(dc) ||
        !ParseLongLong(entry.substr(colon + 1), &count) || count < 1 || count > 64) {
      *reason = "invalid entry '" + std::string(entry) +
                "' (expected dc:count, count between 1 and 64)";
      return false;
    }
    if (!parsed.emplace(std::string(dc), static_cast<int>(count)).second) {
      *reason = "dc '" + std::string(dc) + "' is named twice";
      return false;
    }
  }
  config->cluster_replicas_per_dc = std::move(parsed);
  return true;
}

std::string FormatReplicasPerDc(const Config& config) {
  std::string out;
  for (const auto& [dc, count] : config.cluster_replicas_per_dc) {
    if (!out.empty()) out += ',';
    out += dc + ":" + std::to_string(count);
  }
  return out;
}

int EffectiveReplicationFactor(const Config& config) {
  if (config.cluster_replicas_per_dc.empty()) return config.cluster_replication_factor;
  int total = 0;
  for (const auto& [dc, count] : config.cluster_replicas_per_dc) total += count;
  return total;
}

bool ValidateClusterConfig(const Config& config, std::string* error) {
  if (!config.cluster_enabled) return true;
  if (config.cluster_node_id.empty()) {
    *error = "cluster mode needs cluster-node-id ([cluster] node-id): this node's id";
    return false;
  }
  std::vector<cluster::NodeInfo> nodes;
  if (!ParseNodeList(config.cluster_nodes, &nodes, error)) return false;
  std::set<std::string, std::less<>> ids;
  const cluster::NodeInfo* self = nullptr;
  for (const cluster::NodeInfo& node : nodes) {
    if (!ids.insert(node.id).second) {
      *error = "cluster-nodes lists node id '" + node.id + "' twice";
      return false;
    }
    const int bus_port = node.port + config.cluster_port_offset;
    if (bus_port < 1 || bus_port > 65535) {
      *error = "the bus port of member '" + node.id + "' (" + std::to_string(node.port) +
               " + cluster-port-offset " + std::to_string(config.cluster_port_offset) +
               ") is not a valid port";
      return false;
    }
    if (node.id == config.cluster_node_id) self = &node;
  }
  if (self == nullptr) {
    *error = "cluster-nodes ([cluster] nodes) must list this node, '" + config.cluster_node_id +
             "'";
    return false;
  }
  if (self->port != config.port) {
    *error = "cluster-nodes lists this node ('" + self->id + "') at port " +
             std::to_string(self->port) + " but it serves port " + std::to_string(config.port);
    return false;
  }
  const std::vector<std::string_view> seeds = SplitList(config.cluster_seeds);
  for (std::string_view seed : seeds) {
    if (seed.find(':') == std::string_view::npos && !ids.contains(seed)) {
      *error = "cluster-seeds names '" + std::string(seed) +
               "', which cluster-nodes does not list (give its host:bus-port instead)";
      return false;
    }
  }
  // Without seeds the listed members are all there will ever be: replicas they cannot hold
  // would make every request fail. With seeds more members are learned by gossip.
  if (seeds.empty()) {
    if (config.cluster_replicas_per_dc.empty() &&
        config.cluster_replication_factor > static_cast<int>(nodes.size())) {
      *error = "cluster-replication-factor " + std::to_string(config.cluster_replication_factor) +
               " exceeds the " + std::to_string(nodes.size()) +
               " members of cluster-nodes (set cluster-seeds to learn more by gossip)";
      return false;
    }
    for (const auto& dc_count : config.cluster_replicas_per_dc) {
      // Not a structured binding: clang before 16 (the fuzz build) cannot capture one.
      const auto& dc = dc_count.first;
      const auto count = dc_count.second;
      const auto in_dc = std::count_if(nodes.begin(), nodes.end(),
                                       [&](const cluster::NodeInfo& n) { return n.dc == dc; });
      if (count > in_dc) {
        *error = "cluster-replicas-per-dc wants " + std::to_string(count) + " replicas in dc '" +
                 dc + "' but cluster-nodes lists " + std::to_string(in_dc) + " members there";
        return false;
      }
    }
  }
  // A replica count above N could never be met: every request would fail.
  const int n = EffectiveReplicationFactor(config);
  for (const auto& [name, level] :
       {std::pair{"cluster-read-consistency", config.cluster_read_consistency},
        std::pair{"cluster-write-consistency", config.cluster_write_consistency}}) {
    if (level.kind == cluster::ConsistencyLevel::Kind::kCount &&
        level.count > n) {
      *error = std::string(name) + " " + std::to_string(level.count) +
               " exceeds " +
               (config.cluster_replicas_per_dc.empty() ? "cluster-replication-factor "
                                                       : "the replicas of cluster-replicas-per-dc ") +
               std::to_string(n);
      return false;
    }
  }
  if (config.tls_cluster && (config.tls_cert_file.empty() || config.tls_key_file.empty())) {
    *error =
        "tls-cluster yes needs this node's certificate and key (tls-cert-file and tls-key-file): "
        "every member proves itself to the others with one signed by the cluster's CA";
    return false;
  }
  if (config.tls_cluster && config.tls_ca_cert_file.empty() && config.tls_ca_cert_dir.empty()) {
    *error =
        "tls-cluster yes needs the CA that signs the members' certificates (tls-ca-cert-file or "
        "tls-ca-cert-dir)";
    return false;
  }
  int protocols = 0;
  if (config.tls_cluster && !net::ParseTlsProtocols(config.tls_protocols, &protocols)) {
    *error =
        "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and "
        "'TLSv1.3'.";
    return false;
  }
  // Last: the membership errors above are worth fixing first.
  return ValidateClusterSecret(config, error);
}

net::TlsOptions BusTlsOptions(const Config& config) {
  net::TlsOptions tls;
  tls.cert_file = config.tls_cert_file;
  tls.key_file = config.tls_key_file;
  tls.key_file_pass = config.tls_key_file_pass;
  tls.ca_cert_file = config.tls_ca_cert_file;
  tls.ca_cert_dir = config.tls_ca_cert_dir;
  // The client port's protocol and cipher choices hold for the bus too, as in Redis (with
  // tls-cluster a bad tls-protocols is refused by the config check above).
  if (!net::ParseTlsProtocols(config.tls_protocols, &tls.protocols)) {
    tls.protocols = net::kTlsDefaultProtocols;
  }
  tls.ciphers = config.tls_ciphers;
  tls.ciphersuites = config.tls_ciphersuites;
  tls.prefer_server_ciphers = config.tls_prefer_server_ciphers;
  return tls;
}

cluster::ClusterOptions ToClusterOptions(const Config& config) {
  cluster::ClusterOptions options;
  options.self_id = config.cluster_node_id;
  std::string ignored;
  ParseNodeList(config.cluster_nodes, &options.members, &ignored);
  options.bus_port_offset = config.cluster_port_offset;
  options.replication_factor = config.cluster_replication_factor;
  options.read_level = config.cluster_read_consistency;
  options.write_level = config.cluster_write_consistency;
  options.request_timeout_ms = config.cluster_request_timeout_ms;
  options.handshake_timeout_ms = config.cluster_handshake_timeout_ms;
  // Read again here: a file that no longer loads leaves the secret empty, which the node
  // refuses to start with unless cluster-insecure (node.cc).
  if (!LoadClusterSecret(config, &options.secret, &ignored)) options.secret.clear();
  options.tls = config.tls_cluster;
  options.tls_options = BusTlsOptions(config);
  options.replicas_per_dc = config.cluster_replicas_per_dc;
  for (std::string_view seed : SplitList(config.cluster_seeds)) options.seeds.emplace_back(seed);
  options.gossip_interval_ms = config.cluster_gossip_interval_ms;
  options.phi_threshold = config.cluster_phi_threshold;
  options.read_repair_chance = config.cluster_read_repair_chance;
  options.down_after_ms = config.cluster_down_after_ms;
  options.sloppy_quorum = config.cluster_sloppy_quorum;
  options.hint_handoff_interval_ms = config.cluster_hint_handoff_interval_ms;
  options.anti_entropy_interval_ms = config.cluster_anti_entropy_interval_ms;
  options.anti_entropy_rebuild_interval_ms = config.cluster_anti_entropy_rebuild_interval_ms;
  options.leave_grace_ms = config.cluster_leave_grace_ms;
  options.max_clock_skew_ms = config.cluster_max_clock_skew_ms;
  options.max_member_weight = config.cluster_max_weight;
  // Hints for unreachable replicas live beside the node's own data, as durable as its writes.
  options.hints_dir = config.dir + "/hints";
  options.paxos_dir = config.dir + "/paxos";
  options.flush_epoch_file = config.dir + "/flush-epoch";
  options.hints_log_corruption = config.log_corruption_policy;
  return options;
}

}  // namespace dynakv::server
