#include "rdb_import_marker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "atomic_file.h"

namespace dynakv::server {

namespace {

constexpr const char* kMarkerName = "RDB-IMPORT-IN-PROGRESS";
constexpr const char* kSourceName = "RDB-IMPORT-SOURCE";

// The form the marker names a file by, so that a relative and an absolute path compare equal.
std::string Absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
  if (ec) p = std::filesystem::absolute(path, ec);
  return ec ? path : p.string();
}

bool SyncDirectory(const std::string& dir, std::string* error) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    *error = "cannot sync the data directory " + dir + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

bool WriteMarker(const std::string& dir, const std::string& text, std::string* error) {
  const std::string path = RdbImportMarkerPath(dir);
  AtomicWriteFailure failure;
  if (!WriteFileAtomically(path, text, 0644, &failure)) {
    *error = "cannot write the import marker " + path + ": " + std::strerror(failure.error);
    return false;
  }
  return true;
}

// The identity of the file at `path` (size, modification time, last 8 bytes).
bool Identify(const std::string& path, RdbImportMarker* id, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  id->size = static_cast<std::uint64_t>(st.st_size);
  id->mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  unsigned char tail[8] = {};
  id->trailer = 0;
  if (st.st_size >= 8 && pread(fd, tail, 8, st.st_size - 8) == 8) {
    for (int i = 7; i >= 0; --i) id->trailer = (id->trailer << 8) | tail[i];
  }
  close(fd);
  return true;
}

}  // namespace

std::string RdbImportMarkerPath(const std::string& dir) { return dir + "/" + kMarkerName; }
std::string RdbImportSourcePath(const std::string& dir) { return dir + "/" + kSourceName; }

bool WriteRdbImportMarker(const std::string& dir, const std::string& rdb_path, std::string* error) {
  return WriteMarker(dir, Absolute(rdb_path) + "\n", error);
}

bool KeepRdbImportSource(const std::string& dir, const std::string& rdb_path, std::string* error) {
  const std::string kept = RdbImportSourcePath(dir);
  if (unlink(kept.c_str()) != 0 && errno != ENOENT) {
    *error = "cannot remove " + kept + ": " + std::strerror(errno);
    return false;
  }
  if (link(rdb_path.c_str(), kept.c_str()) != 0) {
    *error = "cannot link " + rdb_path + " as " + kept + ": " + std::strerror(errno);
    return false;
  }
  return SyncDirectory(dir, error);
}

bool MarkRdbImportUnsaved(const std::string& dir, const std::string& rdb_path,
                          std::uint64_t reload_before_log, std::string* error) {
  RdbImportMarker id;
  if (!Identify(RdbImportSourcePath(dir), &id, error)) return false;
  char line[160];
  std::snprintf(line, sizeof(line), "unsaved %" PRIu64 " %" PRIu64 " %" PRId64 " %016" PRIx64 "\n",
                reload_before_log, id.size, id.mtime_ns, id.trailer);
  return WriteMarker(dir, Absolute(rdb_path) + "\n" + line, error);
}

bool RemoveRdbImportMarker(const std::string& dir, std::string* error) {
  // The marker first: a crash between the two leaves a kept file nothing names (removed by the
  // next import), never an unsaved marker without its file.
  for (const std::string& path : {RdbImportMarkerPath(dir), RdbImportSourcePath(dir)}) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  return SyncDirectory(dir, error);
}

bool ReadRdbImportMarker(const std::string& dir, RdbImportMarker* marker) {
  *marker = RdbImportMarker{};
  std::ifstream in(RdbImportMarkerPath(dir));
  if (!in) return false;
  std::getline(in, marker->path);
  std::string state;
  if (in >> state && state == "unsaved") {
    std::string trailer;
    if (in >> marker->reload_before_log >> marker->size >> marker->mtime_ns >> trailer) {
      marker->trailer = std::strtoull(trailer.c_str(), nullptr, 16);
      marker->unsaved = true;
    }
  }
  return true;
}

bool CheckRdbImportSource(const std::string& dir, const RdbImportMarker& marker,
                          std::string* error) {
  const std::string kept = RdbImportSourcePath(dir);
  RdbImportMarker now;
  std::string reason;
  if (!Identify(kept, &now, &reason)) {
  } else if (now.size != marker.size || now.mtime_ns != marker.mtime_ns ||
             now.trailer != marker.trailer) {
    reason = kept + " changed since the import (size, modification time or checksum differ)";
  } else {
    return true;
  }
  *error = "the RDB import of '" + marker.path + "' into " + dir +
           " completed, but no checkpoint holds it yet, and the copy kept to reload it after a "
           "crash is not usable: " +
           reason + ". Put the imported file back as " + kept + ", or delete " +
           RdbImportMarkerPath(dir) +
           " to serve what the directory holds: the data as it was before the import, with "
           "whatever part of it a checkpoint saved, and the writes made after it";
  return false;
}

bool CheckRdbImportMarker(const std::string& dir, const std::string& import_rdb, bool cluster,
                          std::string* error) {
  RdbImportMarker marker;
  if (!ReadRdbImportMarker(dir, &marker)) return true;
  const std::string& named = marker.path;
  if (marker.unsaved) {
    *error = "the RDB import of '" + named + "' into " + dir +
             " completed, but no checkpoint holds it yet (" + RdbImportMarkerPath(dir) +
             " is left): start the node once in single-node mode, which reloads it from " +
             RdbImportSourcePath(dir) + ", or delete the marker to serve what the directory holds";
    return false;
  }
  if (!cluster && !import_rdb.empty() && Absolute(import_rdb) == named) return true;
  *error = "an RDB import of '" + named + "' into " + dir +
           " was interrupted before it completed (" + RdbImportMarkerPath(dir) +
           " is left): the directory holds only part of that file. Start the node with "
           "--import-rdb '" +
           named + "' to import it again, or delete " + RdbImportMarkerPath(dir) +
           " to serve what the directory holds";
  return false;
}

}  // namespace dynakv::server
