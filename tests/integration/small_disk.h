// A full disk under a data directory, for the tests of write failures (test_full_disk,
// test_cluster_full_disk): a size-limited tmpfs mounted on it. Needs root (mount); CI runs as
// root, elsewhere CanMount says why and the test passes without checking.
#pragma once

#include <string>

namespace dynakv::itest {

// Whether this process may mount a tmpfs; under CI=true not being root fails the test.
bool CanMount();

// A tmpfs of `megabytes` mounted on `dir` for the object's lifetime (mount it before the server
// that uses `dir` starts, unmount after it stopped).
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, int megabytes);
  ~SmallDisk();
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  // Takes `megabytes` of the disk with a file that FreeBallast gives back.
  void AddBallast(int megabytes);
  // Takes every byte left (the ballast grows until the disk says ENOSPC).
  void FillUp();
  void FreeBallast();

 private:
  std::string BallastPath() const { return dir_ + "/ballast"; }
  std::string dir_;
  bool mounted_ = false;
};

}  // namespace dynakv::itest
