// Fuzzes the config loader (server/config.h): a TOML file plus --name value flags, as
// dynakv-server's command line gives them. Input: the TOML text, then after the first NUL byte
// the flags, NUL separated. The TOML goes to a scratch file passed as --config; a fuzzed
// "--config" is renamed so the fuzzer never reads other files (or blocks on a FIFO).
// Invariants: a loaded config validates, and its CONFIG REWRITE rendering loads back into a
// config that renders identically; likewise every parameter's format() parses back to itself.
// CONFIG REWRITE's editor, given the fuzzed file and the config it (and the flags) gave, either
// refuses or returns a file that loads back to that config.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "config_rewrite.h"
#include "fuzz_util.h"

namespace {

using namespace dynakv::server;

void CheckRoundTrip(const Config& config) {
  std::string error;
  FUZZ_CHECK(ValidateConfig(config, &error));
  const std::string rendered = RenderConfigToml(config);
  Config again;
  if (!ApplyConfigToml(rendered, "rendered", &again, &error)) {
    std::fprintf(stderr, "rendered config does not load: %s\n%s\n", error.c_str(),
                 rendered.c_str());
    FUZZ_CHECK(false);
  }
  const std::string rerendered = RenderConfigToml(again);
  if (rerendered != rendered) {
    std::fprintf(stderr, "rendered config:\n%s\nloads back as:\n%s\n", rendered.c_str(),
                 rerendered.c_str());
    FUZZ_CHECK(false);
  }
  for (const ConfigParam& param : ConfigParams()) {
    const std::string value = param.format(config);
    Config copy = config;
    std::string reason;
    if (!param.parse(value, &copy, &reason)) {
      std::fprintf(stderr, "%s: '%s' does not parse back: %s\n", std::string(param.name).c_str(),
                   value.c_str(), reason.c_str());
      FUZZ_CHECK(false);
    }
    FUZZ_CHECK(param.format(copy) == value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dynakv::fuzz::ScratchFile scratch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view toml = input.substr(0, nul);

  std::vector<std::string> args = {"dynakv-server", "--config", scratch.Write(toml)};
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (args.size() < 64) {
      const std::size_t end = rest.find('\0');
      std::string arg(rest.substr(0, end));
      if (arg == "--config") arg = "--port";
      args.push_back(std::move(arg));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());

  Config config;
  std::string message;
  const ConfigLoadResult result =
      LoadConfig(static_cast<int>(argv.size()), argv.data(), &config, &message);
  if (result == ConfigLoadResult::kRun) {
    CheckRoundTrip(config);
    std::string rewritten;
    std::string error;
    if (RewriteConfigToml(toml, config, &rewritten, &error)) {
      Config again;
      FUZZ_CHECK(ApplyConfigToml(rewritten, "rewritten", &again, &error));
      for (const ConfigParam& param : ConfigParams()) {
        if (!param.section.empty()) FUZZ_CHECK(param.format(again) == param.format(config));
      }
    }
  } else {
    FUZZ_CHECK(!message.empty());
  }
  return 0;
}
