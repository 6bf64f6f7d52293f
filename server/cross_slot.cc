#include "cross_slot.h"

#include <algorithm>
#include <unordered_set>

#include "cluster/hash_tag.h"
#include "key_spec.h"

namespace dynakv::server {
namespace {

template <typename Key>
bool SameTag(const std::vector<Key>& keys) {
  if (keys.empty()) return true;
  const std::string_view tag = cluster::HashTag(keys.front());
  return std::all_of(keys.begin(), keys.end(),
                     [tag](const Key& key) { return cluster::HashTag(key) == tag; });
}

}  // namespace

std::vector<std::string> CommandKeys(const CommandSpec& spec,
                                     const std::vector<std::string_view>& argv) {
  std::vector<KeyRef> refs;
  GetKeys(spec, argv, &refs);
  std::vector<std::string> keys;
  std::unordered_set<std::string_view> seen;
  for (const KeyRef& ref : refs) {
    const std::string_view key = argv[static_cast<std::size_t>(ref.pos)];
    if (seen.insert(key).second) keys.emplace_back(key);
  }
  return keys;
}

bool SameHashTag(const std::vector<std::string>& keys) { return SameTag(keys); }
bool SameHashTag(const std::vector<std::string_view>& keys) { return SameTag(keys); }

void AddDistinct(std::vector<std::string>* keys, const std::vector<std::string>& more) {
  for (const std::string& key : more) {
    if (std::find(keys->begin(), keys->end(), key) == keys->end()) keys->push_back(key);
  }
}

}  // namespace dynakv::server
