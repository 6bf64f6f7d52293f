#include "log_reader.h"

#include <fcntl.h>

#include <algorithm>

#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

LogReader::LogReader(FileDescriptor fd, std::string path, std::uint64_t size)
    : fd_(std::move(fd)), path_(std::move(path)), file_size_(size) {}

Status LogReader::Open(const std::string& path, std::unique_ptr<LogReader>* out) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_RDONLY, &fd);
  if (!s.ok()) return s;
  std::uint64_t size;
  s = FileSize(fd.get(), path, &size);
  if (!s.ok()) return s;
  auto reader = std::make_unique<LogReader>(std::move(fd), path, size);
  char magic[kLogFileMagicSize] = {};
  if (size >= kLogFileMagicSize) {
    s = ReadAt(reader->fd_.get(), 0, kLogFileMagicSize, magic, path);
    if (!s.ok()) return s;
  }
  const std::uint64_t m = DecodeFixed64(magic);
  if (size < kLogFileMagicSize || m == 0) {
    reader->torn_header_ = true;
  } else if (m != kLogFileMagic) {
    return Status::Corruption(path + " is not a commit log of this format (logs of the first "
                              "format had no magic and CRC-32 checksums)");
  } else {
    reader->read_off_ = reader->valid_ = kLogFileMagicSize;
  }
  *out = std::move(reader);
  return Status::Ok();
}

bool LogReader::Fill(std::size_t n) {
  std::size_t have = buf_.size() - pos_;
  if (have >= n) return true;
  if (file_size_ - read_off_ < n - have) return false;
  buf_.erase(0, pos_);
  pos_ = 0;
  constexpr std::uint64_t kReadAhead = 1u << 20;
  const std::uint64_t want = std::min<std::uint64_t>(file_size_ - read_off_,
                                                     std::max<std::uint64_t>(n - have, kReadAhead));
  buf_.resize(have + want);
  if (!ReadAt(fd_.get(), read_off_, want, buf_.data() + have, path_).ok()) {
    buf_.resize(have);
    return false;
  }
  read_off_ += want;
  return true;
}

bool LogReader::Next(LogRecord* rec) {
  if (torn_header_ || !Fill(kLogHeaderSize)) return false;
  const char* header = buf_.data() + pos_;
  const std::uint32_t crc = DecodeFixed32(header);
  const std::uint32_t len = DecodeFixed32(header + 4);
  if (len > kMaxLogPayload || len > file_size_ - valid_ - kLogHeaderSize) return false;
  if (!Fill(kLogHeaderSize + len)) return false;
  header = buf_.data() + pos_;  // Fill may have moved the buffer
  if (Checksum32(header + 8, len + 1) != crc) return false;
  const auto type = static_cast<LogRecordType>(header[8]);
  if (!DecodeLogPayload(type, std::string_view(header + kLogHeaderSize, len), rec)) return false;
  pos_ += kLogHeaderSize + len;
  valid_ += kLogHeaderSize + len;
  return true;
}

}  // namespace dynakv::storage
