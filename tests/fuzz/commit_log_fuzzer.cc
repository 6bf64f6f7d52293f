// Fuzzes the commit-log reader (storage/log_reader.h), which recovery runs over whatever a crash
// or a bad disk left. LogReader reads files, so each input is written to a scratch file.
// Input: [mode byte] then
//   mode bit 0 clear: the file's bytes as they are (mostly stopped by the checksums);
//   mode bit 0 set:   records as [type byte][length byte][payload], which the harness frames
//                     with the magic, correct lengths and checksums (so the payload decoder is
//                     reached), then the rest of the input appended as a torn tail.
// Invariants: the good prefix only grows and stays within the file; a record re-encodes to a
// record that decodes to the same fields; with framed records, the reader returns at least the
// leading records whose payload is well-formed. Data safety: a reader that stops before the end
// of a file it could read has reported the damage, exactly once, at the end of the good prefix,
// with consistent counts (bytes are never cut silently).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "coding.h"
#include "crc.h"
#include "fuzz_util.h"
#include "log_format.h"
#include "log_reader.h"

namespace {

using namespace dynakv::storage;

bool SameRecord(const LogRecord& a, const LogRecord& b) {
  if (a.type != b.type || a.ns != b.ns) return false;
  switch (a.type) {
    case LogRecordType::kMove:
      if (a.from_ns != b.from_ns) return false;
      [[fallthrough]];
    case LogRecordType::kPut:
      return a.key == b.key && a.stored == b.stored && a.raw_len == b.raw_len &&
             a.compressed == b.compressed && a.expire_at_ms == b.expire_at_ms &&
             a.object == b.object;
    case LogRecordType::kFlushDb:
      return a.db == b.db;
    case LogRecordType::kSwapDb:
      return a.db == b.db && a.db2 == b.db2;
    case LogRecordType::kDelete:
      return a.key == b.key;
    case LogRecordType::kExpire:
      return a.key == b.key && a.expire_at_ms == b.expire_at_ms;
    case LogRecordType::kClear:
      return true;
    case LogRecordType::kMutate:
      return a.key == b.key && a.op == b.op;
    case LogRecordType::kPatch:
      return a.key == b.key && a.patch == b.patch;
    case LogRecordType::kGroup:
      return a.group == b.group;
  }
  return false;
}

// Records what the reader reports, checking what holds for any report.
class Recorder : public LogReader::Reporter {
 public:
  void Damaged(const std::string& path, const LogDamage& damage) override {
    ++reports;
    last = damage;
    FUZZ_CHECK(!damage.reason.empty());
    FUZZ_CHECK(damage.offset <= damage.file_size);
    if (!damage.torn()) {
      FUZZ_CHECK(damage.first_record_after > damage.offset);
      FUZZ_CHECK(damage.first_record_after + kLogHeaderSize <= damage.file_size);
    }
  }
  int reports = 0;
  LogDamage last;
};

void AppendFramed(std::string* file, std::uint8_t type, std::string_view payload) {
  std::string body(1, static_cast<char>(type));
  body.append(payload);
  PutFixed32(file, Checksum32(body));
  PutFixed32(file, static_cast<std::uint32_t>(payload.size()));
  file->append(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dynakv::fuzz::ScratchFile scratch;
  dynakv::fuzz::InputReader in(data, size);
  const std::uint8_t mode = in.Byte();

  std::string file;
  std::size_t expected_records = 0;
  std::uint64_t expected_valid = 0;
  const bool framed = (mode & 1) != 0;
  if (framed) {
    PutFixed64(&file, kLogFileMagic);
    expected_valid = file.size();
    bool all_good = true;
    const std::size_t count = in.Byte() % 16;
    for (std::size_t i = 0; i < count && !in.empty(); ++i) {
      const std::uint8_t type = in.Byte();
      const std::string_view payload = in.ShortString();
      AppendFramed(&file, type, payload);
      LogRecord rec;
      all_good = all_good && DecodeLogPayload(static_cast<LogRecordType>(type), payload, &rec);
      if (all_good) {
        ++expected_records;
        expected_valid = file.size();
      }
    }
  }
  file.append(in.Rest());

  std::unique_ptr<LogReader> reader;
  Recorder recorder;
  if (!LogReader::Open(scratch.Write(file), &reader, &recorder).ok()) {
    FUZZ_CHECK(!framed);
    return 0;
  }
  FUZZ_CHECK(reader->file_size() == file.size());
  std::size_t records = 0;
  LogRecord rec;
  std::uint64_t valid = reader->valid_bytes();
  while (reader->Next(&rec)) {
    ++records;
    const std::uint64_t end = reader->valid_bytes();
    FUZZ_CHECK(end > valid && end <= file.size());
    // The record came from file[valid, end): a header, then the payload it decoded from.
    FUZZ_CHECK(end - valid >= kLogHeaderSize);
    std::string again;
    AppendLogRecord(&again, rec);
    FUZZ_CHECK(again.size() <= end - valid);
    LogRecord decoded;
    FUZZ_CHECK(DecodeLogPayload(static_cast<LogRecordType>(again[8]),
                                std::string_view(again).substr(kLogHeaderSize), &decoded));
    FUZZ_CHECK(SameRecord(rec, decoded));
    valid = end;
  }
  FUZZ_CHECK(reader->valid_bytes() == valid && valid <= file.size());
  FUZZ_CHECK(reader->status().ok());  // a scratch file in memory always reads
  FUZZ_CHECK(reader->records() == records);
  FUZZ_CHECK(recorder.reports <= 1);
  if (valid < file.size()) {  // an empty file lost nothing and is not reported
    FUZZ_CHECK(recorder.reports == 1);
    FUZZ_CHECK(recorder.last.offset == valid);
    FUZZ_CHECK(recorder.last.file_size == file.size());
    FUZZ_CHECK(recorder.last.records_before == records);
  } else {
    FUZZ_CHECK(recorder.reports == 0);
  }
  FUZZ_CHECK(!reader->Next(&rec));  // stays stopped
  FUZZ_CHECK(recorder.reports <= 1);
  if (framed) {
    // A torn tail may happen to hold more good records; the framed ones must all be there.
    FUZZ_CHECK(records >= expected_records);
    FUZZ_CHECK(valid >= expected_valid);
    if (records == expected_records) FUZZ_CHECK(valid == expected_valid);
  }
  return 0;
}
