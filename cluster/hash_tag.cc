#include "cluster/hash_tag.h"

namespace dynakv::cluster {

std::string_view HashTag(std::string_view key) {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const std::size_t close = key.find('}', open + 1);
  // "{}" (an empty tag) and an unclosed '{' hash the whole key, as keyHashSlot does.
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

}  // namespace dynakv::cluster
