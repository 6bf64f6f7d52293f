// Cutting a commit log at its first bad record, for recovery and dynakv-check-log --fix.
#pragma once

#include <cstdint>
#include <string>

#include "storage/status.h"

namespace dynakv::storage {

// Truncates the log at `offset` and fsyncs it. The cut must be durable before anything is
// appended to a later log: a power loss that brought the cut bytes back would otherwise show an
// older log with a bad record followed by newer records, which recovery refuses.
Status CutLog(const std::string& path, std::uint64_t offset);

// Like CutLog, but first keeps every byte of the file in <path>.corrupt (or .corrupt.1, ...,
// whichever is free), written and fsynced before the log is cut, so a crash at any point leaves
// either the untouched log or a durable copy. *kept_as names the copy. Recovery never reads it.
Status PreserveAndCutLog(const std::string& path, std::uint64_t offset, std::string* kept_as);

}  // namespace dynakv::storage
