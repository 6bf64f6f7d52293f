#include "cluster/gossip_message.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace dynakv::cluster {
namespace {

GossipEntry Entry(const std::string& id, std::int64_t generation, std::uint64_t heartbeat) {
  GossipEntry entry;
  entry.info.id = id;
  entry.info.host = "host-" + id;
  entry.info.port = 7000 + static_cast<int>(id.size());
  entry.info.dc = "dc1";
  entry.info.rack = id == "b" ? "r2" : "";
  entry.info.weight = 3;
  entry.generation = generation;
  entry.heartbeat = heartbeat;
  entry.version = heartbeat / 2;
  entry.status = id == "c" ? NodeStatus::kLeaving : NodeStatus::kNormal;
  return entry;
}

MembershipView::Entries View() {
  MembershipView::Entries entries;
  entries["a"] = Entry("a", 1'700'000'000'000, 12);
  entries["b"] = Entry("b", 0, 0);
  entries["c"] = Entry("c", 1'700'000'000'123, std::uint64_t{1} << 60);
  return entries;
}

// The encoding of a single entry list, for hand-made messages.
std::string Encode(const std::string& sender, const std::vector<GossipEntry>& entries) {
  // EncodeGossip takes a map, which sorts and dedups: build the bytes for the bad orders by
  // concatenating single-entry encodings after a hand-made header.
  std::string out;
  out.push_back(static_cast<char>(sender.size()));
  out += sender;
  out.push_back(static_cast<char>(entries.size()));
  for (const GossipEntry& entry : entries) {
    MembershipView::Entries one{{entry.info.id, entry}};
    const std::string single = EncodeGossip(entry.info.id, one);
    // Skip the single message's own header: sender (1 + size bytes) and count (1 byte).
    out += single.substr(1 + entry.info.id.size() + 1);
  }
  return out;
}

TEST_CASE("gossip message: a view round-trips exactly") {
  const MembershipView::Entries view = View();
  const std::string bytes = EncodeGossip("a", view);
  GossipMessage message;
  std::string error;
  REQUIRE_MESSAGE(DecodeGossip(bytes, &message, &error), error);
  CHECK(message.sender == "a");
  REQUIRE(message.entries.size() == 3);
  for (const GossipEntry& entry : message.entries) {
    const GossipEntry& original = view.at(entry.info.id);
    CHECK(entry.info.host == original.info.host);
    CHECK(entry.info.port == original.info.port);
    CHECK(entry.info.dc == original.info.dc);
    CHECK(entry.info.rack == original.info.rack);
    CHECK(entry.info.weight == original.info.weight);
    CHECK(entry.generation == original.generation);
    CHECK(entry.heartbeat == original.heartbeat);
    CHECK(entry.version == original.version);
    CHECK(entry.status == original.status);
  }
  // The hand encoder agrees with the real one.
  CHECK(Encode("a", message.entries) == bytes);
}

TEST_CASE("gossip message: malformed messages are refused with a reason") {
  GossipMessage message;
  std::string error;
  const GossipEntry a = Entry("a", 5, 1), b = Entry("b", 5, 1);

  auto refused = [&](const std::string& bytes, const std::string& reason) {
    std::string why;
    CHECK_FALSE(DecodeGossip(bytes, &message, &why));
    CHECK(why == reason);
  };
  refused("", "malformed gossip header");
  refused(std::string("\x00\x00", 2), "malformed gossip header");  // empty sender
  refused(Encode("a", {b, a}), "gossip entries out of order or repeated at 'a'");
  refused(Encode("a", {a, a}), "gossip entries out of order or repeated at 'a'");
  refused(Encode("z", {a, b}), "gossip from 'z' lacks its own entry");
  refused(Encode("a", {a}) + "x", "trailing bytes after the gossip entries");
  // A count claiming more entries than allowed is refused before anything is read.
  refused(std::string("\x01"
                      "a"
                      "\x81\x40",
                      4),
          "gossip of 8193 members exceeds the limit of 4096");
  // A count claiming more entries than present.
  std::string missing = Encode("a", {a});
  missing[2] = 2;
  refused(missing, "malformed gossip entry 1");

  GossipEntry bad = a;
  bad.info.weight = 0;
  refused(Encode("a", {bad}), "invalid gossip entry: node 'a': weight 0 is outside [1, 1000]");
  bad = a;
  bad.status = static_cast<NodeStatus>(7);
  refused(Encode("a", {bad}), "invalid gossip entry: node 'a': unknown status 7");
  bad = a;
  bad.info.port = 70000;  // above 65535: refused by the decoder itself
  refused(Encode("a", {bad}), "malformed gossip entry 0");
  bad = a;
  bad.info.host = std::string(300, 'h');
  refused(Encode("a", {bad}), "malformed gossip entry 0");

  // Every truncation of a valid message fails.
  const std::string bytes = EncodeGossip("a", View());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(DecodeGossip(bytes.substr(0, n), &message, &error));
  }
}

TEST_CASE("gossip message: random corruption never crashes, and what decodes is canonical") {
  const std::string valid = EncodeGossip("a", View());
  std::mt19937_64 rng(2024);
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      switch (rng() % 3) {
        case 0:
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
          break;
        case 1:
          bytes.erase(rng() % bytes.size(), 1 + rng() % 3);
          break;
        default:
          bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng()));
          break;
      }
      if (bytes.empty()) bytes = "\x01";
    }
    GossipMessage message;
    std::string error;
    if (!DecodeGossip(bytes, &message, &error)) {
      CHECK_FALSE(error.empty());
      continue;
    }
    ++decoded;
    // One encoding per view: what was accepted re-encodes to the same bytes.
    MembershipView::Entries entries;
    for (const GossipEntry& entry : message.entries) entries[entry.info.id] = entry;
    CHECK(EncodeGossip(message.sender, entries) == bytes);
  }
  // Value bytes (heartbeats, names) take many corruptions: some must decode.
  CHECK(decoded > 0);
  // Fully random bytes too.
  for (int round = 0; round < 5000; ++round) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    GossipMessage message;
    std::string error;
    DecodeGossip(bytes, &message, &error);
  }
}

}  // namespace
}  // namespace dynakv::cluster
