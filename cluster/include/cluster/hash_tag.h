// Which part of a key decides where it lives, as Redis Cluster's keyHashSlot decides it: the
// hash tag when the key has one, so keys that share a tag ({user:1}:cart, {user:1}:total) share
// their replicas and a transaction or script may use them together.
#pragma once

#include <string_view>

namespace dynakv::cluster {

// The bytes between the first '{' and the first '}' after it when there are any (a non-empty
// tag); otherwise the whole key. "{}x", "{x" and "x}" have no tag; "a{b}{c}" has tag "b".
std::string_view HashTag(std::string_view key);

}  // namespace dynakv::cluster
