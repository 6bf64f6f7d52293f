#include "pubsub_pair.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "harness.h"
#include "resp_tree.h"

namespace dynakv::itest {
namespace {

std::string Join(const std::vector<std::string>& frames) {
  std::string out;
  for (const std::string& frame : frames) out += frame;
  return out;
}

// For frames compared as a multiset: an unsubscribe reply's count depends on the order the
// channels went in, so the counts are compared as a sequence (always descending) and the frames
// without them.
void SplitCounts(std::vector<std::string>* frames, std::vector<std::string>* counts) {
  for (std::string& frame : *frames) {
    const bool unsubscribe = frame.find("unsubscribe\r\n") != std::string::npos &&
                             frame.find("message\r\n") == std::string::npos;
    const std::size_t colon = frame.rfind("\r\n:");
    if (!unsubscribe || colon == std::string::npos) continue;
    counts->push_back(frame.substr(colon + 2));
    frame.resize(colon + 2);
  }
  std::sort(frames->begin(), frames->end());
}

}  // namespace

PubSubPair::PubSubPair(int ours_port, int reference_port, const std::vector<int>& protocols) {
  for (int protocol : protocols) {
    ours_.push_back(std::make_unique<RawSocket>(ours_port));
    reference_.push_back(std::make_unique<RawSocket>(reference_port));
    if (protocol == 3) {
      for (auto* socket : {ours_.back().get(), reference_.back().get()}) {
        REQUIRE(socket->Send(EncodeCommand({"HELLO", "3"})));
        Drain(*socket);
      }
    }
  }
  last_.resize(protocols.size());
}

std::vector<std::string> PubSubPair::Drain(RawSocket& socket) {
  // PING <marker>: its reply ends every shape it can take (a bulk, or RESP2 subscribed mode's
  // ["pong", marker]) with the marker's bulk, which no other frame here contains.
  const std::string marker = "drain-marker-" + std::to_string(++marker_);
  REQUIRE(socket.Send(EncodeCommand({"PING", marker})));
  const std::string bytes = socket.ReadUntil(
      "$" + std::to_string(marker.size()) + "\r\n" + marker + "\r\n", std::chrono::seconds(5));
  std::vector<std::string> frames;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t start = pos;
    RespNode node;
    if (!ParseResp(bytes, &pos, &node)) {
      FAIL("unparsable or cut short: " << bytes.substr(start));
      break;
    }
    frames.push_back(bytes.substr(start, pos - start));
  }
  REQUIRE(!frames.empty());
  frames.pop_back();  // the PING's reply
  return frames;
}

void PubSubPair::Step(std::size_t conn, const std::vector<std::string>& argv, bool ordered,
                      bool own_reply) {
  REQUIRE(ours_[conn]->Send(EncodeCommand(argv)));
  REQUIRE(reference_[conn]->Send(EncodeCommand(argv)));
  std::string reference_all;
  std::string ours_all;
  bool same = true;
  for (std::size_t i = 0; i < ours_.size(); ++i) {
    std::vector<std::string> got = Drain(*ours_[i]);
    std::vector<std::string> want = Drain(*reference_[i]);
    last_[i] = want;
    reference_all += "[conn " + std::to_string(i) + "] " + Join(want) + " ";
    ours_all += "[conn " + std::to_string(i) + "] " + Join(got) + " ";
    std::vector<std::string> got_counts;
    std::vector<std::string> want_counts;
    if (!ordered) {
      SplitCounts(&got, &got_counts);
      SplitCounts(&want, &want_counts);
    }
    if (i == conn && !own_reply) {
      if (got.size() != want.size()) same = false;
    } else if (got != want || got_counts != want_counts) {
      same = false;
    }
  }
  log_.Record("[conn " + std::to_string(conn) + "] " + DescribeCommand(argv), reference_all);
  if (!same) log_.Mismatch(ours_all);
}

}  // namespace dynakv::itest
