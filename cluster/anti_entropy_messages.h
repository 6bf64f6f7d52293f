// Payloads of the anti-entropy frames (bus::FrameType::kAe*) and of their replies. Like every
// bus decoder these read untrusted bytes: they check bounds, cap counts by the bytes actually
// present (a claimed count never sizes an allocation), and reject trailing bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::cluster::ae {

// AE_HASHES: the hashes of `nodes` at `level` of the tree the two nodes share. `depth` is the
// sender's tree shape; a receiver with another shape refuses rather than compare apples with
// oranges.
struct HashesRequest {
  std::uint32_t depth = 0;
  std::uint32_t level = 0;
  std::vector<std::uint32_t> nodes;
};
std::string EncodeHashesRequest(const HashesRequest& request);
bool DecodeHashesRequest(std::string_view payload, HashesRequest* request);
std::string EncodeHashes(const std::vector<std::uint64_t>& hashes);
bool DecodeHashes(std::string_view payload, std::vector<std::uint64_t>* hashes);

// AE_KEYS: for each leaf, every key in it with the digest of its stored set.
struct KeysRequest {
  std::uint32_t depth = 0;
  std::vector<std::uint32_t> leaves;
};
struct KeyDigest {
  std::string key;
  std::uint64_t digest = 0;
  bool operator==(const KeyDigest&) const = default;
};
std::string EncodeKeysRequest(const KeysRequest& request);
bool DecodeKeysRequest(std::string_view payload, KeysRequest* request);
std::string EncodeKeys(const std::vector<std::vector<KeyDigest>>& leaves);
bool DecodeKeys(std::string_view payload, std::vector<std::vector<KeyDigest>>* leaves);

// AE_FETCH: the stored set of each key, in request order. A reply is kept within a byte budget:
// sets past it are marked kOmitted (asked for again), never silently dropped.
enum class FetchStatus : std::uint8_t { kNone = 0, kValue = 1, kOmitted = 2 };
struct Fetched {
  FetchStatus status = FetchStatus::kNone;
  std::string encoded_set;  // when kValue
};
std::string EncodeFetchRequest(const std::vector<std::string>& keys);
bool DecodeFetchRequest(std::string_view payload, std::vector<std::string_view>* keys);
std::string EncodeFetched(const std::vector<Fetched>& sets);
bool DecodeFetched(std::string_view payload, std::vector<Fetched>* sets);

// AE_PUSH: sets for the receiver to merge into its copies; the reply is empty.
struct KeySet {
  std::string_view key;
  std::string_view encoded_set;
};
std::string EncodePush(const std::vector<KeySet>& sets);
bool DecodePush(std::string_view payload, std::vector<KeySet>* sets);

}  // namespace dynakv::cluster::ae
