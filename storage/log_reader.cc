#include "log_reader.h"

#include <fcntl.h>

#include <algorithm>

#include "coding.h"
#include "crc.h"

namespace dynakv::storage {

namespace {

// Payload bytes LogPayloadShapeFits looks at: the length fields of every record type sit in the
// first few bytes unless the key is longer than this.
constexpr std::size_t kShapePrefix = 4096;
// What the bad record itself gets, once: enough that only a key longer than this leaves its
// length fields unread (and a damaged length undetected).
constexpr std::size_t kFramePrefix = 16u << 20;

}  // namespace

LogReader::LogReader(FileDescriptor fd, std::string path, std::uint64_t size, Reporter* reporter)
    : fd_(std::move(fd)), path_(std::move(path)), file_size_(size), reporter_(reporter) {}

Status LogReader::Open(const std::string& path, std::unique_ptr<LogReader>* out,
                       Reporter* reporter) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_RDONLY, &fd);
  if (!s.ok()) return s;
  std::uint64_t size;
  s = FileSize(fd.get(), path, &size);
  if (!s.ok()) return s;
  auto reader = std::make_unique<LogReader>(std::move(fd), path, size, reporter);
  char magic[kLogFileMagicSize] = {};
  if (size >= kLogFileMagicSize) {
    s = ReadAt(reader->fd_.get(), 0, kLogFileMagicSize, magic, path);
    if (!s.ok()) return s;
  }
  const std::uint64_t m = DecodeFixed64(magic);
  if (size < kLogFileMagicSize || m == 0) {
    reader->torn_header_ = true;
  } else if (m != kLogFileMagic) {
    return Status::Corruption(path +
                              " is not a commit log of this format (logs of the first "
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
  Status s = ReadAt(fd_.get(), read_off_, want, buf_.data() + have, path_);
  if (!s.ok()) {
    buf_.resize(have);
    status_ = s;
    return false;
  }
  read_off_ += want;
  return true;
}

void LogReader::SeekForward(std::uint64_t off) {
  const std::uint64_t buf_start = read_off_ - buf_.size();
  if (off < read_off_) {
    pos_ = static_cast<std::size_t>(off - buf_start);
  } else {
    buf_.clear();
    pos_ = 0;
    read_off_ = off;
  }
}

LogReader::Parse LogReader::ParseRecord(LogRecord* rec, std::uint64_t* size, const char** why) {
  const std::uint64_t off = Offset();
  if (off >= file_size_) return Parse::kEnd;
  const std::uint64_t left = file_size_ - off;
  if (left < kLogHeaderSize) {
    *why = "the file ends inside a record header";
    return Parse::kBad;
  }
  if (!Fill(kLogHeaderSize)) return Parse::kEnd;  // a read error
  const char* header = buf_.data() + pos_;
  const std::uint32_t len = DecodeFixed32(header + 4);
  const auto type_byte = static_cast<std::uint8_t>(header[8]);
  if (!IsLogRecordType(type_byte)) {
    *why = "bad record type";
    return Parse::kBad;
  }
  if (len > kMaxLogPayload || len > left - kLogHeaderSize) {
    *why = "the record's length runs past the end of the file";
    return Parse::kBad;
  }
  const auto type = static_cast<LogRecordType>(type_byte);
  // The cheap shape test first: it keeps the scan after a bad record from checksumming a
  // would-be payload at every offset.
  const std::size_t prefix = std::min<std::size_t>(len, kShapePrefix);
  if (!Fill(kLogHeaderSize + prefix)) return Parse::kEnd;
  header = buf_.data() + pos_;
  if (!LogPayloadShapeFits(type, len, std::string_view(header + kLogHeaderSize, prefix))) {
    *why = "the payload does not match the record's length";
    return Parse::kBad;
  }
  if (!Fill(kLogHeaderSize + len)) return Parse::kEnd;
  header = buf_.data() + pos_;  // Fill may have moved the buffer
  if (Checksum32(header + 8, len + 1) != DecodeFixed32(header)) {
    *why = "checksum mismatch";
    return Parse::kBad;
  }
  if (!DecodeLogPayload(type, std::string_view(header + kLogHeaderSize, len), rec)) {
    *why = "malformed payload";
    return Parse::kBad;
  }
  *size = kLogHeaderSize + len;
  return Parse::kGood;
}

bool LogReader::Next(LogRecord* rec) {
  if (stopped_) return false;
  if (torn_header_) {
    stopped_ = true;
    if (file_size_ > 0) ExamineDamage("the file's magic is missing or zero", false);
    return false;
  }
  std::uint64_t size = 0;
  const char* why = "";
  switch (ParseRecord(rec, &size, &why)) {
    case Parse::kGood:
      pos_ += size;
      valid_ += size;
      ++records_;
      return true;
    case Parse::kEnd:
      stopped_ = true;
      return false;
    case Parse::kBad:
      stopped_ = true;
      ExamineDamage(why, true);
      return false;
  }
  return false;
}

void LogReader::ExamineDamage(const char* why, bool may_frame) {
  LogDamage damage;
  damage.offset = valid_;
  damage.file_size = file_size_;
  damage.records_before = records_;
  damage.reason = why;
  std::uint64_t resume = valid_ + 1;
  SeekForward(valid_);
  const std::uint64_t left = file_size_ - valid_;
  if (may_frame && left >= kLogHeaderSize && Fill(kLogHeaderSize)) {
    // A header that its own payload agrees with frames a genuine record (log_reader.h): whatever
    // lies inside it is a value's bytes, not records.
    const std::uint32_t len = DecodeFixed32(buf_.data() + pos_ + 4);
    const auto type = static_cast<std::uint8_t>(buf_.data()[pos_ + 8]);
    const std::size_t prefix = std::min<std::uint64_t>({len, left - kLogHeaderSize, kFramePrefix});
    if (IsLogRecordType(type) && len <= kMaxLogPayload && Fill(kLogHeaderSize + prefix) &&
        LogPayloadShapeFits(static_cast<LogRecordType>(type), len,
                            std::string_view(buf_.data() + pos_ + kLogHeaderSize, prefix))) {
      resume = std::min<std::uint64_t>(valid_ + kLogHeaderSize + len, file_size_);
    }
  }
  std::uint64_t off = resume;
  while (off < file_size_ && status_.ok()) {
    SeekForward(off);
    LogRecord rec;
    std::uint64_t size = 0;
    const char* ignored = "";
    const Parse p = ParseRecord(&rec, &size, &ignored);
    if (p == Parse::kEnd) break;
    if (p == Parse::kGood) {
      if (damage.records_after++ == 0) damage.first_record_after = off;
      off += size;
    } else {
      ++off;
    }
  }
  if (status_.ok() && reporter_ != nullptr) reporter_->Damaged(path_, damage);
}

}  // namespace dynakv::storage
