#include "anti_entropy_messages.h"

#include "coding.h"

namespace dynakv::cluster::ae {

namespace {

void PutFixed64(std::string* dst, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) dst->push_back(static_cast<char>(value >> (8 * i)));
}

bool GetFixed64(std::string_view* input, std::uint64_t* value) {
  if (input->size() < 8) return false;
  *value = 0;
  for (int i = 0; i < 8; ++i) {
    *value |= std::uint64_t{static_cast<std::uint8_t>((*input)[i])} << (8 * i);
  }
  input->remove_prefix(8);
  return true;
}

bool GetVarint32(std::string_view* input, std::uint32_t* value) {
  std::uint64_t raw;
  if (!coding::GetVarint64(input, &raw) || raw > UINT32_MAX) return false;
  *value = static_cast<std::uint32_t>(raw);
  return true;
}

// A count of items that take at least `min_item_bytes` each: more than the rest of the payload
// could hold is a lie, refused before anything is reserved for it.
bool GetCount(std::string_view* input, std::size_t min_item_bytes, std::size_t* count) {
  std::uint64_t raw;
  if (!coding::GetVarint64(input, &raw) || raw > input->size() / min_item_bytes) return false;
  *count = static_cast<std::size_t>(raw);
  return true;
}

void PutIndices(std::string* dst, const std::vector<std::uint32_t>& indices) {
  coding::PutVarint64(dst, indices.size());
  for (std::uint32_t index : indices) coding::PutVarint64(dst, index);
}

bool GetIndices(std::string_view* input, std::vector<std::uint32_t>* indices) {
  std::size_t count;
  if (!GetCount(input, 1, &count)) return false;
  indices->clear();
  indices->reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t index;
    if (!GetVarint32(input, &index)) return false;
    indices->push_back(index);
  }
  return true;
}

}  // namespace

std::string EncodeHashesRequest(const HashesRequest& request) {
  std::string out;
  coding::PutVarint64(&out, request.depth);
  coding::PutVarint64(&out, request.level);
  PutIndices(&out, request.nodes);
  return out;
}

bool DecodeHashesRequest(std::string_view payload, HashesRequest* request) {
  return GetVarint32(&payload, &request->depth) && GetVarint32(&payload, &request->level) &&
         GetIndices(&payload, &request->nodes) && payload.empty();
}

std::string EncodeHashes(const std::vector<std::uint64_t>& hashes) {
  std::string out;
  out.reserve(10 + 8 * hashes.size());
  coding::PutVarint64(&out, hashes.size());
  for (std::uint64_t hash : hashes) PutFixed64(&out, hash);
  return out;
}

bool DecodeHashes(std::string_view payload, std::vector<std::uint64_t>* hashes) {
  std::size_t count;
  if (!GetCount(&payload, 8, &count)) return false;
  hashes->assign(count, 0);
  for (std::uint64_t& hash : *hashes) {
    if (!GetFixed64(&payload, &hash)) return false;
  }
  return payload.empty();
}

std::string EncodeKeysRequest(const KeysRequest& request) {
  std::string out;
  coding::PutVarint64(&out, request.depth);
  PutIndices(&out, request.leaves);
  return out;
}

bool DecodeKeysRequest(std::string_view payload, KeysRequest* request) {
  return GetVarint32(&payload, &request->depth) && GetIndices(&payload, &request->leaves) &&
         payload.empty();
}

std::string EncodeKeys(const std::vector<std::vector<KeyDigest>>& leaves) {
  std::string out;
  coding::PutVarint64(&out, leaves.size());
  for (const std::vector<KeyDigest>& keys : leaves) {
    coding::PutVarint64(&out, keys.size());
    for (const KeyDigest& entry : keys) {
      coding::PutLengthPrefixed(&out, entry.key);
      PutFixed64(&out, entry.digest);
    }
  }
  return out;
}

bool DecodeKeys(std::string_view payload, std::vector<std::vector<KeyDigest>>* leaves) {
  std::size_t count;
  if (!GetCount(&payload, 1, &count)) return false;
  leaves->assign(count, {});
  for (std::vector<KeyDigest>& keys : *leaves) {
    std::size_t n;
    if (!GetCount(&payload, 9, &n)) return false;  // a length byte and a digest at least
    keys.resize(n);
    for (KeyDigest& entry : keys) {
      std::string_view key;
      if (!coding::GetLengthPrefixed(&payload, &key) || !GetFixed64(&payload, &entry.digest)) {
        return false;
      }
      entry.key.assign(key);
    }
  }
  return payload.empty();
}

std::string EncodeFetchRequest(const std::vector<std::string>& keys) {
  std::string out;
  coding::PutVarint64(&out, keys.size());
  for (const std::string& key : keys) coding::PutLengthPrefixed(&out, key);
  return out;
}

bool DecodeFetchRequest(std::string_view payload, std::vector<std::string_view>* keys) {
  std::size_t count;
  if (!GetCount(&payload, 1, &count)) return false;
  keys->assign(count, {});
  for (std::string_view& key : *keys) {
    if (!coding::GetLengthPrefixed(&payload, &key)) return false;
  }
  return payload.empty();
}

std::string EncodeFetched(const std::vector<Fetched>& sets) {
  std::string out;
  coding::PutVarint64(&out, sets.size());
  for (const Fetched& set : sets) {
    out.push_back(static_cast<char>(set.status));
    if (set.status == FetchStatus::kValue) coding::PutLengthPrefixed(&out, set.encoded_set);
  }
  return out;
}

bool DecodeFetched(std::string_view payload, std::vector<Fetched>* sets) {
  std::size_t count;
  if (!GetCount(&payload, 1, &count)) return false;
  sets->assign(count, {});
  for (Fetched& set : *sets) {
    if (payload.empty()) return false;
    const auto status = static_cast<std::uint8_t>(payload.front());
    payload.remove_prefix(1);
    if (status > static_cast<std::uint8_t>(FetchStatus::kOmitted)) return false;
    set.status = static_cast<FetchStatus>(status);
    if (set.status != FetchStatus::kValue) continue;
    std::string_view encoded;
    if (!coding::GetLengthPrefixed(&payload, &encoded)) return false;
    set.encoded_set.assign(encoded);
  }
  return payload.empty();
}

std::string EncodePush(const std::vector<KeySet>& sets) {
  std::size_t bytes = 10;
  for (const KeySet& set : sets) bytes += set.key.size() + set.encoded_set.size() + 10;
  std::string out;
  out.reserve(bytes);
  coding::PutVarint64(&out, sets.size());
  for (const KeySet& set : sets) {
    coding::PutLengthPrefixed(&out, set.key);
    coding::PutLengthPrefixed(&out, set.encoded_set);
  }
  return out;
}

bool DecodePush(std::string_view payload, std::vector<KeySet>* sets) {
  std::size_t count;
  if (!GetCount(&payload, 2, &count)) return false;
  sets->assign(count, {});
  for (KeySet& set : *sets) {
    if (!coding::GetLengthPrefixed(&payload, &set.key) ||
        !coding::GetLengthPrefixed(&payload, &set.encoded_set)) {
      return false;
    }
  }
  return payload.empty();
}

}  // namespace dynakv::cluster::ae
