// Reads a commit log file sequentially for recovery. It stops at the end of the file or at the
// first record that is torn (shorter than its header says) or corrupt (CRC or format mismatch);
// valid_bytes() then tells where the good prefix ends, so the caller can truncate there. A file
// too short for its magic, or whose magic is all zeros, is a creation torn by a crash: it holds
// no records and valid_bytes() is 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "file_util.h"
#include "log_format.h"
#include "storage/status.h"

namespace dynakv::storage {

class LogReader {
 public:
  // Fails with Corruption when the file is not a log of this format.
  static Status Open(const std::string& path, std::unique_ptr<LogReader>* out);
  LogReader(FileDescriptor fd, std::string path, std::uint64_t size);

  // The next good record; its views stay valid until the next call.
  bool Next(LogRecord* rec);

  std::uint64_t valid_bytes() const { return valid_; }
  std::uint64_t file_size() const { return file_size_; }

 private:
  // Makes at least n unread bytes available in buf_; false if the file has fewer.
  bool Fill(std::size_t n);

  FileDescriptor fd_;
  std::string path_;
  std::uint64_t file_size_;
  std::uint64_t read_off_ = 0;  // next file offset to read into buf_
  std::uint64_t valid_ = 0;      // file offset where the good prefix ends
  bool torn_header_ = false;
  std::string buf_;
  std::size_t pos_ = 0;  // first unread byte of buf_
};

}  // namespace dynakv::storage
