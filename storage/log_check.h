// What recovery (and dynakv-check-log) concludes about the commit logs of a data directory: for
// each damaged log, whether its damage is a torn tail, which is cut, or corruption, which is
// reported (log_reader.h tells the two apart within one file; ClassifyLogDamage across files).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "log_reader.h"
#include "storage/status.h"

namespace dynakv::storage {

struct LogCheck {
  std::string path;
  std::uint64_t file_size = 0;
  std::uint64_t records = 0;  // good records before any damage
  std::uint64_t groups = 0;   // of them, atomic groups (GROUP records: transactions & co.)
  std::optional<LogDamage> damage;
  // Filled in by ClassifyLogDamage:
  std::uint64_t later_records = 0;  // good records in the logs after this one
  bool corrupt = false;             // damage that is not a torn tail

  // Every record that verifies in the file, before and after any damage.
  std::uint64_t valid_records() const { return records + (damage ? damage->records_after : 0); }
};

// Reads a whole log without applying it. A file that cannot be read, or is not a log of this
// format, is an error.
Status CheckLogFile(const std::string& path, LogCheck* out);

// Decides which damage is corruption, for the logs of one directory given oldest first.
void ClassifyLogDamage(std::vector<LogCheck>* logs);

// One line: the file, the offset, what is wrong and what follows, e.g. "commit log d/log-7.log:
// bad record at offset 4096 of 8192 bytes (checksum mismatch), after 10 good records; 4096
// bytes holding 9 valid records follow it".
std::string DescribeLogDamage(const LogCheck& log);

}  // namespace dynakv::storage
