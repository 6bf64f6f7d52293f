// Names of the files in a data directory. Logs and segments share one sequence-number space, so
// the manifest's numbers tell which files a crash left behind.
#pragma once

#include <cstdint>
#include <string>

namespace dynakv::storage {

enum class FileKind { kLog, kSegment, kOther };

std::string LogFileName(std::uint64_t seq);      // log-<seq>.log
std::string SegmentFileName(std::uint64_t seq);  // seg-<seq>.sst
inline constexpr const char* kManifestName = "MANIFEST";
inline constexpr const char* kLockName = "LOCK";

// Classifies a directory entry; *seq is set for logs and segments.
FileKind ParseFileName(const std::string& name, std::uint64_t* seq);

}  // namespace dynakv::storage
