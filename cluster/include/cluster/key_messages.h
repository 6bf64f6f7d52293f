// The payloads of the bus frames behind blocking pops in cluster mode (bus_protocol.h's
// KEY_EVENT and FORWARD). The cluster only carries them: the server decides what they mean
// (server/cluster_blocking.h). Decoders read bytes from the network: they check bounds and
// fail on anything an encoder could not have produced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::cluster {

// A message about keys from one member to another.
struct KeyEvent {
  enum class Kind : std::uint8_t {
    kWatch = 1,    // the sender has clients blocked on `keys`: tell it when one becomes ready,
                   // until lease_ms from now (the sender renews before that)
    kUnwatch = 2,  // it has no longer
    kReady = 3,    // `keys` were just written as a non-empty list or sorted set here
  };
  Kind kind = Kind::kWatch;
  std::uint32_t lease_ms = 0;  // kWatch only
  std::vector<std::string> keys;
};
std::string EncodeKeyEvent(const KeyEvent& event);
bool DecodeKeyEvent(std::string_view payload, KeyEvent* event);

// A command the receiver runs as the coordinator would (its key's primary replica), with the
// coordinator's resolved levels and its client's protocol; the reply is the RESP answer.
struct ForwardRequest {
  std::uint32_t protocol = 2;  // 2 or 3
  std::string read_level;      // consistency_level.h's ToString form
  std::string write_level;
  std::vector<std::string> argv;
};
std::string EncodeForwardRequest(const ForwardRequest& request);
bool DecodeForwardRequest(std::string_view payload, ForwardRequest* request);

}  // namespace dynakv::cluster
