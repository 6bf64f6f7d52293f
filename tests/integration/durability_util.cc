#include "durability_util.h"

#include "harness.h"
#include "server_process.h"

namespace dynakv::itest {

bool SkipUnlessDynakv() {
  if (!TestingRealRedis()) return false;
  MESSAGE("skipped: dynakv's storage engine only");
  return true;
}

Client KillAndRestart(ServerProcess& server) {
  server.Kill();
  server.Start();
  return Client(server.port());
}

std::map<std::string, std::string> PairsOf(const Reply& reply) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return out;
}

long long LogBytesAppendedBy(Client& c, const std::vector<std::string>& argv,
                             const Reply& expected) {
  const long long before = ReadInfoNumber(c, "persistence", "commit_log_bytes");
  REQUIRE(c.Command(argv) == expected);
  return ReadInfoNumber(c, "persistence", "commit_log_bytes") - before;
}

long long LogBytesAppendedBy(Client& c, const std::vector<std::string>& argv) {
  const long long before = ReadInfoNumber(c, "persistence", "commit_log_bytes");
  const Reply r = c.Command(argv);
  CAPTURE(r);
  CHECK(r.type != Reply::Type::kError);
  return ReadInfoNumber(c, "persistence", "commit_log_bytes") - before;
}

}  // namespace dynakv::itest
