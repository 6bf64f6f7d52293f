// Redis 7's script shebang: `#!lua flags=no-writes,allow-oom` on the first line
// (evalExtractShebangFlags).

#include <string>

#include "scripting/scripting.h"

namespace dynakv::scripting {
namespace {

bool FlagByName(std::string_view name, std::uint32_t* flag) {
  struct Named {
    std::string_view name;
    std::uint32_t flag;
  };
  static constexpr Named kFlags[] = {
      {"no-writes", kFlagNoWrites},
      {"allow-oom", kFlagAllowOom},
      {"allow-stale", kFlagAllowStale},
      {"no-cluster", kFlagNoCluster},
      {"allow-cross-slot-keys", kFlagAllowCrossSlot},
  };
  for (const Named& named : kFlags) {
    if (named.name == name) {
      *flag = named.flag;
      return true;
    }
  }
  return false;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

bool ParseShebang(std::string_view body, std::uint32_t* flags, std::size_t* shebang_len,
                  std::string* error) {
  *flags = kFlagEvalCompat;
  *shebang_len = 0;
  if (body.substr(0, 2) != "#!") return true;
  const std::size_t end = body.find('\n');
  const std::string_view line = body.substr(0, end);
  *shebang_len = line.size();
  // Redis splits the line on spaces (sdssplitargs); the first part is the engine.
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(line, ' ')) {
    if (!part.empty()) parts.push_back(part);
  }
  if (parts.empty() || parts[0] != "#!lua") {
    *error = "Unexpected engine in script shebang: ";
    error->append(parts.empty() ? line : parts[0]);
    return false;
  }
  *flags = 0;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view option = parts[i];
    if (option.substr(0, 6) != "flags=") {
      *error = "Unknown lua shebang option: ";
      error->append(option);
      return false;
    }
    const std::string_view list = option.substr(6);
    if (list.empty()) continue;
    for (std::string_view name : Split(list, ',')) {
      std::uint32_t flag = 0;
      if (!FlagByName(name, &flag)) {
        *error = "Unexpected flag in script shebang: ";
        error->append(name);
        return false;
      }
      *flags |= flag;
    }
  }
  return true;
}

}  // namespace dynakv::scripting
