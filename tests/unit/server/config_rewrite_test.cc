// CONFIG REWRITE's editor: the running config goes back into the user's TOML file, whose
// comments, order and unchanged values stay as written.

#include "config_rewrite.h"

#include <doctest/doctest.h>

#include <string>

#include "default_config.h"

namespace dynakv::server {
namespace {

Config Loaded(const std::string& toml) {
  Config config;
  std::string error;
  REQUIRE_MESSAGE(ApplyConfigToml(toml, "test.toml", &config, &error), error);
  return config;
}

void Set(Config* config, std::string_view name, std::string_view value) {
  std::string reason;
  REQUIRE_MESSAGE(FindConfigParam(name)->parse(value, config, &reason), reason);
}

std::string Rewrite(const std::string& original, const Config& config) {
  std::string out;
  std::string error;
  REQUIRE_MESSAGE(RewriteConfigToml(original, config, &out, &error), error);
  return out;
}

void CheckSameConfig(const Config& a, const Config& b) {
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(param.format(a) == param.format(b));
  }
}

TEST_CASE("rewrite: an unchanged config leaves the file byte for byte") {
  const std::string file = kDefaultConfigToml;
  CHECK(Rewrite(file, Loaded(file)) == file);
}

TEST_CASE("rewrite: a changed value is replaced in place, its comment and the rest kept") {
  const std::string file =
      "# my node\n"
      "[server]\n"
      "port = 7000   # the client port\n"
      "\n"
      "# idle clients\n"
      "timeout = 0\n"
      "[limits]\n"
      "proto-max-bulk-len = \"512mb\"  # as Redis\n"
      "[storage]\n"
      "appendfsync = \"everysec\"\n";
  Config config = Loaded(file);
  Set(&config, "timeout", "30");
  Set(&config, "appendfsync", "always");
  CHECK(Rewrite(file, config) ==
        "# my node\n"
        "[server]\n"
        "port = 7000   # the client port\n"
        "\n"
        "# idle clients\n"
        "timeout = 30\n"
        "[limits]\n"
        "proto-max-bulk-len = \"512mb\"  # as Redis\n"
        "[storage]\n"
        "appendfsync = \"always\"\n");
}

TEST_CASE("rewrite: parameters the file does not name are added to their section if not default") {
  const std::string file =
      "[server]\n"
      "port = 7000\n"
      "# end of server\n"
      "\n"
      "[storage]\n"
      "dir = \"d\"";  // no newline at the end
  Config config = Loaded(file);
  Set(&config, "hz", "20");
  Set(&config, "maxmemory", "1mb");
  Set(&config, "protected-mode", "no");
  Set(&config, "tls-session-cache-timeout", "60");
  const std::string out = Rewrite(file, config);
  CHECK(out ==
        "[server]\n"
        "port = 7000\n"
        "protected-mode = false\n"
        "hz = 20\n"
        "# end of server\n"
        "\n"
        "[storage]\n"
        "dir = \"d\"\n"
        "maxmemory = 1048576\n"
        "\n"
        "[tls]\n"
        "session-cache-timeout = 60\n");
  CheckSameConfig(Loaded(out), config);
}

TEST_CASE("rewrite: with no file, only what differs from the defaults is written") {
  Config config;
  Set(&config, "port", "7001");
  Set(&config, "requirepass", "p#ss \"q\"");
  CHECK(Rewrite("", config) == "[server]\nport = 7001\nrequirepass = \"p#ss \\\"q\\\"\"\n");
  CHECK(Rewrite("", Config()) == "");
}

TEST_CASE("rewrite: strings with '#', multi-line arrays and quoted keys are read right") {
  const std::string file =
      "[server]\n"
      "requirepass = \"a#b\" # not the value\n"
      "\"port\" = 7002\n"
      "[cluster]\n"
      "enabled = true\n"
      "node-id = \"n1\"\n"
      "nodes = [\n"
      "  \"n1@127.0.0.1:7002\",  # me\n"
      "  \"n2@127.0.0.1:7003\",\n"
      "]\n"
      "insecure = true\n"
      "replication-factor = 1\n";
  Config config = Loaded(file);
  CHECK(config.requirepass == "a#b");
  CHECK(Rewrite(file, config) == file);
  Set(&config, "requirepass", "new");
  Set(&config, "cluster-read-consistency", "one");
  const std::string out = Rewrite(file, config);
  CHECK(out ==
        "[server]\n"
        "requirepass = \"new\" # not the value\n"
        "\"port\" = 7002\n"
        "[cluster]\n"
        "enabled = true\n"
        "node-id = \"n1\"\n"
        "nodes = [\n"
        "  \"n1@127.0.0.1:7002\",  # me\n"
        "  \"n2@127.0.0.1:7003\",\n"
        "]\n"
        "insecure = true\n"
        "replication-factor = 1\n"
        "read-consistency = \"one\"\n");
  CheckSameConfig(Loaded(out), config);
}

TEST_CASE("rewrite: every run-time parameter changed at once loads back from the rewritten file") {
  const std::string file = kDefaultConfigToml;
  Config config = Loaded(file);
  Set(&config, "maxmemory-policy", "allkeys-lru");
  Set(&config, "client-output-buffer-limit", "pubsub 1mb 512kb 5");
  Set(&config, "notify-keyspace-events", "KEA");
  Set(&config, "tls-protocols", "TLSv1.3");
  Set(&config, "list-max-listpack-size", "-3");
  Set(&config, "loglevel", "warning");
  Set(&config, "bind", "::1");
  const std::string out = Rewrite(file, config);
  CheckSameConfig(Loaded(out), config);
  // Still the user's file: every comment line of it is there.
  std::size_t at = 0;
  while ((at = file.find("\n#", at)) != std::string::npos) {
    const std::string comment = file.substr(at, file.find('\n', at + 1) - at);
    CHECK(out.find(comment) != std::string::npos);
    ++at;
  }
}

TEST_CASE("rewrite: a file that is not TOML is refused, not overwritten") {
  std::string out;
  std::string error;
  CHECK_FALSE(RewriteConfigToml("[server]\nport 7000\n", Config(), &out, &error));
  CHECK_FALSE(error.empty());
}

}  // namespace
}  // namespace dynakv::server
