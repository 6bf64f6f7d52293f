// The parameter table and its three inputs: TOML, --flags and (through the same parse functions)
// CONFIG SET. Errors must name the offending key.

#include "config.h"
#include "default_config.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dynakv::server {
namespace {

// Runs LoadConfig on a command line given as strings.
ConfigLoadResult Load(std::vector<std::string> args, Config* config, std::string* message) {
  args.insert(args.begin(), "dynakv-server");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return LoadConfig(static_cast<int>(argv.size()), argv.data(), config, message);
}

// A config file in a fresh temporary directory, removed with the object.
class TempToml {
 public:
  explicit TempToml(const std::string& text, const std::string& name = "node.toml") {
    char pattern[] = "/tmp/dynakv-config-test-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    path_ = dir_ + "/" + name;
    std::ofstream(path_) << text;
  }
  ~TempToml() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

std::string Get(const Config& config, std::string_view name) {
  const ConfigParam* param = FindConfigParam(name);
  REQUIRE(param != nullptr);
  return param->format(config);
}

TEST_CASE("ParseMemory takes Redis units, case-insensitively") {
  std::uint64_t n = 0;
  const std::pair<const char*, std::uint64_t> good[] = {
      {"0", 0},
      {"100", 100},
      {"1b", 1},
      {"1k", 1000},
      {"1kb", 1024},
      {"1KB", 1024},
      {"5m", 5000000},
      {"5mb", 5ull << 20},
      {"2g", 2000000000ull},
      {"2Gb", 2ull << 30},
      {"007", 7},
      {"18446744073709551615", 18446744073709551615ull},
  };
  for (const auto& [text, expected] : good) {
    CAPTURE(text);
    REQUIRE(ParseMemory(text, &n));
    CHECK(n == expected);
  }
  for (const char* bad : {"", "mb", "-1", "+1", " 1", "1 ", "1.5mb", "1tb", "1kbb", "0x10",
                          "18446744073709551616", "17179869184gb"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseMemory(bad, &n));
  }
}

TEST_CASE("BytesToHuman matches Redis") {
  CHECK(BytesToHuman(0) == "0B");
  CHECK(BytesToHuman(1023) == "1023B");
  CHECK(BytesToHuman(1536) == "1.50K");
  CHECK(BytesToHuman(1ull << 20) == "1.00M");
  CHECK(BytesToHuman(3ull << 30) == "3.00G");
  CHECK(BytesToHuman(5ull << 40) == "5.00T");
}

TEST_CASE("with no file and no flags every parameter has its table default") {
  Config config;
  config.port = 1;  // LoadConfig must replace all of it
  std::string message;
  REQUIRE(Load({}, &config, &message) == ConfigLoadResult::kRun);
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    if (!param.alias_of.empty()) continue;
    Config parsed;
    std::string reason;
    REQUIRE(param.parse(param.default_value, &parsed, &reason));
    CHECK(param.format(config) == param.format(parsed));
  }
  CHECK(config.port == 6379);
  CHECK(config.maxmemory_policy == storage::EvictionPolicy::kOffload);
  CHECK(config.client_output_buffer_limits[2].hard == 32ull << 20);
  CHECK(config.config_file.empty());
}

TEST_CASE("every row is complete: a default that parses, bounds that hold it, aliases that exist") {
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(bool(param.parse));
    CHECK(bool(param.format));
    if (!param.alias_of.empty()) {
      const ConfigParam* target = FindConfigParam(param.alias_of);
      REQUIRE(target != nullptr);
      CHECK(target->alias_of.empty());
      CHECK(param.section.empty());
      continue;
    }
    Config config;
    std::string reason;
    CHECK(param.parse(param.default_value, &config, &reason));
    if (param.type == ConfigType::kInteger || param.type == ConfigType::kMemory) {
      CHECK(param.min <= param.max);
      // The row's bounds are the parser's: min and max pass, one past them does not.
      CHECK(param.parse(std::to_string(param.max), &config, &reason));
      if (param.min >= 0) CHECK(param.parse(std::to_string(param.min), &config, &reason));
      if (param.max < LLONG_MAX) {
        CHECK_FALSE(param.parse(std::to_string(param.max + 1), &config, &reason));
      }
      if (param.type == ConfigType::kInteger && param.min > LLONG_MIN) {
        CHECK_FALSE(param.parse(std::to_string(param.min - 1), &config, &reason));
      }
    }
    // Only parameters nothing else copies may go without an apply function at run time: a
    // copy held elsewhere (engine, codec, listeners, ACL) needs one to follow CONFIG SET.
    if (param.change == ConfigChange::kStartup) CHECK_FALSE(bool(param.apply));
  }
}

TEST_CASE("the parameters whose values other parts copy have apply functions") {
  // Each of these is held outside server.config() (storage::Options, the hint store, the codec's
  // TypeLimits, the listeners, the ACL, the cron timer, the TLS contexts): without an apply
  // function a CONFIG SET would change CONFIG GET and nothing else.
  for (const char* name :
       {"bind", "port", "requirepass", "acllog-max-len", "acl-pubsub-default", "maxclients",
        "hz", "loglevel", "tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file",
        "tls-protocols", "maxmemory", "maxmemory-policy", "maxmemory-samples",
        "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time", "appendfsync",
        "compression-threshold", "hot-value-reads", "hash-max-listpack-entries",
        "hash-max-listpack-value", "set-max-intset-entries", "list-max-listpack-size",
        "zset-max-listpack-entries", "zset-max-listpack-value"}) {
    CAPTURE(name);
    REQUIRE(FindConfigParam(name) != nullptr);
    CHECK(FindConfigParam(name)->runtime());
    CHECK(bool(FindConfigParam(name)->apply));
  }
}

TEST_CASE("conf/node.toml sets every parameter it shows to the table's default") {
  // The example file is documentation: it must not claim a default the node does not have.
  Config from_file;
  std::string error;
  REQUIRE(ApplyConfigToml(kDefaultConfigToml, "conf/node.toml", &from_file, &error));
  const Config defaults;
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(param.format(from_file) == param.format(defaults));
  }
  // ... and it shows every parameter outside [cluster] (README documents those).
  for (const ConfigParam& param : ConfigParams()) {
    if (param.section.empty() || param.section == "cluster") continue;
    CAPTURE(param.name);
    const std::string key = "\n" + std::string(TomlKey(param)) + " = ";
    CHECK(std::string_view(kDefaultConfigToml).find(key) != std::string_view::npos);
  }
}

TEST_CASE("TOML values of every kind reach the parameters") {
  Config config;
  std::string error;
  REQUIRE(ApplyConfigToml(R"(
[server]
port = 7001
bind = "::1"
requirepass = "s3cret"
loglevel = "WARNING"
[limits]
proto-max-bulk-len = "2mb"
client-output-buffer-soft-limit = 0
[storage]
dir = "/var/lib/dynakv"
maxmemory = "1gb"
maxmemory-policy = "allkeys-lru"
appendfsync = "always"
compression-threshold = "1k"
background-priority = "low"
)",
                          "test.toml", &config, &error));
  CHECK(config.port == 7001);
  CHECK(config.bind == "::1");
  CHECK(config.requirepass == "s3cret");
  CHECK(config.loglevel == "warning");
  CHECK(config.proto_max_bulk_len == 2 * 1024 * 1024);
  CHECK(config.client_output_buffer_soft_limit == 0);
  CHECK(config.dir == "/var/lib/dynakv");
  CHECK(config.maxmemory == 1ull << 30);
  CHECK(config.maxmemory_policy == storage::EvictionPolicy::kAllKeysLru);
  CHECK(config.appendfsync == storage::FsyncPolicy::kAlways);
  CHECK(config.compression_threshold == 1000);
  CHECK(config.background_priority == storage::BackgroundPriority::kLow);
}

TEST_CASE("TOML eviction knobs reach the parameters and the engine's tuning, bounds as Redis") {
  Config config;
  std::string error;
  REQUIRE(ApplyConfigToml(R"(
[storage]
maxmemory-policy = "volatile-lfu"
maxmemory-samples = 10
maxmemory-eviction-tenacity = 100
lfu-log-factor = 0
lfu-decay-time = 7
)",
                          "test.toml", &config, &error));
  CHECK(config.maxmemory_policy == storage::EvictionPolicy::kVolatileLfu);
  const storage::EvictionTuning tuning = EvictionTuningOf(config);
  CHECK(tuning.samples == 10);
  CHECK(tuning.tenacity == 100);
  CHECK(tuning.lfu_log_factor == 0);
  CHECK(tuning.lfu_decay_time == 7);
  CHECK_FALSE(ApplyConfigToml("[storage]\nmaxmemory-samples = 0\n", "t.toml", &config, &error));
  CHECK(error.find("between 1 and 2147483647") != std::string::npos);
  CHECK_FALSE(
      ApplyConfigToml("[storage]\nmaxmemory-eviction-tenacity = 101\n", "t.toml", &config, &error));
  CHECK(error.find("between 0 and 100") != std::string::npos);
  CHECK_FALSE(
      ApplyConfigToml("[storage]\nmaxmemory-policy = \"lru\"\n", "t.toml", &config, &error));
}

TEST_CASE("TOML errors name the key and the file") {
  struct Case {
    const char* toml;
    const char* expected;
  };
  const Case cases[] = {
      {"[server]\nprot = 1\n", "test.toml: unknown parameter 'prot' in [server]"},
      {"[storage]\nport = 1\n", "test.toml: parameter 'port' belongs in [server], not [storage]"},
      {"[network]\nport = 1\n", "test.toml: unknown section [network]"},
      {"port = 1\n", "test.toml: parameter 'port' must be inside a section"},
      {"[server]\nport = 70000\n",
       "test.toml: invalid value '70000' for 'port': argument must be between 0 and 65535 "
       "inclusive"},
      {"[storage]\nmaxmemory = \"lots\"\n",
       "test.toml: invalid value 'lots' for 'maxmemory': argument must be a memory value"},
      {"[storage]\nappendfsync = \"sometimes\"\n",
       "test.toml: invalid value 'sometimes' for 'appendfsync': argument(s) must be one of the "
       "following: everysec, always, no"},
      {"[server]\nhz = 1.5\n", "test.toml: parameter 'hz' must be a string or an integer"},
      {"[server]\nsave = \"\"\n", "test.toml: unknown parameter 'save' in [server]"},
      {"[server]\nbind = \"localhost\"\n", "Invalid bind address 'localhost'"},
      {"[server\nport = 1\n", "test.toml:1:"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.toml);
    Config config;
    std::string error;
    CHECK_FALSE(ApplyConfigToml(c.toml, "test.toml", &config, &error));
    CHECK(error.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("flags override the file whatever their order") {
  TempToml file("[server]\nport = 7001\nhz = 20\n[storage]\nmaxmemory = \"1mb\"\n");
  Config config;
  std::string message;
  REQUIRE(Load({"--port", "7002", "--config", file.path(), "--maxmemory", "2mb"}, &config,
               &message) == ConfigLoadResult::kRun);
  CHECK(config.port == 7002);
  CHECK(config.hz == 20);
  CHECK(config.maxmemory == 2ull << 20);
  CHECK(std::filesystem::path(config.config_file).is_absolute());
  CHECK(std::filesystem::equivalent(config.config_file, file.path()));

  SUBCASE("a first positional argument ending in .toml is the config file") {
    Config positional;
    REQUIRE(Load({file.path(), "--hz", "5"}, &positional, &message) == ConfigLoadResult::kRun);
    CHECK(positional.port == 7001);
    CHECK(positional.hz == 5);
  }
  SUBCASE("the last of repeated flags wins") {
    Config repeated;
    REQUIRE(Load({"--port", "1", "--port", "2"}, &repeated, &message) == ConfigLoadResult::kRun);
    CHECK(repeated.port == 2);
  }
  SUBCASE("flag names are case-insensitive like Redis config names") {
    Config upper;
    REQUIRE(Load({"--MaxMemory", "3mb"}, &upper, &message) == ConfigLoadResult::kRun);
    CHECK(upper.maxmemory == 3ull << 20);
  }
}

TEST_CASE("command line errors are reported, not guessed around") {
  Config config;
  config.port = 4242;
  std::string message;
  CHECK(Load({"--bogus", "1"}, &config, &message) == ConfigLoadResult::kError);
  CHECK(message == "unknown option '--bogus' (see --help)");
  CHECK(Load({"--port"}, &config, &message) == ConfigLoadResult::kError);
  CHECK(message == "option '--port' needs a value");
  CHECK(Load({"--port", "x"}, &config, &message) == ConfigLoadResult::kError);
  CHECK(message == "invalid value 'x' for --port: argument couldn't be parsed into an integer");
  CHECK(Load({"stray"}, &config, &message) == ConfigLoadResult::kError);
  CHECK(message == "unexpected argument 'stray' (see --help)");
  CHECK(Load({"--config", "/nonexistent/dynakv.toml"}, &config, &message) ==
        ConfigLoadResult::kError);
  CHECK(message == "cannot read config file '/nonexistent/dynakv.toml'");
  CHECK(Load({"--client-output-buffer-soft-limit", "2mb", "--client-output-buffer-hard-limit",
              "1mb"},
             &config, &message) == ConfigLoadResult::kError);
  CHECK(message.find("soft-limit must not exceed") != std::string::npos);
  TempToml bad("[server]\nportt = 1\n");
  CHECK(Load({"--config", bad.path()}, &config, &message) == ConfigLoadResult::kError);
  CHECK(message.find("unknown parameter 'portt'") != std::string::npos);
  CHECK(config.port == 4242);  // untouched on error
}

TEST_CASE("--help lists every parameter; --version prints the version") {
  Config config;
  std::string message;
  REQUIRE(Load({"--help"}, &config, &message) == ConfigLoadResult::kExitSuccess);
  for (const ConfigParam& param : ConfigParams()) {
    if (param.section.empty()) continue;
    CAPTURE(param.name);
    CHECK(message.find("--" + std::string(param.name) + " <") != std::string::npos);
  }
  // The kind, the bounds, the default and whether it changes at run time, from the table.
  CHECK(message.find("--hz <integer 1..500> [10] runtime\n") != std::string::npos);
  CHECK(message.find("--appendfsync <everysec|always|no> [everysec] runtime\n") !=
        std::string::npos);
  CHECK(message.find("--databases <integer 1..1048576> [16]\n") != std::string::npos);
  CHECK(message.find("--lua-time-limit <integer 0..max> [5000] runtime (alias of "
                     "busy-reply-threshold)") != std::string::npos);
  REQUIRE(Load({"--version"}, &config, &message) == ConfigLoadResult::kExitSuccess);
  CHECK(message.find("v=") != std::string::npos);
}

TEST_CASE("save and appendonly take the values that mean what dynakv does, and refuse others") {
  const Config config;
  CHECK(Get(config, "save") == "");
  CHECK(Get(config, "appendonly") == "yes");
  CHECK(FindConfigParam("save")->runtime());
  CHECK(FindConfigParam("appendonly")->runtime());
  Config changed;
  std::string message;
  CHECK(Load({"--appendonly", "yes", "--save", ""}, &changed, &message) ==
        ConfigLoadResult::kRun);
  CHECK(Load({"--appendonly", "no"}, &changed, &message) == ConfigLoadResult::kError);
  CHECK(message.find("only appendonly yes is supported") != std::string::npos);
  CHECK(Load({"--save", "3600 1"}, &changed, &message) == ConfigLoadResult::kError);
  CHECK(message.find("only save \"\" is supported") != std::string::npos);
  std::string reason;
  CHECK(FindConfigParam("appendonly")->parse("YES", &changed, &reason));
  CHECK_FALSE(FindConfigParam("appendonly")->parse("maybe", &changed, &reason));
  CHECK(reason == "argument must be 'yes' or 'no'");
}

TEST_CASE("mutability follows what a running node can change") {
  for (const char* name : {"dir", "log-checkpoint-bytes", "databases", "cluster-enabled"}) {
    CAPTURE(name);
    CHECK_FALSE(FindConfigParam(name)->runtime());
  }
  for (const char* name : {"port", "bind", "maxmemory", "maxmemory-policy", "appendfsync",
                           "requirepass", "compression-threshold", "proto-max-bulk-len",
                           "client-query-buffer-limit", "hz", "timeout", "save", "appendonly"}) {
    CAPTURE(name);
    CHECK(FindConfigParam(name)->runtime());
  }
  CHECK(FindConfigParam("MAXMEMORY") == FindConfigParam("maxmemory"));
  CHECK(FindConfigParam("no-such-thing") == nullptr);
}

TEST_CASE("every parameter's formatted value parses back to itself") {
  Config config;
  std::string error;
  REQUIRE(ApplyConfigToml(
      "[server]\nrequirepass = \"p a\\\"ss\"\nport = 1234\n[storage]\nmaxmemory = \"3gb\"\n",
      "t", &config, &error));
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    Config reparsed;
    std::string reason;
    REQUIRE(param.parse(param.format(config), &reparsed, &reason));
    CHECK(param.format(reparsed) == param.format(config));
  }
}

TEST_CASE("CONFIG REWRITE output loads back to the same config") {
  Config config;
  std::string error;
  REQUIRE(ApplyConfigToml(
      "[server]\nrequirepass = \"12345\"\nhz = 50\n[limits]\nproto-max-bulk-len = \"2mb\"\n"
      "[storage]\ndir = \"d i r\"\nmaxmemory-policy = \"noeviction\"\n",
      "t", &config, &error));
  const std::string rendered = RenderConfigToml(config);
  Config reloaded;
  REQUIRE_MESSAGE(ApplyConfigToml(rendered, "rendered", &reloaded, &error), error);
  for (const ConfigParam& param : ConfigParams()) {
    CAPTURE(param.name);
    CHECK(param.format(reloaded) == param.format(config));
  }
}

// Found by the config fuzzer: a flag (or CONFIG SET) value that is not UTF-8 was taken, and
// CONFIG REWRITE then wrote a TOML file that loads a different password ("\xDE" came back as
// U+00DE, two other bytes).
TEST_CASE("string parameters refuse what the TOML file could not hold") {
  for (const char* name : {"requirepass", "dir"}) {
    CAPTURE(name);
    const ConfigParam* param = FindConfigParam(name);
    Config config;
    std::string reason;
    for (const char* bad :
         {"p\xDEl", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "x\xE2\x82"}) {
      CHECK_FALSE(param->parse(bad, &config, &reason));
      CHECK(reason == "argument must be valid UTF-8 (the config file is TOML)");
    }
    REQUIRE(param->parse("p\xC3\x9El \xE2\x82\xAC \xF0\x9F\x94\x91", &config, &reason));
    const std::string rendered = RenderConfigToml(config);
    Config reloaded;
    std::string error;
    REQUIRE_MESSAGE(ApplyConfigToml(rendered, "rendered", &reloaded, &error), error);
    CHECK(param->format(reloaded) == "p\xC3\x9El \xE2\x82\xAC \xF0\x9F\x94\x91");
  }
  Config config;
  std::string message;
  CHECK(Load({"--requirepass", "p\xDEl"}, &config, &message) == ConfigLoadResult::kError);
}

// Found by the config fuzzer: toml++ wrote a value with newlines as a multi-line literal string
// even when it held "'''", so CONFIG REWRITE wrote a file that did not parse.
TEST_CASE("CONFIG REWRITE quotes any string so that it loads back") {
  for (const char* pass : {"x'''\ny", "a\"b\\c", "'''", "\"\"\"\n", "tab\there\x7f\x01 \xC3\xA9",
                           "line\r\nbreak\\n"}) {
    CAPTURE(pass);
    Config config;
    std::string reason;
    REQUIRE(FindConfigParam("requirepass")->parse(pass, &config, &reason));
    const std::string rendered = RenderConfigToml(config);
    Config reloaded;
    std::string error;
    REQUIRE_MESSAGE(ApplyConfigToml(rendered, "rendered", &reloaded, &error), error);
    CHECK(reloaded.requirepass == pass);
  }
}

TEST_CASE("storage options follow the config") {
  Config config;
  config.dir = "/data";
  config.maxmemory = 123;
  config.maxmemory_policy = storage::EvictionPolicy::kNoEviction;
  config.appendfsync = storage::FsyncPolicy::kNo;
  config.compression_threshold = 7;
  config.log_checkpoint_bytes = 99;
  config.background_priority = storage::BackgroundPriority::kNormal;
  const storage::Options options = ToStorageOptions(config);
  CHECK(options.dir == "/data");
  CHECK(options.max_memory == 123);
  CHECK(options.eviction == storage::EvictionPolicy::kNoEviction);
  CHECK(options.fsync == storage::FsyncPolicy::kNo);
  CHECK(options.compression_threshold == 7);
  CHECK(options.log_checkpoint_bytes == 99);
  CHECK(options.background_priority == storage::BackgroundPriority::kNormal);
  REQUIRE(options.clock_ms);
  CHECK(options.clock_ms() > 1600000000000LL);
}

TEST_CASE("bind takes Redis's address lists") {
  const ConfigParam* bind = FindConfigParam("bind");
  Config config;
  std::string reason;
  for (const char* value : {"127.0.0.1", "127.0.0.1 ::1", "* -::*", "-10.0.0.1 127.0.0.1", ""}) {
    CAPTURE(value);
    CHECK(bind->parse(value, &config, &reason));
    CHECK(Get(config, "bind") == value);
  }
  std::string many;
  for (int i = 0; i < 17; ++i) many += "127.0.0." + std::to_string(i + 1) + " ";
  CHECK_FALSE(bind->parse(many, &config, &reason));
  CHECK(reason == "Too many bind addresses specified.");
  CHECK_FALSE(bind->parse("127.0.0.1 localhost", &config, &reason));
  CHECK(reason.find("'localhost'") != std::string::npos);
}

}  // namespace
}  // namespace dynakv::server
