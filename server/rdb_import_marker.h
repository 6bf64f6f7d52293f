// The marker of an RDB import at start (rdb_import.h's RunToEnd), in two states.
//
// Running: the import is an engine bulk load, whose keys are not logged one by one. A crash
// leaves a data directory holding an unknown part of the file, which nothing else could tell
// from a complete import. So the marker, naming the file, is made durable before the first key
// is written; a start that finds it refuses to serve such a directory, unless it imports the
// same file again (which rewrites every key of it).
//
// Unsaved: the import completed (and was reported done) but no checkpoint holds it yet: the RDB
// file itself is its durable copy, as a Redis dump is Redis's, kept unchanged in the data
// directory as a hard link (RDB-IMPORT-SOURCE: the original may be replaced or deleted
// meanwhile) with its size, modification time and trailing checksum in the marker. A start that
// finds it reloads that file (storage Options::reload) before replaying the writes made after
// the import, whose first log the marker names; if the kept file is gone or changed, the start
// refuses with the reason. The engine's first checkpoint after the import saves it; then the
// marker and the link go.
#pragma once

#include <cstdint>
#include <string>

namespace dynakv::server {

struct RdbImportMarker {
  std::string path;  // the imported file, as named by the import (absolute)
  bool unsaved = false;
  std::uint64_t reload_before_log = 0;  // unsaved: the first log of the writes after the import
  std::uint64_t size = 0;               // unsaved: the kept file's identity
  std::int64_t mtime_ns = 0;
  std::uint64_t trailer = 0;  // its last 8 bytes (the CRC-64 of a complete file)
};

// The marker's path in data directory `dir`, and the kept file's.
std::string RdbImportMarkerPath(const std::string& dir);
std::string RdbImportSourcePath(const std::string& dir);
// Writes the running marker naming `rdb_path` (its absolute form), file and directory synced.
// False with *error when it could not.
bool WriteRdbImportMarker(const std::string& dir, const std::string& rdb_path, std::string* error);
// Hard-links `rdb_path` into `dir` as RDB-IMPORT-SOURCE (replacing an old one). False with
// *error when it cannot (another file system, no permission): the import must then be saved by a
// checkpoint before it is reported done.
bool KeepRdbImportSource(const std::string& dir, const std::string& rdb_path, std::string* error);
// Replaces the running marker by the unsaved one (the kept file's identity read now), synced.
bool MarkRdbImportUnsaved(const std::string& dir, const std::string& rdb_path,
                          std::uint64_t reload_before_log, std::string* error);
// Removes the marker, then the kept file (the directory synced). False with *error when it
// could not.
bool RemoveRdbImportMarker(const std::string& dir, std::string* error);
// Reads the marker: false when there is none (or it cannot be read: *marker is then the
// running state, which refuses).
bool ReadRdbImportMarker(const std::string& dir, RdbImportMarker* marker);
// Unsaved: true when the kept file is there and unchanged; otherwise false with *error.
bool CheckRdbImportSource(const std::string& dir, const RdbImportMarker& marker,
                          std::string* error);
// At start, after any reload: true when `dir` has no running marker, or when this start imports
// the file it names again (`import_rdb`, on a single node: `cluster` false). Otherwise false
// with *error saying which import was interrupted and what to do.
bool CheckRdbImportMarker(const std::string& dir, const std::string& import_rdb, bool cluster,
                          std::string* error);

}  // namespace dynakv::server
