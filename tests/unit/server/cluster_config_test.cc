// The [cluster] parameters: the member syntax, the TOML section (keys without the "cluster-"
// prefix, a list of members), the checks made only when cluster mode is on, and what reaches the
// cluster layer.

#include "cluster_config.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config.h"

namespace dynakv::server {
namespace {

std::vector<cluster::NodeInfo> Nodes(std::string_view text) {
  std::vector<cluster::NodeInfo> nodes;
  std::string error;
  REQUIRE_MESSAGE(ParseNodeList(text, &nodes, &error), error);
  return nodes;
}

std::string NodeError(std::string_view text) {
  std::vector<cluster::NodeInfo> nodes;
  std::string error;
  CHECK_FALSE(ParseNodeList(text, &nodes, &error));
  return error;
}

Config ClusterConfig() {
  Config config;
  config.port = 7001;
  config.cluster_enabled = true;
  config.cluster_node_id = "n1";
  config.cluster_nodes = "n1@127.0.0.1:7001,n2@127.0.0.1:7002,n3@127.0.0.1:7003";
  config.cluster_secret = "unit-test secret, 32 bytes long";
  return config;
}

TEST_CASE("members: id@host:port with an optional dc and weight") {
  const auto nodes = Nodes(" n1@10.0.0.1:7000 ,n2@[::1]:7002/east/2, n3@host:7003//3,n4@h:1/west");
  REQUIRE(nodes.size() == 4);
  CHECK(nodes[0].id == "n1");
  CHECK(nodes[0].host == "10.0.0.1");
  CHECK(nodes[0].port == 7000);
  CHECK(nodes[0].dc.empty());
  CHECK(nodes[0].weight == 1);
  CHECK(nodes[1].host == "::1");
  CHECK(nodes[1].dc == "east");
  CHECK(nodes[1].weight == 2);
  CHECK(nodes[2].dc.empty());
  CHECK(nodes[2].weight == 3);
  CHECK(nodes[3].dc == "west");
  CHECK(nodes[3].weight == 1);
  CHECK(Nodes("").empty());
  CHECK(Nodes("   ").empty());

  for (const auto& node : nodes) {
    CAPTURE(FormatNode(node));
    const auto again = Nodes(FormatNode(node));
    REQUIRE(again.size() == 1);
    CHECK(again[0].id == node.id);
    CHECK(again[0].host == node.host);
    CHECK(again[0].port == node.port);
    CHECK(again[0].dc == node.dc);
    CHECK(again[0].weight == node.weight);
  }
  CHECK(FormatHostPort(nodes[1]) == "[::1]:7002");
}

TEST_CASE("members: every malformed entry is named in the error") {
  CHECK(NodeError("n1@h:1,bad").find("invalid member 'bad': no '@'") != std::string::npos);
  CHECK(NodeError("@h:1").find("bad node id") != std::string::npos);
  CHECK(NodeError("a b@h:1").find("bad node id") != std::string::npos);
  CHECK(NodeError("n1@h").find("no port") != std::string::npos);
  CHECK(NodeError("n1@:1").find("no host") != std::string::npos);
  CHECK(NodeError("n1@h:0").find("bad port") != std::string::npos);
  CHECK(NodeError("n1@h:65536").find("bad port") != std::string::npos);
  CHECK(NodeError("n1@h:x").find("bad port") != std::string::npos);
  CHECK(NodeError("n1@[::1:7").find("bad address") != std::string::npos);
  CHECK(NodeError("n1@h:1/dc/0").find("weight must be") != std::string::npos);
  CHECK(NodeError("n1@h:1/dc/1001").find("weight must be") != std::string::npos);
  CHECK(NodeError("n1@h:1/d c").find("bad dc") != std::string::npos);
  CHECK(NodeError("n1@h:1,").find("invalid member ''") != std::string::npos);
  // Found by the config fuzzer: hosts took any bytes, and one that is not UTF-8 came back from
  // CONFIG REWRITE's TOML file as other bytes.
  CHECK(NodeError("n1@h\xff:1").find("bad host") != std::string::npos);
  CHECK(NodeError("n1@h\tx:1").find("bad host") != std::string::npos);
  CHECK(NodeError("n1@[::1\x80]:1").find("bad host") != std::string::npos);
  // Also found by it: a host holding ']' is rendered as "[...]:port" and did not parse back.
  CHECK(NodeError("n1@a:;[x]:2").find("bad host") != std::string::npos);
  CHECK(NodeError("n1@a[b:2").find("bad host") != std::string::npos);
}

TEST_CASE("the [cluster] TOML section uses short keys and takes a list of members") {
  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml(R"(
[server]
port = 7002
[cluster]
enabled = true
node-id = "n2"
nodes = ["n1@127.0.0.1:7001", "n2@127.0.0.1:7002/dc1/2"]
port-offset = -100
replication-factor = 2
read-consistency = "one"
write-consistency = "ALL"
request-timeout-ms = 250
secret = "unit-test secret, 32 bytes long"
)",
                                  "cluster.toml", &config, &error),
                  error);
  CHECK(config.cluster_enabled);
  CHECK(config.cluster_node_id == "n2");
  CHECK(config.cluster_nodes == "n1@127.0.0.1:7001,n2@127.0.0.1:7002/dc1/2");
  CHECK(config.cluster_port_offset == -100);
  CHECK(config.cluster_replication_factor == 2);
  CHECK(config.cluster_read_consistency.kind == cluster::ConsistencyLevel::Kind::kOne);
  CHECK(config.cluster_write_consistency.kind == cluster::ConsistencyLevel::Kind::kAll);
  CHECK(config.cluster_request_timeout_ms == 250);
  CHECK(ValidateConfig(config, &error));

  const cluster::ClusterOptions options = ToClusterOptions(config);
  CHECK(options.self_id == "n2");
  REQUIRE(options.members.size() == 2);
  CHECK(options.members[1].weight == 2);
  CHECK(options.bus_port_offset == -100);
  CHECK(options.replication_factor == 2);
  CHECK(options.request_timeout_ms == 250);

  // CONFIG REWRITE's output loads back to the same cluster settings.
  Config reloaded;
  REQUIRE_MESSAGE(ApplyConfigToml(RenderConfigToml(config), "rendered", &reloaded, &error), error);
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(param.format(reloaded) == param.format(config));
  }

  CHECK_FALSE(ApplyConfigToml("[cluster]\ncluster-enabled = true\n", "t", &config, &error));
  CHECK(error.find("unknown parameter 'cluster-enabled' in [cluster]") != std::string::npos);
  CHECK_FALSE(ApplyConfigToml("[cluster]\nenabled = \"maybe\"\n", "t", &config, &error));
  CHECK(error.find("argument must be 'yes' or 'no'") != std::string::npos);
  CHECK_FALSE(ApplyConfigToml("[cluster]\nnodes = [1, 2]\n", "t", &config, &error));
  CHECK_FALSE(ApplyConfigToml("[cluster]\nread-consistency = \"most\"\n", "t", &config, &error));
  CHECK_FALSE(ApplyConfigToml("[server]\nenabled = true\n", "t", &config, &error));
}

TEST_CASE("log-corruption-policy drop-and-repair is refused outside cluster mode") {
  std::string error;
  Config config = ClusterConfig();
  CHECK(config.log_corruption_policy == storage::LogCorruptionPolicy::kRefuse);
  const ConfigParam* param = FindConfigParam("log-corruption-policy");
  REQUIRE(param != nullptr);
  CHECK_FALSE(param->runtime());
  CHECK_FALSE(param->parse("drop", &config, &error));
  CHECK(error == "argument(s) must be one of the following: refuse, drop-and-repair");
  REQUIRE(param->parse("Drop-And-Repair", &config, &error));
  CHECK(param->format(config) == "drop-and-repair");
  CHECK(ValidateConfig(config, &error));
  CHECK(ToStorageOptions(config).log_corruption_policy ==
        storage::LogCorruptionPolicy::kDropAndRepair);

  config.cluster_enabled = false;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("log-corruption-policy drop-and-repair needs cluster-enabled yes") == 0);
  REQUIRE(param->parse("refuse", &config, &error));
  CHECK(ValidateConfig(config, &error));
}

TEST_CASE("cluster mode checks the membership against this node") {
  std::string error;
  CHECK(ValidateConfig(ClusterConfig(), &error));

  Config config = ClusterConfig();
  config.cluster_enabled = false;
  config.cluster_node_id.clear();
  CHECK(ValidateConfig(config, &error));  // nothing is checked while cluster mode is off

  config = ClusterConfig();
  config.cluster_node_id.clear();
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("cluster-node-id") != std::string::npos);

  config = ClusterConfig();
  config.cluster_node_id = "n9";
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("must list this node, 'n9'") != std::string::npos);

  config = ClusterConfig();
  config.port = 7005;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("at port 7001 but it serves port 7005") != std::string::npos);

  config = ClusterConfig();
  config.cluster_nodes += ",n2@127.0.0.1:7009";
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("'n2' twice") != std::string::npos);

  config = ClusterConfig();
  config.cluster_write_consistency = {cluster::ConsistencyLevel::Kind::kCount, 4};
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error == "cluster-write-consistency 4 exceeds cluster-replication-factor 3");

  config = ClusterConfig();
  config.cluster_port_offset = 60000;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("is not a valid port") != std::string::npos);
}

TEST_CASE("gossip, failure detection, hinted handoff and per-dc placement parameters") {
  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml(R"(
[server]
port = 7001
[cluster]
enabled = true
node-id = "n1"
nodes = ["n1@127.0.0.1:7001/dc1"]
seeds = [" 127.0.0.1:17002", "[::1]:17003", "n1"]
gossip-interval-ms = 200
phi-threshold = 5.5
read-repair-chance = 0.25
down-after-ms = 1500
sloppy-quorum = false
hint-handoff-interval-ms = 300
replicas-per-dc = "dc1:2, dc2:1"
insecure = true
)",
                                  "cluster.toml", &config, &error),
                  error);
  CHECK(config.cluster_seeds == "127.0.0.1:17002,[::1]:17003,n1");
  CHECK(config.cluster_gossip_interval_ms == 200);
  CHECK(config.cluster_phi_threshold == doctest::Approx(5.5));
  CHECK(config.cluster_read_repair_chance == doctest::Approx(0.25));
  CHECK(config.cluster_down_after_ms == 1500);
  CHECK_FALSE(config.cluster_sloppy_quorum);
  CHECK(config.cluster_hint_handoff_interval_ms == 300);
  CHECK(config.cluster_replicas_per_dc == cluster::ReplicasPerDc{{"dc1", 2}, {"dc2", 1}});
  CHECK(EffectiveReplicationFactor(config) == 3);
  // With seeds, a member list of this node alone and replicas beyond it are fine.
  CHECK_MESSAGE(ValidateConfig(config, &error), error);

  const cluster::ClusterOptions options = ToClusterOptions(config);
  CHECK(options.seeds == std::vector<std::string>{"127.0.0.1:17002", "[::1]:17003", "n1"});
  CHECK(options.gossip_interval_ms == 200);
  CHECK(options.phi_threshold == doctest::Approx(5.5));
  CHECK(options.read_repair_chance == doctest::Approx(0.25));
  CHECK(options.down_after_ms == 1500);
  CHECK_FALSE(options.sloppy_quorum);
  CHECK(options.hint_handoff_interval_ms == 300);
  CHECK(options.replicas_per_dc == cluster::ReplicasPerDc{{"dc1", 2}, {"dc2", 1}});

  Config reloaded;
  REQUIRE_MESSAGE(ApplyConfigToml(RenderConfigToml(config), "rendered", &reloaded, &error), error);
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(param.format(reloaded) == param.format(config));
  }

  // Flags and CONFIG use the same parsers: an integer phi and a yes/no switch.
  const ConfigParam* phi = FindConfigParam("cluster-phi-threshold");
  REQUIRE(phi != nullptr);
  CHECK(phi->parse("12", &config, &error));
  CHECK(config.cluster_phi_threshold == doctest::Approx(12));
  const ConfigParam* sloppy = FindConfigParam("cluster-sloppy-quorum");
  REQUIRE(sloppy != nullptr);
  CHECK(sloppy->parse("yes", &config, &error));
  CHECK(config.cluster_sloppy_quorum);
  const ConfigParam* per_dc = FindConfigParam("cluster-replicas-per-dc");
  REQUIRE(per_dc != nullptr);
  CHECK(per_dc->parse("", &config, &error));
  CHECK(config.cluster_replicas_per_dc.empty());
  CHECK(EffectiveReplicationFactor(config) == config.cluster_replication_factor);
}

TEST_CASE("bad gossip and placement parameters are refused with the reason") {
  Config config;
  std::string error;
  auto refused = [&](std::string_view name, std::string_view value) {
    const ConfigParam* param = FindConfigParam(name);
    REQUIRE(param != nullptr);
    error.clear();
    CHECK_FALSE(param->parse(value, &config, &error));
    return error;
  };
  CHECK(refused("cluster-seeds", "h:0").find("invalid seed 'h:0'") != std::string::npos);
  CHECK(refused("cluster-seeds", "h:1,,h:2").find("invalid seed ''") != std::string::npos);
  CHECK(refused("cluster-seeds", "::1:7").find("invalid seed '::1:7'") != std::string::npos);
  CHECK(refused("cluster-seeds", "a b").find("invalid seed 'a b'") != std::string::npos);
  CHECK(refused("cluster-seeds", "h\xff:7").find("invalid seed") != std::string::npos);
  CHECK(refused("cluster-seeds", "[\xc3\xa9]:7").find("invalid seed") != std::string::npos);
  CHECK(refused("cluster-phi-threshold", "0").find("above 0") != std::string::npos);
  CHECK(refused("cluster-phi-threshold", "-1").find("above 0") != std::string::npos);
  CHECK(refused("cluster-phi-threshold", "x").find("above 0") != std::string::npos);
  CHECK(refused("cluster-read-repair-chance", "1.5").find("from 0 to 1") != std::string::npos);
  CHECK(refused("cluster-read-repair-chance", "-0.1").find("from 0 to 1") != std::string::npos);
  CHECK(refused("cluster-gossip-interval-ms", "0").find("between 1 and") != std::string::npos);
  CHECK(refused("cluster-down-after-ms", "0").find("between 1 and") != std::string::npos);
  CHECK(refused("cluster-hint-handoff-interval-ms", "0").find("between 1") != std::string::npos);
  CHECK(refused("cluster-sloppy-quorum", "maybe").find("'yes' or 'no'") != std::string::npos);
  CHECK(refused("cluster-replicas-per-dc", "dc1").find("invalid entry 'dc1'") !=
        std::string::npos);
  CHECK(refused("cluster-replicas-per-dc", "dc1:0").find("invalid entry") != std::string::npos);
  CHECK(refused("cluster-replicas-per-dc", "dc1:x").find("invalid entry") != std::string::npos);
  CHECK(refused("cluster-replicas-per-dc", "dc1:1,dc1:2").find("named twice") !=
        std::string::npos);
  // A seed with no port must name a member (it has no address of its own).
  const ConfigParam* seeds = FindConfigParam("cluster-seeds");
  REQUIRE(seeds != nullptr);
  CHECK(seeds->parse("h", &config, &error));
}

TEST_CASE("leave grace: TOML key, flag and the cluster option") {
  Config defaults;
  CHECK(ToClusterOptions(defaults).leave_grace_ms == 0);  // the cluster layer's default
  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml("[cluster]\nleave-grace-ms = 4000\n", "cluster.toml", &config,
                                  &error),
                  error);
  CHECK(ToClusterOptions(config).leave_grace_ms == 4000);
  const ConfigParam* grace = FindConfigParam("cluster-leave-grace-ms");
  REQUIRE(grace != nullptr);
  CHECK(grace->parse("250", &config, &error));
  CHECK(ToClusterOptions(config).leave_grace_ms == 250);
  CHECK_FALSE(grace->parse("-1", &config, &error));
  CHECK_FALSE(grace->parse("soon", &config, &error));
}

TEST_CASE("conditional-write-consistency: write, serial or local_serial; the paxos dir") {
  Config config;
  std::string error;
  CHECK_FALSE(config.cluster_conditional_write_consistency.has_value());  // "write"
  REQUIRE_MESSAGE(ApplyConfigToml("[cluster]\nconditional-write-consistency = \"serial\"\n",
                                  "cluster.toml", &config, &error),
                  error);
  REQUIRE(config.cluster_conditional_write_consistency.has_value());
  CHECK(config.cluster_conditional_write_consistency->kind ==
        cluster::ConsistencyLevel::Kind::kSerial);
  const ConfigParam* param = FindConfigParam("cluster-conditional-write-consistency");
  REQUIRE(param != nullptr);
  CHECK(param->runtime());
  CHECK(param->format(config) == "serial");
  CHECK(param->parse("LOCAL_SERIAL", &config, &error));
  CHECK(param->format(config) == "local_serial");
  CHECK(param->parse("write", &config, &error));
  CHECK_FALSE(config.cluster_conditional_write_consistency.has_value());
  // Only the SERIAL levels: QUORUM is what `write` already gives with the default W.
  CHECK_FALSE(param->parse("quorum", &config, &error));
  CHECK(error == "argument must be write, serial or local_serial");
  // The write level itself may be SERIAL too (every write of one key through Paxos).
  CHECK(FindConfigParam("cluster-write-consistency")->parse("serial", &config, &error));
  config.dir = "/var/lib/dynakv";
  CHECK(ToClusterOptions(config).paxos_dir == "/var/lib/dynakv/paxos");
}

TEST_CASE("bus handshake timeout: TOML key, flag and the cluster option") {
  Config defaults;
  CHECK(ToClusterOptions(defaults).handshake_timeout_ms ==
        cluster::ClusterOptions{}.handshake_timeout_ms);  // the cluster layer's default
  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml("[cluster]\nhandshake-timeout-ms = 1500\n", "cluster.toml",
                                  &config, &error),
                  error);
  CHECK(ToClusterOptions(config).handshake_timeout_ms == 1500);
  const ConfigParam* timeout = FindConfigParam("cluster-handshake-timeout-ms");
  REQUIRE(timeout != nullptr);
  CHECK(timeout->parse("250", &config, &error));
  CHECK(ToClusterOptions(config).handshake_timeout_ms == 250);
  CHECK_FALSE(timeout->parse("0", &config, &error));
  CHECK_FALSE(timeout->parse("soon", &config, &error));
}

TEST_CASE("anti-entropy intervals: TOML keys, flags, CONFIG names and the cluster options") {
  Config defaults;
  CHECK(defaults.cluster_anti_entropy_interval_ms == 10000);
  CHECK(defaults.cluster_anti_entropy_rebuild_interval_ms == 3600 * 1000);
  const cluster::ClusterOptions default_options = ToClusterOptions(defaults);
  CHECK(default_options.anti_entropy_interval_ms == 10000);
  CHECK(default_options.anti_entropy_rebuild_interval_ms == 3600 * 1000);

  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml(R"(
[cluster]
anti-entropy-interval-ms = 250
anti-entropy-rebuild-interval-ms = "60000"
)",
                                  "cluster.toml", &config, &error),
                  error);
  CHECK(config.cluster_anti_entropy_interval_ms == 250);
  CHECK(config.cluster_anti_entropy_rebuild_interval_ms == 60000);
  cluster::ClusterOptions options = ToClusterOptions(config);
  CHECK(options.anti_entropy_interval_ms == 250);
  CHECK(options.anti_entropy_rebuild_interval_ms == 60000);

  // The long names are the flags' and CONFIG's (FindConfigParam is what both look up); the
  // TOML key drops the "cluster-" prefix.
  const ConfigParam* interval = FindConfigParam("CLUSTER-ANTI-ENTROPY-INTERVAL-MS");
  const ConfigParam* rebuild = FindConfigParam("cluster-anti-entropy-rebuild-interval-ms");
  REQUIRE(interval != nullptr);
  REQUIRE(rebuild != nullptr);
  CHECK(interval->section == "cluster");
  CHECK(TomlKey(*interval) == "anti-entropy-interval-ms");
  CHECK(TomlKey(*rebuild) == "anti-entropy-rebuild-interval-ms");
  CHECK(interval->format(config) == "250");
  CHECK(rebuild->format(config) == "60000");
  // 0 turns the periodic work off (exchanges only on DEBUG ANTIENTROPY; rebuilds only at start
  // and on FLUSHALL), and reaches the cluster layer as 0.
  CHECK(interval->parse("0", &config, &error));
  CHECK(rebuild->parse("0", &config, &error));
  options = ToClusterOptions(config);
  CHECK(options.anti_entropy_interval_ms == 0);
  CHECK(options.anti_entropy_rebuild_interval_ms == 0);

  const char* argv[] = {"dynakv-server", "--cluster-anti-entropy-interval-ms", "1500",
                        "--cluster-anti-entropy-rebuild-interval-ms", "120000"};
  Config loaded;
  std::string message;
  REQUIRE_MESSAGE(LoadConfig(5, argv, &loaded, &message) == ConfigLoadResult::kRun, message);
  CHECK(loaded.cluster_anti_entropy_interval_ms == 1500);
  CHECK(loaded.cluster_anti_entropy_rebuild_interval_ms == 120000);

  // CONFIG REWRITE's output keeps them.
  Config reloaded;
  REQUIRE_MESSAGE(ApplyConfigToml(RenderConfigToml(loaded), "rendered", &reloaded, &error), error);
  CHECK(reloaded.cluster_anti_entropy_interval_ms == 1500);
  CHECK(reloaded.cluster_anti_entropy_rebuild_interval_ms == 120000);

  for (const ConfigParam* param : {interval, rebuild}) {
    CAPTURE(param->name);
    error.clear();
    CHECK_FALSE(param->parse("-1", &config, &error));
    CHECK(error.find("between 0 and") != std::string::npos);
    CHECK_FALSE(param->parse("soon", &config, &error));
    CHECK(error.find("couldn't be parsed into an integer") != std::string::npos);
  }
  CHECK_FALSE(interval->parse("86400001", &config, &error));
  CHECK_FALSE(ApplyConfigToml("[cluster]\nanti-entropy-interval-ms = -5\n", "t", &config, &error));
  CHECK(error.find("anti-entropy-interval-ms") != std::string::npos);
}

TEST_CASE("without seeds the listed members must hold every replica") {
  std::string error;
  Config config = ClusterConfig();
  config.cluster_replication_factor = 4;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("cluster-replication-factor 4 exceeds the 3 members") != std::string::npos);
  config.cluster_seeds = "127.0.0.1:17002";
  CHECK_MESSAGE(ValidateConfig(config, &error), error);

  config = ClusterConfig();
  config.cluster_nodes = "n1@127.0.0.1:7001/dc1,n2@127.0.0.1:7002/dc1,n3@127.0.0.1:7003/dc2";
  config.cluster_replicas_per_dc = {{"dc1", 2}, {"dc2", 1}};
  CHECK_MESSAGE(ValidateConfig(config, &error), error);
  config.cluster_replicas_per_dc = {{"dc1", 1}, {"dc2", 2}};
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("2 replicas in dc 'dc2' but cluster-nodes lists 1") != std::string::npos);
  config.cluster_replicas_per_dc = {{"dc1", 1}, {"dc3", 1}};
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("dc 'dc3'") != std::string::npos);
  config.cluster_seeds = "n2";
  CHECK_MESSAGE(ValidateConfig(config, &error), error);

  // Consistency counts are bounded by the per-dc total when that replaces N.
  config.cluster_replicas_per_dc = {{"dc1", 1}, {"dc2", 1}};
  config.cluster_write_consistency = {cluster::ConsistencyLevel::Kind::kCount, 3};
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error == "cluster-write-consistency 3 exceeds the replicas of cluster-replicas-per-dc 2");

  config = ClusterConfig();
  config.cluster_seeds = "127.0.0.1:17002,n7";
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("cluster-seeds names 'n7'") != std::string::npos);
}

}  // namespace
}  // namespace dynakv::server
