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

// Numbered databases (storage/engine.h): ns[db] is database db's physical namespace; a database
// past the vector's end is its own namespace (db i -> i). Namespaces below kFirstFreshNamespace are
// those identity ones; a FLUSHDB maps its database to next_ns, the first fresh namespace never
// used, so changing the number of databases never makes two databases share one.
inline constexpr std::uint32_t kFirstFreshNamespace = 1u << 20;
struct DbMapping {
  std::vector<std::uint32_t> ns;
  std::uint32_t next_ns = kFirstFreshNamespace;
  // No database was ever remapped: each is its own namespace.
  bool identity() const {
    for (std::uint32_t db = 0; db < ns.size(); ++db) {
      if (ns[db] != db) return false;
    }
    return next_ns == kFirstFreshNamespace;
  }
  bool operator==(const DbMapping&) const = default;
};

struct Manifest {
  std::uint64_t next_seq = 1;           // the next file number to hand out
  std::uint64_t log_seq = 0;            // logs with a lower number are fully contained in segments
  std::vector<std::uint64_t> segments;  // oldest first
  // As of the start of log log_seq. Written as MAN3 unless identity(); a MAN2 (the format before
  // databases, still written for the identity so that a directory never remapped stays readable
  // by older versions) reads as the identity.
  DbMapping dbs;
};

Status WriteManifest(const std::string& dir, const Manifest& manifest);
// *exists is false (and *manifest untouched) when the directory has no MANIFEST yet.
Status ReadManifest(const std::string& dir, Manifest* manifest, bool* exists);

}  // namespace dynakv::storage
