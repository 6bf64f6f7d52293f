#include "key_spec.h"

#include <charconv>
#include <cstdlib>

#include "command_util.h"

namespace dynakv::server {
namespace {

constexpr std::string_view kKeySpecFlagNames[kKeySpecFlagCount] = {
    "RO",     "RW",     "OW",      "RM",         "access",         "update",
    "insert", "delete", "not_key", "incomplete", "variable_flags",
};

// Redis's string2ll for a key count: a plain decimal that fits.
bool ParseCount(std::string_view text, long long* value) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
  const char* begin = text.data();
  if (*begin == '+') return false;
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && !(text == "-0");
}

// Where a spec's keys begin: 0 when its keyword is absent.
int BeginOf(const KeySpec& spec, const std::vector<std::string_view>& argv) {
  const int argc = static_cast<int>(argv.size());
  if (spec.begin == KeySpec::Begin::kIndex) return spec.index;
  // A keyword searched forwards from a positive start, backwards from a negative one.
  const int start = spec.index > 0 ? spec.index : argc + spec.index;
  const int end = spec.index > 0 ? argc - 1 : 1;
  for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
    if (i >= argc || i < 1) break;
    if (EqualsIgnoreCase(argv[static_cast<std::size_t>(i)], spec.keyword)) return i + 1;
  }
  return 0;
}

}  // namespace

void KeySpecs::TooMany() { std::abort(); }

std::string_view KeySpecFlagName(std::uint16_t bit) {
  for (int i = 0; i < kKeySpecFlagCount; ++i) {
    if (bit == (1u << i)) return kKeySpecFlagNames[i];
  }
  return {};
}

int KeysFromSpecs(const KeySpecs& specs, int arity, const std::vector<std::string_view>& argv,
                  std::vector<KeyRef>* keys) {
  keys->clear();
  const int argc = static_cast<int>(argv.size());
  for (const KeySpec& spec : specs.specs()) {
    if (spec.flags & kKeyNotKey) continue;
    if (spec.begin == KeySpec::Begin::kUnknown || spec.find == KeySpec::Find::kUnknown) {
      keys->clear();
      return -1;
    }
    int first = BeginOf(spec, argv);
    if (first == 0) continue;  // keyword not found: no keys from this spec
    long long last = 0;
    int step = 1;
    if (spec.find == KeySpec::Find::kRange) {
      step = spec.b;
      if (spec.a >= 0) {
        last = first + spec.a;
      } else if (spec.c == 0) {
        last = argc + spec.a;
      } else {  // lastkey -1 with a limit: 1/limit of the remaining arguments
        last = first + ((argc - first) / spec.c + spec.a);
      }
    } else {
      step = spec.c;
      long long count = 0;
      if (spec.a >= argc - first ||
          !ParseCount(argv[static_cast<std::size_t>(first + spec.a)], &count) || count < 0) {
        keys->clear();
        return -1;
      }
      first += spec.b;
      last = first + static_cast<long long>(static_cast<int>(count)) - 1;  // Redis's (int) cast
    }
    if (last >= argc || last < first || first >= argc) {
      keys->clear();
      return -1;
    }
    for (int i = first; i <= static_cast<int>(last); i += step) {
      // A variadic command gets its arity or syntax error from its handler.
      if (i >= argc || i < first) {
        if (arity < 0) continue;
        break;
      }
      keys->push_back(KeyRef{i, spec.flags});
    }
    if (spec.flags & kKeyIncomplete) {
      keys->clear();
      return -1;
    }
  }
  return static_cast<int>(keys->size());
}

}  // namespace dynakv::server
