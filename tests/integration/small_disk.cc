#include "small_disk.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dynakv::itest {

bool CanMount() {
  if (::geteuid() == 0) return true;
  // CI runs as root: there the test must not pass without checking anything.
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") FAIL("CI must run this test as root (mount)");
  MESSAGE("not root: cannot mount a small tmpfs, nothing checked");
  return false;
}

SmallDisk::SmallDisk(const std::string& dir, int megabytes) : dir_(dir) {
  std::filesystem::create_directories(dir);
  const std::string options = "size=" + std::to_string(megabytes) + "m";
  mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

SmallDisk::~SmallDisk() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

void SmallDisk::AddBallast(int megabytes) {
  std::ofstream ballast(BallastPath(), std::ios::binary);
  const std::string chunk(1 << 20, 'b');
  for (int i = 0; i < megabytes; ++i) ballast.write(chunk.data(), chunk.size());
}

void SmallDisk::FillUp() {
  const int fd = ::open(BallastPath().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const std::string chunk(64 << 10, 'b');
  // write() takes what fits, then fails with ENOSPC.
  while (::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  ::close(fd);
}

void SmallDisk::FreeBallast() { std::filesystem::remove(BallastPath()); }

}  // namespace dynakv::itest
