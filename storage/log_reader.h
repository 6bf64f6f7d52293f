// Reads a commit log file sequentially for recovery. It stops at the end of the file or at the
// first bad record: one whose header or payload does not verify, or that the file ends inside.
// valid_bytes() then tells where the good prefix ends.
//
// At a bad record the reader looks at what follows before reporting it (LogDamage):
//  - A torn tail is a bad record that nothing valid follows: a crash in the middle of an append
//    (a process dies between or during write()s, or a power loss leaves unsynced pages as zeros
//    or stale bytes). Cutting it loses nothing that was ever durable.
//  - Corruption is a bad record that valid records follow: bytes in the middle of the log went
//    bad after they were written (disk, filesystem, a stray write). Cutting there would throw the
//    records after it away silently.
// "Valid records follow" is decided by scanning every later offset for a record whose header is
// plausible, whose payload's own length fields add up to the header's length and whose checksum
// matches. A random match is ~2^-32 per candidate after the shape filter has already rejected
// all but a few offsets. The scan does not start inside the bad record when its header and the
// payload bytes present agree with each other (LogPayloadShapeFits): that is a genuine record
// that a crash cut short or a power loss left partly unwritten, and its payload is a user's
// value, which may hold anything, including bytes that look like records. Scanning it would let
// a stored value turn a harmless torn tail into a refused start. A header whose length does not
// fit its payload is damaged itself, and then the scan starts one byte after it.
//
// A file too short for its magic, or whose magic is all zeros, is a creation torn by a crash: it
// holds no records, and it is reported as damage at offset 0 (torn unless records follow).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "file_util.h"
#include "log_format.h"
#include "storage/status.h"

namespace dynakv::storage {

// Where and how a log stopped being readable.
struct LogDamage {
  std::uint64_t offset = 0;  // of the first bad record (the good prefix ends here)
  std::uint64_t file_size = 0;
  std::uint64_t records_before = 0;      // good records before it
  std::uint64_t records_after = 0;       // records that verify after it
  std::uint64_t first_record_after = 0;  // offset of the first of those, when there are any
  std::string reason;                    // what was wrong with the bad record

  bool torn() const { return records_after == 0; }
  std::uint64_t bytes_from_offset() const { return file_size - offset; }
};

class LogReader {
 public:
  // Told about the bad record a reader stopped at (LevelDB's log::Reader::Reporter shape).
  class Reporter {
   public:
    virtual ~Reporter() = default;
    virtual void Damaged(const std::string& path, const LogDamage& damage) = 0;
  };

  // Fails with Corruption when the file is not a log of this format. `reporter` may be null.
  static Status Open(const std::string& path, std::unique_ptr<LogReader>* out,
                     Reporter* reporter = nullptr);
  LogReader(FileDescriptor fd, std::string path, std::uint64_t size, Reporter* reporter);

  // The next good record; its views stay valid until the next call. False at the end of the
  // file, at a bad record (reported once, before returning), or after a read error (status()).
  bool Next(LogRecord* rec);

  std::uint64_t valid_bytes() const { return valid_; }
  std::uint64_t file_size() const { return file_size_; }
  std::uint64_t records() const { return records_; }
  // Not ok when the file could not be read: nothing is known then about the rest of it.
  const Status& status() const { return status_; }

 private:
  enum class Parse { kGood, kBad, kEnd };

  // Makes at least n unread bytes available in buf_; false if the file has fewer (or on a read
  // error, which status_ then holds).
  bool Fill(std::size_t n);
  // Moves the read position forward to file offset `off`.
  void SeekForward(std::uint64_t off);
  // Parses the record at the read position into *rec (and its length into *size); *why says
  // what is wrong when it is bad.
  Parse ParseRecord(LogRecord* rec, std::uint64_t* size, const char** why);
  std::uint64_t Offset() const { return read_off_ - buf_.size() + pos_; }
  // Fills in and reports the damage at valid_, scanning the rest of the file. `may_frame`: the
  // bytes at valid_ are meant to be a record header (not the file's magic).
  void ExamineDamage(const char* why, bool may_frame);

  FileDescriptor fd_;
  std::string path_;
  std::uint64_t file_size_;
  Reporter* reporter_;
  std::uint64_t read_off_ = 0;  // next file offset to read into buf_
  std::uint64_t valid_ = 0;     // file offset where the good prefix ends
  std::uint64_t records_ = 0;
  bool torn_header_ = false;
  bool stopped_ = false;
  Status status_;
  std::string buf_;
  std::size_t pos_ = 0;  // first unread byte of buf_
};

}  // namespace dynakv::storage
