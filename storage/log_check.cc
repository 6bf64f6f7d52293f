#include "log_check.h"

namespace dynakv::storage {

namespace {

class DamageRecorder : public LogReader::Reporter {
 public:
  explicit DamageRecorder(std::optional<LogDamage>* out) : out_(out) {}
  void Damaged(const std::string&, const LogDamage& damage) override { *out_ = damage; }

 private:
  std::optional<LogDamage>* out_;
};

}  // namespace

Status CheckLogFile(const std::string& path, LogCheck* out) {
  *out = LogCheck{};
  out->path = path;
  DamageRecorder recorder(&out->damage);
  std::unique_ptr<LogReader> reader;
  Status s = LogReader::Open(path, &reader, &recorder);
  if (!s.ok()) return s;
  LogRecord rec;
  while (reader->Next(&rec)) {
    if (rec.type == LogRecordType::kGroup) ++out->groups;
  }
  out->file_size = reader->file_size();
  out->records = reader->records();
  return reader->status();
}

// The rule. Damage is a torn tail only when no valid record follows it, neither in its own file
// (log_reader.h) nor in any later log. Why later logs count:
//  - A process crash (kill -9, OOM) cannot tear a log that is not the newest: the log rotates
//    only after a Flush that handed all of it to the kernel (CommitLog::Rotate), and the kernel
//    keeps what it was handed. Under appendfsync always that Flush also fsynced it, so not even
//    a power loss can tear it.
//  - A power loss under everysec or no can: the old log's last second need not be synced when
//    it rotates (the checkpoint that rotated it writes its records into a segment instead), and
//    until that checkpoint's MANIFEST is durable the old log is still replayed. But writes in
//    the later logs happened after the lost ones; keeping them while cutting the older log would
//    leave a hole between surviving writes, which is what must never happen silently. So that
//    case is reported as corruption too: the operator (or log-corruption-policy drop-and-repair
//    in a cluster) decides.
//  - Later logs without a single valid record (created just before a crash, or holding only a
//    torn tail) do not count: the older log is then the newest one with data.
// A single bit flipped in the very last record of the newest log cannot be told from a record
// torn by a crash; it is cut like one. A power loss that persisted a later page of unsynced
// writes but not an earlier one looks exactly like a corrupt middle and is reported as such.
void ClassifyLogDamage(std::vector<LogCheck>* logs) {
  std::uint64_t later = 0;
  for (auto it = logs->rbegin(); it != logs->rend(); ++it) {
    it->later_records = later;
    it->corrupt = it->damage && (!it->damage->torn() || later > 0);
    later += it->valid_records();
  }
}

std::string DescribeLogDamage(const LogCheck& log) {
  if (!log.damage) return "commit log " + log.path + ": no damage";
  const LogDamage& d = *log.damage;
  std::string out = "commit log " + log.path + ": bad record at offset " +
                    std::to_string(d.offset) + " of " + std::to_string(d.file_size) + " bytes (" +
                    d.reason + "), after " + std::to_string(d.records_before) + " good records; ";
  if (d.records_after > 0) {
    out += std::to_string(d.bytes_from_offset()) + " bytes from it on hold " +
           std::to_string(d.records_after) + " valid records (the first at offset " +
           std::to_string(d.first_record_after) + ")";
  } else {
    out += "nothing valid follows it in the file (" + std::to_string(d.bytes_from_offset()) +
           " bytes)";
  }
  if (log.later_records > 0) {
    out +=
        ", and later logs hold " + std::to_string(log.later_records) + " records written after it";
  }
  return out;
}

}  // namespace dynakv::storage
