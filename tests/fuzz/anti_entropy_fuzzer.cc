// Fuzzes the anti-entropy payload decoders (cluster/anti_entropy_messages.h): requests and
// replies of AE_HASHES, AE_KEYS, AE_FETCH and AE_PUSH. Input: [selector byte] then the payload;
// the selector picks the decoder. Invariant: whatever decodes re-encodes to exactly the payload
// (every encoding here is canonical and trailing bytes are refused).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anti_entropy_messages.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dynakv::cluster::ae;
  dynakv::fuzz::InputReader in(data, size);
  const std::uint8_t selector = in.Byte();
  const std::string_view payload = in.Rest();
  switch (selector % 8) {
    case 0: {
      HashesRequest request;
      if (DecodeHashesRequest(payload, &request)) {
        FUZZ_CHECK(request.nodes.size() <= payload.size());
        FUZZ_CHECK(EncodeHashesRequest(request) == payload);
      }
      break;
    }
    case 1: {
      std::vector<std::uint64_t> hashes;
      if (DecodeHashes(payload, &hashes)) FUZZ_CHECK(EncodeHashes(hashes) == payload);
      break;
    }
    case 2: {
      KeysRequest request;
      if (DecodeKeysRequest(payload, &request)) {
        FUZZ_CHECK(request.leaves.size() <= payload.size());
        FUZZ_CHECK(EncodeKeysRequest(request) == payload);
      }
      break;
    }
    case 3: {
      std::vector<std::vector<KeyDigest>> leaves;
      if (DecodeKeys(payload, &leaves)) FUZZ_CHECK(EncodeKeys(leaves) == payload);
      break;
    }
    case 4: {
      std::vector<std::string_view> keys;
      if (DecodeFetchRequest(payload, &keys)) {
        FUZZ_CHECK(keys.size() <= payload.size());
        FUZZ_CHECK(EncodeFetchRequest(std::vector<std::string>(keys.begin(), keys.end())) ==
                   payload);
      }
      break;
    }
    case 5: {
      std::vector<Fetched> sets;
      if (DecodeFetched(payload, &sets)) {
        for (const Fetched& f : sets) {
          FUZZ_CHECK(f.status == FetchStatus::kValue || f.encoded_set.empty());
        }
        FUZZ_CHECK(EncodeFetched(sets) == payload);
      }
      break;
    }
    case 6: {
      std::vector<KeySet> sets;
      if (DecodePush(payload, &sets)) FUZZ_CHECK(EncodePush(sets) == payload);
      break;
    }
    default: {
      // Every decoder on the same bytes: each must refuse or accept on its own, never crash.
      HashesRequest hr;
      KeysRequest kr;
      std::vector<std::uint64_t> hashes;
      std::vector<std::vector<KeyDigest>> leaves;
      std::vector<std::string_view> keys;
      std::vector<Fetched> fetched;
      std::vector<KeySet> pushed;
      DecodeHashesRequest(payload, &hr);
      DecodeHashes(payload, &hashes);
      DecodeKeysRequest(payload, &kr);
      DecodeKeys(payload, &leaves);
      DecodeFetchRequest(payload, &keys);
      DecodeFetched(payload, &fetched);
      DecodePush(payload, &pushed);
      break;
    }
  }
  return 0;
}
