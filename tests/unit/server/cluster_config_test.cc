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

}  // namespace
}  // namespace dynakv::server
