// The incarnation file of a cluster node's data directory: kept across restarts of the process,
// renewed when asked and when the machine restarted since it was written.
#include "own_actor.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.h"

namespace dynakv::server {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST_CASE("the incarnation is kept across starts of one boot and renewed after a reboot") {
  testing::TempDir dir;
  const std::string file = dir.path() + "/incarnation";
  std::string warning;
  const std::string first = DataDirIncarnation(dir.path(), false, "boot-a", &warning);
  CHECK(warning.empty());
  CHECK(first.size() == 16);
  CHECK(Read(file) == IncarnationFileText(first, "boot-a"));

  CHECK(DataDirIncarnation(dir.path(), false, "boot-a", &warning) == first);
  CHECK(warning.empty());

  const std::string after_reboot = DataDirIncarnation(dir.path(), false, "boot-b", &warning);
  CHECK(after_reboot != first);
  CHECK(warning.find("restarted") != std::string::npos);
  CHECK(Read(file) == IncarnationFileText(after_reboot, "boot-b"));

  warning.clear();
  const std::string renewed = DataDirIncarnation(dir.path(), true, "boot-b", &warning);
  CHECK(renewed != after_reboot);
  CHECK(warning.empty());
}

TEST_CASE("a file without a boot line is taken as of this boot; an unknown boot never renews") {
  testing::TempDir dir;
  const std::string file = dir.path() + "/incarnation";
  const std::string id = "0123456789abcdef";
  Write(file, id + "\n");
  std::string warning;
  CHECK(DataDirIncarnation(dir.path(), false, "boot-a", &warning) == id);
  CHECK(warning.empty());
  CHECK(Read(file) == IncarnationFileText(id, "boot-a"));
  CHECK(DataDirIncarnation(dir.path(), false, "", &warning) == id);
  CHECK(warning.empty());

  Write(file, "not an id\n");
  const std::string fresh = DataDirIncarnation(dir.path(), false, "boot-a", &warning);
  CHECK(fresh != id);
  CHECK(warning.find("malformed") != std::string::npos);
}

TEST_CASE("the running kernel's boot id is read") {
  // Linux always has it; the rule above depends on it being stable within a boot.
  CHECK(CurrentBootId().size() == 36);
  CHECK(CurrentBootId() == CurrentBootId());
}

}  // namespace
}  // namespace dynakv::server
