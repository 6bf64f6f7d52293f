// Replacing a file so that a crash leaves either the old contents or the new ones, never a mix:
// the ACL file, CONFIG REWRITE's TOML, the function libraries and SAVE's RDB all go through here.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace dynakv::server {

// What went wrong, so that each caller can word its error as Redis does for that file.
struct AtomicWriteFailure {
  enum class Step { kOpen, kWrite, kSync, kRename } step = Step::kOpen;
  int error = 0;     // errno
  std::string temp;  // the temporary file (removed again)
};

// Writes `data` to a temporary file beside `path` (mode `mode`), syncs it, renames it over
// `path` and syncs the directory. False with *failure when a step failed; then `path` is
// untouched and the temporary file is gone.
bool WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                         AtomicWriteFailure* failure);

}  // namespace dynakv::server
