#include "rdb_import_marker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "atomic_file.h"

namespace dynakv::server {

namespace {

constexpr const char* kMarkerName = "RDB-IMPORT-IN-PROGRESS";

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

}  // namespace

std::string RdbImportMarkerPath(const std::string& dir) { return dir + "/" + kMarkerName; }

bool WriteRdbImportMarker(const std::string& dir, const std::string& rdb_path, std::string* error) {
  const std::string path = RdbImportMarkerPath(dir);
  AtomicWriteFailure failure;
  if (!WriteFileAtomically(path, Absolute(rdb_path) + "\n", 0644, &failure)) {
    *error = "cannot write the import marker " + path + ": " + std::strerror(failure.error);
    return false;
  }
  return true;
}

bool RemoveRdbImportMarker(const std::string& dir, std::string* error) {
  const std::string path = RdbImportMarkerPath(dir);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = "cannot remove the import marker " + path + ": " + std::strerror(errno);
    return false;
  }
  return SyncDirectory(dir, error);
}

bool CheckRdbImportMarker(const std::string& dir, const std::string& import_rdb, bool cluster,
                          std::string* error) {
  const std::string path = RdbImportMarkerPath(dir);
  std::ifstream in(path);
  if (!in) return true;
  std::string named;
  std::getline(in, named);
  if (!cluster && !import_rdb.empty() && Absolute(import_rdb) == named) return true;
  *error = "an RDB import of '" + named + "' into " + dir +
           " was interrupted before it completed (" + path +
           " is left): the directory holds only part of that file. Start the node with "
           "--import-rdb '" +
           named + "' to import it again, or delete " + path + " to serve what the directory holds";
  return false;
}

}  // namespace dynakv::server
