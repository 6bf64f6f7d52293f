// The marker of an RDB import at start in progress (rdb_import.h's RunToEnd). That import is an
// engine bulk load: its keys are not logged one by one, and only the checkpoint that ends it
// makes them durable. A crash before then leaves a data directory holding an unknown part of
// the file (whatever checkpoints the memory limit forced), which nothing else could tell from a
// complete import. So the marker, naming the file, is made durable before the first key is
// written and removed only after that checkpoint; a start that finds it refuses to serve such a
// directory, unless it imports the same file again (which rewrites every key of it).
#pragma once

#include <string>

namespace dynakv::server {

// The marker's path in data directory `dir`.
std::string RdbImportMarkerPath(const std::string& dir);
// Writes the marker naming `rdb_path` (its absolute form), file and directory synced. False with
// *error when it could not.
bool WriteRdbImportMarker(const std::string& dir, const std::string& rdb_path, std::string* error);
// Removes it (the directory synced). False with *error when it could not.
bool RemoveRdbImportMarker(const std::string& dir, std::string* error);
// At start: true when `dir` has no marker, or when this start imports the file it names again
// (`import_rdb`, on a single node: `cluster` false). Otherwise false with *error saying which
// import was interrupted and what to do.
bool CheckRdbImportMarker(const std::string& dir, const std::string& import_rdb, bool cluster,
                          std::string* error);

}  // namespace dynakv::server
