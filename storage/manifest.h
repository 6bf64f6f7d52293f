// The MANIFEST names the live segments (oldest first) and the first commit log still needed.
// It is replaced atomically (write MANIFEST.tmp, fsync, rename, fsync the directory), so after a
// crash it describes either the old or the new set of files; files it does not list are
// leftovers of an interrupted checkpoint or compaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/status.h"

namespace dynakv::storage {

struct Manifest {
  std::uint64_t next_seq = 1;           // the next file number to hand out
  std::uint64_t log_seq = 0;            // logs with a lower number are fully contained in segments
  std::vector<std::uint64_t> segments;  // oldest first
};

Status WriteManifest(const std::string& dir, const Manifest& manifest);
// *exists is false (and *manifest untouched) when the directory has no MANIFEST yet.
Status ReadManifest(const std::string& dir, Manifest* manifest, bool* exists);

}  // namespace dynakv::storage
