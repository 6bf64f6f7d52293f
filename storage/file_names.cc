#include "file_names.h"

#include <cctype>

namespace dynakv::storage {

namespace {

// Zero padding keeps `ls` order equal to age order, which helps a human reading the directory.
std::string Numbered(const char* prefix, std::uint64_t seq, const char* suffix) {
  std::string digits = std::to_string(seq);
  if (digits.size() < 8) digits.insert(0, 8 - digits.size(), '0');
  return prefix + digits + suffix;
}

bool ParseNumbered(const std::string& name, const std::string& prefix, const std::string& suffix,
                   std::uint64_t* seq) {
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *seq = v;
  return true;
}

}  // namespace

std::string LogFileName(std::uint64_t seq) { return Numbered("log-", seq, ".log"); }
std::string SegmentFileName(std::uint64_t seq) { return Numbered("seg-", seq, ".sst"); }

FileKind ParseFileName(const std::string& name, std::uint64_t* seq) {
  if (ParseNumbered(name, "log-", ".log", seq)) return FileKind::kLog;
  if (ParseNumbered(name, "seg-", ".sst", seq)) return FileKind::kSegment;
  return FileKind::kOther;
}

}  // namespace dynakv::storage
