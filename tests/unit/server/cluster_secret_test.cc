// The cluster secret's parameters: where the secret comes from, what CONFIG GET shows of it,
// and that cluster mode refuses to start without one unless told to run insecure.
#include "cluster_secret.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "cluster_config.h"
#include "config.h"
#include "temp_dir.h"

namespace dynakv::server {
namespace {

Config ClusterWithoutSecret() {
  Config config;
  config.port = 7001;
  config.cluster_enabled = true;
  config.cluster_node_id = "n1";
  config.cluster_nodes = "n1@127.0.0.1:7001,n2@127.0.0.1:7002,n3@127.0.0.1:7003";
  return config;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

TEST_CASE("cluster mode refuses to start without a secret unless cluster-insecure is yes") {
  Config config = ClusterWithoutSecret();
  std::string error;
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("cluster mode needs a cluster secret") == 0);
  CHECK(error.find("cluster-insecure yes") != std::string::npos);

  const ConfigParam* insecure = FindConfigParam("cluster-insecure");
  REQUIRE(insecure != nullptr);
  CHECK_FALSE(insecure->runtime());
  CHECK(insecure->parse("yes", &config, &error));
  CHECK(ValidateConfig(config, &error));
  CHECK(ToClusterOptions(config).secret.empty());
  CHECK_FALSE(insecure->parse("maybe", &config, &error));
  CHECK(error == "argument must be 'yes' or 'no'");

  // Not in cluster mode, nothing is needed.
  Config single;
  CHECK(ValidateConfig(single, &error));
}

TEST_CASE("cluster-secret: a minimum length, and CONFIG GET never shows it") {
  const ConfigParam* param = FindConfigParam("cluster-secret");
  REQUIRE(param != nullptr);
  CHECK_FALSE(param->runtime());
  Config config = ClusterWithoutSecret();
  std::string error;
  CHECK_FALSE(param->parse("too short", &config, &error));
  CHECK(error.find("cluster-secret must be at least 16 bytes long (it is 9)") == 0);
  CHECK(config.cluster_secret.empty());

  const std::string secret = "0123456789abcdef";  // exactly the minimum
  REQUIRE(param->parse(secret, &config, &error));
  CHECK(ValidateConfig(config, &error));
  CHECK(ToClusterOptions(config).secret == secret);
  CHECK(param->format(config).empty());  // CONFIG GET cluster-secret
  // CONFIG REWRITE keeps it (the config file is where it came from).
  const std::string rendered = RenderConfigToml(config);
  CHECK(rendered.find("secret = \"" + secret + "\"") != std::string::npos);
  Config reloaded;
  REQUIRE_MESSAGE(ApplyConfigToml(rendered, "rendered", &reloaded, &error), error);
  CHECK(reloaded.cluster_secret == secret);
}

TEST_CASE("cluster-secret-file: its first line is the secret") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/secret";
  Config config = ClusterWithoutSecret();
  std::string error;
  REQUIRE(FindConfigParam("cluster-secret-file")->parse(path, &config, &error));
  CHECK(FindConfigParam("cluster-secret-file")->format(config) == path);

  // Missing.
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error == "cannot read cluster-secret-file '" + path + "'");
  // Too short (the newline does not count).
  WriteFile(path, "short\n");
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error.find("the secret in cluster-secret-file '" + path +
                   "' must be at least 16 bytes long (it is 5)") == 0);
  // The first line only, without its line ending.
  WriteFile(path, "a secret of 24 bytes ok\r\nsecond line\n");
  CHECK_MESSAGE(ValidateConfig(config, &error), error);
  CHECK(ToClusterOptions(config).secret == "a secret of 24 bytes ok");
  std::string secret;
  REQUIRE(LoadClusterSecret(config, &secret, &error));
  CHECK(secret == "a secret of 24 bytes ok");

  // Both ways at once is ambiguous.
  config.cluster_secret = "0123456789abcdef0123";
  CHECK_FALSE(ValidateConfig(config, &error));
  CHECK(error == "set cluster-secret or cluster-secret-file, not both");
}

}  // namespace
}  // namespace dynakv::server
