#include "reference_pair.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include "harness.h"
#include "reply.h"

namespace dynakv::itest {

bool ReferenceAvailable() {
  if (ReferenceRedis().empty() || TestingRealRedis()) {
    MESSAGE("skipped: needs redis-server installed and a different server under test");
    return false;
  }
  return true;
}

std::vector<std::uint64_t> RunSeeds(std::vector<std::uint64_t> defaults) {
  if (const char* env = std::getenv("DYNAKV_ITEST_SEED")) return {std::stoull(env)};
  return defaults;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

ReferencePair::ReferencePair(const Flags& ours_flags, const Flags& reference_flags)
    : ours(ours_flags), reference(reference_flags, ReferenceRedis()) {
  ours.Start();
  reference.Start();
}

Reply CheckSameReply(Client& ours, Client& reference, const std::vector<std::string>& argv) {
  const Reply got = ours.Command(argv);
  const Reply want = reference.Command(argv);
  CAPTURE(DescribeCommand(argv));
  CHECK(got == want);
  return want;
}

void DifferentialLog::Record(const std::string& command, const std::string& reference_reply) {
  history_.push_back(command + " -> " + reference_reply);
}

void DifferentialLog::Mismatch(const std::string& ours_reply) {
  if (++mismatches_ <= 10) {
    const std::string leading_up = LeadingUp();
    CAPTURE(leading_up);
    CAPTURE(ours_reply);
    FAIL_CHECK("the server under test replied otherwise than Redis to the last command");
  }
  history_.clear();
}

std::string DifferentialLog::LeadingUp() const {
  std::string out;
  const std::size_t first = history_.size() > 30 ? history_.size() - 30 : 0;
  for (std::size_t h = first; h < history_.size(); ++h) out += "\n    " + history_[h];
  return out;
}

std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    std::ostringstream quoted;
    quoted << Reply::Bulk(arg);
    out += (out.empty() ? "" : " ") + quoted.str();
  }
  return out;
}

namespace {
constexpr std::string_view kPong = "+PONG\r\n";
}  // namespace

Resp3Pair::Resp3Pair(int ours_port, int reference_port, Describer describe)
    : ours_(ours_port), reference_(reference_port), describe_(describe) {
  Ours({"HELLO", "3"});
  Reference({"HELLO", "3"});
}

std::string Resp3Pair::Exchange(RawSocket& raw, const std::vector<std::string>& argv) {
  REQUIRE(raw.Send(EncodeCommand(argv) + EncodeCommand({"PING"})));
  return raw.ReadUntil(std::string(kPong), std::chrono::seconds(5));
}

void Resp3Pair::Compare(const std::vector<std::string>& argv) {
  const std::string got = Ours(argv);
  const std::string want = Reference(argv);
  REQUIRE(want.ends_with(kPong));
  if (got == want) return;
  if (++mismatches_ <= 10) {
    std::string command = describe_(argv);
    CAPTURE(command);
    CHECK(Reply::Bulk(got) == Reply::Bulk(want));
  }
}

}  // namespace dynakv::itest
