// Fuzzes the GOSSIP payload decoder (cluster/gossip_message.h). The input is the payload.
// Invariants: a decoded message has at most kMaxGossipEntries entries, strictly increasing ids,
// its sender among them, every entry valid; and it re-encodes to exactly the payload.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/gossip_message.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dynakv::cluster;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  GossipMessage message;
  std::string error;
  if (!DecodeGossip(payload, &message, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(message.entries.size() <= kMaxGossipEntries);
  MembershipView::Entries entries;
  bool has_sender = false;
  for (std::size_t i = 0; i < message.entries.size(); ++i) {
    const GossipEntry& entry = message.entries[i];
    if (i > 0) FUZZ_CHECK(message.entries[i - 1].info.id < entry.info.id);
    std::string reason;
    FUZZ_CHECK(ValidateEntry(entry, &reason));
    has_sender = has_sender || entry.info.id == message.sender;
    entries.emplace(entry.info.id, entry);
  }
  FUZZ_CHECK(has_sender);
  FUZZ_CHECK(EncodeGossip(message.sender, entries) == payload);
  return 0;
}
