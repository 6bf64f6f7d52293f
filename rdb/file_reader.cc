// rdbLoadRio as a resumable parser: each item (an opcode and its operands, or a key and its
// value) is parsed from the buffered bytes; when they run out first, the item is tried again
// once more bytes have come, so a caller feeding a file or a socket piece by piece gets the same
// result as one feeding it whole.
#include "rdb/file_reader.h"

#include <cstring>

#include "rdb/crc64.h"
#include "rdb/primitives.h"

namespace dynakv::rdb {

bool SkipModuleOpcodes(std::string_view* in);  // skip_value.cc

namespace {

// rdb.h's opcodes: the bytes 0xF5-0xFF where a key's type byte may stand.
constexpr unsigned char kOpFunction2 = 0xF5;
constexpr unsigned char kOpFunctionPreGa = 0xF6;
constexpr unsigned char kOpModuleAux = 0xF7;
constexpr unsigned char kOpIdle = 0xF8;
constexpr unsigned char kOpFreq = 0xF9;
constexpr unsigned char kOpAux = 0xFA;
constexpr unsigned char kOpResizeDb = 0xFB;
constexpr unsigned char kOpExpireTimeMs = 0xFC;
constexpr unsigned char kOpExpireTime = 0xFD;
constexpr unsigned char kOpSelectDb = 0xFE;
constexpr unsigned char kOpEof = 0xFF;

constexpr std::size_t kHeaderSize = 9;  // "REDIS" and four version digits
constexpr std::uint64_t kModuleOpcodeUint = 2;

std::uint64_t LittleEndian(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

bool KnownObjectType(unsigned char t) { return t <= 7 || (t >= 9 && t <= 21); }

std::string Printable(std::string_view key) {
  std::string out;
  for (char c : key.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  if (key.size() > 64) out += "...";
  return out;
}

}  // namespace

bool RdbReader::Fail(std::uint64_t offset, std::string reason) {
  error_.offset = offset;
  error_.reason = std::move(reason);
  return false;
}

void RdbReader::Consume(std::size_t n) {
  crc_ = Crc64(crc_, std::string_view(buffer_).substr(start_, n));
  start_ += n;
  offset_ += n;
}

bool RdbReader::Feed(std::string_view bytes) {
  if (failed()) return false;
  if (done_) {
    after_eof_.append(bytes);
    return true;
  }
  // Compact before growing: what was read is no longer needed.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    retry_at_ -= std::min(retry_at_, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
  if (!finishing_ && buffer_.size() < retry_at_) return true;
  retry_at_ = 0;
  while (!done_) {
    std::string_view in = std::string_view(buffer_).substr(start_);
    if (in.empty()) break;
    const std::size_t before = in.size();
    const Step step = ParseOne(&in);
    if (step == Step::kFailed) return false;
    if (step == Step::kNeedMore) {
      // Try again when the unread part has doubled (at least 64 KiB more): a large value is
      // then parsed O(log n) times, not once per piece fed.
      const std::size_t unread = buffer_.size() - start_;
      retry_at_ = buffer_.size() + std::max<std::size_t>(unread, 64 * 1024);
      break;
    }
    if (done_) {
      // The EOF opcode is in the checksum; the checksum itself is not (ParseOne consumed both).
      after_eof_.assign(in);
      buffer_.clear();
      start_ = 0;
      break;
    }
    Consume(before - in.size());
  }
  return true;
}

bool RdbReader::ParseBuffered() {
  if (failed()) return false;
  if (done_) return true;
  retry_at_ = 0;
  return Feed({});
}

bool RdbReader::Finish() {
  if (failed()) return false;
  if (done_) return true;
  finishing_ = true;
  if (!Feed({})) return false;
  if (done_) return true;
  return Fail(offset_, offset_ == 0 ? "empty file" : "unexpected end of file");
}

RdbReader::Step RdbReader::ParseOne(std::string_view* in) {
  const std::uint64_t at = offset_;
  // Out of bytes: wait for more, or (at the end of input) the file is cut here.
  auto short_input = [&](std::string_view what) {
    if (!finishing_) return Step::kNeedMore;
    Fail(at, "unexpected end of file in " + std::string(what));
    return Step::kFailed;
  };
  auto fail = [&](std::string reason) {
    Fail(at, std::move(reason));
    return Step::kFailed;
  };

  if (version_ == 0) {
    const std::size_t have = std::min(in->size(), kHeaderSize);
    if (std::memcmp(in->data(), "REDIS", std::min<std::size_t>(have, 5)) != 0) {
      return fail("wrong signature: not an RDB file");
    }
    if (in->size() < kHeaderSize) return short_input("the header");
    int version = 0;
    for (std::size_t i = 5; i < kHeaderSize; ++i) {
      const char c = (*in)[i];
      if (c < '0' || c > '9') return fail("bad RDB version field");
      version = version * 10 + (c - '0');
    }
    if (version < 1 || version > kMaxRdbFileVersion) {
      return fail("unsupported RDB version " + std::to_string(version) +
                  " (this server reads versions 1 to " + std::to_string(kMaxRdbFileVersion) + ")");
    }
    version_ = version;
    in->remove_prefix(kHeaderSize);
    return Step::kDone;
  }

  const auto type = static_cast<unsigned char>(in->front());
  in->remove_prefix(1);
  std::uint64_t a = 0, b = 0;
  switch (type) {
    case kOpEof: {
      const std::size_t sum_size = version_ >= 5 ? 8 : 0;
      if (in->size() < sum_size) return short_input("the checksum");
      const std::uint64_t crc = Crc64(crc_, std::string_view("\xff", 1));
      const std::uint64_t stored = sum_size ? LittleEndian(*in, 8) : 0;
      // Zero: written with rdbchecksum no.
      if (stored != 0 && stored != crc) {
        return fail("wrong RDB checksum (expected " + std::to_string(crc) + ", the file has " +
                    std::to_string(stored) + ")");
      }
      in->remove_prefix(sum_size);
      offset_ += 1 + sum_size;
      crc_ = crc;
      done_ = true;
      return Step::kDone;
    }
    case kOpSelectDb:
      if (!GetLength(in, &a)) return short_input("SELECTDB");
      db_ = a;
      return Step::kDone;
    case kOpResizeDb:
      if (!GetLength(in, &a) || !GetLength(in, &b)) return short_input("RESIZEDB");
      sink_.OnResizeDb(db_, a, b);
      return Step::kDone;
    case kOpExpireTimeMs:
      if (in->size() < 8) return short_input("EXPIRETIME_MS");
      expire_at_ms_ = static_cast<std::int64_t>(LittleEndian(*in, 8));
      in->remove_prefix(8);
      return Step::kDone;
    case kOpExpireTime:
      if (in->size() < 4) return short_input("EXPIRETIME");
      expire_at_ms_ = static_cast<std::int64_t>(LittleEndian(*in, 4)) * 1000;
      in->remove_prefix(4);
      return Step::kDone;
    case kOpIdle:
      if (!GetLength(in, &a)) return short_input("IDLE");
      idle_seconds_ = static_cast<std::int64_t>(a);
      return Step::kDone;
    case kOpFreq:
      if (in->empty()) return short_input("FREQ");
      lfu_frequency_ = static_cast<unsigned char>(in->front());
      in->remove_prefix(1);
      return Step::kDone;
    case kOpAux: {
      std::string name, value;
      if (!GetString(in, &name) || !GetString(in, &value)) return short_input("an AUX field");
      sink_.OnAux(name, value);
      return Step::kDone;
    }
    case kOpModuleAux: {
      std::uint64_t when_opcode, when;
      if (!GetLength(in, &a) || !GetLength(in, &when_opcode) || !GetLength(in, &when)) {
        return short_input("MODULE_AUX");
      }
      if (when_opcode != kModuleOpcodeUint) return fail("bad MODULE_AUX 'when' opcode");
      if (!SkipModuleOpcodes(in)) return short_input("MODULE_AUX");
      sink_.OnModuleAux(a);
      return Step::kDone;
    }
    case kOpFunctionPreGa:
      return fail("pre-release function format (opcode 246) not supported");
    case kOpFunction2: {
      std::string code;
      if (!GetString(in, &code)) return short_input("FUNCTION2");
      if (sink_.OnFunction(code)) {
        ++functions_;
      } else {
        ++skipped_functions_;
      }
      return Step::kDone;
    }
    default:
      break;
  }
  if (!KnownObjectType(type)) {
    return fail("unknown opcode or object type " + std::to_string(type));
  }
  RdbKey key;
  key.db = db_;
  if (!GetString(in, &key.key)) return short_input("a key name");
  const DecodeError decoded = DecodeValue(static_cast<ObjectType>(type), in, limits_, &key.value);
  if (decoded == DecodeError::kUnsupported) {
    if (!SkipUnsupportedValue(static_cast<ObjectType>(type), in)) {
      if (!finishing_) return Step::kNeedMore;
      return fail(std::string(ObjectTypeName(static_cast<ObjectType>(type))) + " value of key \"" +
                  Printable(key.key) + "\" is corrupt or cut short");
    }
    sink_.OnSkippedKey(db_, key.key, ObjectTypeName(static_cast<ObjectType>(type)));
    ++skipped_keys_;
  } else if (decoded != DecodeError::kNone) {
    // A value cut short looks like a corrupt one: wait for more bytes until there are none.
    if (!finishing_) return Step::kNeedMore;
    return fail("value of key \"" + Printable(key.key) + "\" (type " + std::to_string(type) +
                ") is corrupt or cut short");
  } else {
    key.expire_at_ms = expire_at_ms_;
    key.idle_seconds = idle_seconds_;
    key.lfu_frequency = lfu_frequency_;
    std::string reason;
    if (!sink_.OnKey(key, &reason)) return fail(reason.empty() ? "key refused" : reason);
    ++keys_;
  }
  expire_at_ms_ = 0;
  idle_seconds_ = -1;
  lfu_frequency_ = -1;
  return Step::kDone;
}

}  // namespace dynakv::rdb
