// Pub/sub side by side with redis-server 7: the same connections (some RESP2, some RESP3) on
// both servers, the same commands, and after each command what every connection received,
// compared between the two.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "raw_socket.h"
#include "reference_pair.h"

namespace dynakv::itest {

class PubSubPair {
 public:
  // One connection per entry of `protocols` (2 or 3) on each server.
  PubSubPair(int ours_port, int reference_port, const std::vector<int>& protocols);

  // Sends `argv` on connection `conn` of both servers, then collects what every connection got
  // (its replies and messages) and compares them. `ordered`: the frames of one connection must
  // come in the same order; else they are compared as a multiset (Redis walks hash tables for
  // unsubscribe-all and for the patterns a message matches, so those orders are its own).
  // `own_reply`: false when the reply on `conn` itself may differ in order (a set's members,
  // as SPOP with a count lists them): its frames are then compared by number only.
  void Step(std::size_t conn, const std::vector<std::string>& argv, bool ordered = true,
            bool own_reply = true);
  int mismatches() const { return log_.mismatches(); }
  // What connection `conn` of the reference received in the last step, frame by frame.
  const std::vector<std::string>& LastReference(std::size_t conn) const { return last_[conn]; }

  // Every frame (reply or message) the connection has received since its last drain, each as
  // its RESP bytes; a PING with a marker bounds the read.
  std::vector<std::string> Drain(RawSocket& socket);

 private:
  std::vector<std::unique_ptr<RawSocket>> ours_;
  std::vector<std::unique_ptr<RawSocket>> reference_;
  std::vector<std::vector<std::string>> last_;
  DifferentialLog log_;
  int marker_ = 0;
};

}  // namespace dynakv::itest
