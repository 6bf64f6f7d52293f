// client-output-buffer-limit, parsed and shown as Redis 7.0 does (config.c's
// setConfigClientOutputBufferLimitOption / getConfigClientOutputBufferLimitOption).

#include <string>
#include <vector>

#include "ascii.h"
#include "config.h"
#include "number_parse.h"

namespace dynakv::server {
namespace {

std::vector<std::string_view> SplitSpaces(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

bool ClassByName(std::string_view name, ClientClass* out) {
  if (EqualsIgnoreCase(name, "normal")) {
    *out = ClientClass::kNormal;
  } else if (EqualsIgnoreCase(name, "slave") || EqualsIgnoreCase(name, "replica")) {
    *out = ClientClass::kReplica;
  } else if (EqualsIgnoreCase(name, "pubsub")) {
    *out = ClientClass::kPubSub;
  } else {
    return false;  // "master" too: Redis refuses it here
  }
  return true;
}

}  // namespace

bool ParseOutputBufferLimits(std::string_view value, Config* config, std::string* reason) {
  const std::vector<std::string_view> words = SplitSpaces(value);
  if (words.size() % 4 != 0) {
    *reason = "Wrong number of arguments in buffer limit configuration.";
    return false;
  }
  // Every group is checked before any is applied, so a bad one changes nothing.
  OutputBufferLimit limits[kClientClassCount];
  std::copy(std::begin(config->client_output_buffer_limits),
            std::end(config->client_output_buffer_limits), limits);
  for (std::size_t j = 0; j < words.size(); j += 4) {
    ClientClass cls;
    if (!ClassByName(words[j], &cls)) {
      *reason = "Invalid client class specified in buffer limit configuration.";
      return false;
    }
    OutputBufferLimit limit;
    if (!ParseMemory(words[j + 1], &limit.hard) || !ParseMemory(words[j + 2], &limit.soft) ||
        !ParseLongLong(words[j + 3], &limit.soft_seconds) || limit.soft_seconds < 0) {
      *reason = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
      return false;
    }
    limits[static_cast<int>(cls)] = limit;
  }
  std::copy(std::begin(limits), std::end(limits), config->client_output_buffer_limits);
  return true;
}

std::string FormatOutputBufferLimits(const Config& config) {
  static constexpr std::string_view kNames[kClientClassCount] = {"normal", "slave", "pubsub"};
  std::string out;
  for (int i = 0; i < kClientClassCount; ++i) {
    const OutputBufferLimit& limit = config.client_output_buffer_limits[i];
    if (!out.empty()) out += ' ';
    out.append(kNames[i]);
    out += ' ' + std::to_string(limit.hard) + ' ' + std::to_string(limit.soft) + ' ' +
           std::to_string(limit.soft_seconds);
  }
  return out;
}

}  // namespace dynakv::server
