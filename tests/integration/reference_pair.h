// The server under test and the installed redis-server 7 side by side, for the tests that
// compare their replies (the *_differential tests, test_glob_patterns, test_acl, ...).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "client.h"
#include "raw_socket.h"
#include "reply.h"
#include "server_process.h"

namespace dynakv::itest {

// Whether there is a reference to compare against: redis-server is installed and is not itself
// the server under test. Says why not (a doctest MESSAGE) when not: the caller skips.
bool ReferenceAvailable();

// Both servers, started (ours first) with their own flags. Construct only when
// ReferenceAvailable(). `auto& [ours, reference] = servers;` names them.
struct ReferencePair {
  ReferencePair(const Flags& ours_flags, const Flags& reference_flags);
  ServerProcess ours;
  ServerProcess reference;
};

// The seeds of a seeded differential run: the one in DYNAKV_ITEST_SEED when set (to replay a
// reported failure), else `defaults`.
std::vector<std::uint64_t> RunSeeds(std::vector<std::uint64_t> defaults);

// `s` in upper case: a command name as the tests compare it.
std::string Upper(std::string s);

// The random choices of a seeded command generator (the base of each family's generator): the
// same seed gives the same stream of commands on every run.
class SeededChoices {
 protected:
  explicit SeededChoices(std::uint64_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % n); }
  std::string Of(std::initializer_list<const char*> choices) {
    return *(choices.begin() + Pick(static_cast<int>(choices.size())));
  }

  std::mt19937_64 rng_;
};

// Sends `argv` to the server under test, then to the reference, and CHECKs that both replied
// the same; returns the reference's reply (for a test that goes on from it).
Reply CheckSameReply(Client& ours, Client& reference, const std::vector<std::string>& argv);

// Both servers, a client on each and the comparison of their replies: the fixture of a test that
// sends each command to both (`both({"SET", "k", "v"})`) and goes on from the reference's reply.
// Construct only when ReferenceAvailable().
struct DifferentialClients {
  DifferentialClients(const Flags& ours_flags, const Flags& reference_flags)
      : servers(ours_flags, reference_flags),
        ours(servers.ours.port()),
        reference(servers.reference.port()) {}
  Reply operator()(const std::vector<std::string>& argv) {
    return CheckSameReply(ours, reference, argv);
  }

  ReferencePair servers;
  Client ours;
  Client reference;
};

// A command as one line, each argument quoted as a bulk string (for failure messages).
std::string DescribeCommand(const std::vector<std::string>& argv);

// The bookkeeping of a seeded differential run: the commands since both servers were last reset,
// each with the reference's reply, shown as the lead-up of a reported mismatch.
class DifferentialLog {
 public:
  // Notes a command (as the test describes it) and the reference's reply to it.
  void Record(const std::string& command, const std::string& reference_reply);
  // The last recorded command got another reply from the server under test: counted, and the
  // first 10 fail the test with the lead-up and `ours_reply`. The history starts afresh, since the
  // caller resets both servers next.
  void Mismatch(const std::string& ours_reply);
  // The last 30 commands recorded, one per line.
  std::string LeadingUp() const;
  void Clear() { history_.clear(); }
  int mismatches() const { return mismatches_; }

 private:
  std::vector<std::string> history_;
  int mismatches_ = 0;
};

// A reply as text (its operator<<), for DifferentialLog.
template <typename T>
std::string ReplyText(const T& reply) {
  std::ostringstream out;
  out << reply;
  return out.str();
}

// RESP3 connections to both servers whose replies are compared byte for byte. Every command is
// followed by a PING, so a reply of any shape is read whole, up to the PONG.
class Resp3Pair {
 public:
  using Describer = std::string (*)(const std::vector<std::string>&);
  // Connects to both and switches them to RESP3 (HELLO 3).
  Resp3Pair(int ours_port, int reference_port, Describer describe = DescribeCommand);

  // The raw reply of `argv` (PONG included) on the server under test / on the reference.
  std::string Ours(const std::vector<std::string>& argv) { return Exchange(ours_, argv); }
  std::string Reference(const std::vector<std::string>& argv) { return Exchange(reference_, argv); }
  // Sends `argv` to both; replies that differ are counted, and the first 10 fail the test with
  // both replies shown. The caller ends with CHECK(mismatches() == 0).
  void Compare(const std::vector<std::string>& argv);
  int mismatches() const { return mismatches_; }

 private:
  std::string Exchange(RawSocket& raw, const std::vector<std::string>& argv);

  RawSocket ours_;
  RawSocket reference_;
  Describer describe_;
  int mismatches_ = 0;
};

}  // namespace dynakv::itest
