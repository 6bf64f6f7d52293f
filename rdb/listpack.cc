#include "listpack.h"

#include <charconv>
#include <cstring>
#include <vector>

#include "types/set.h"

namespace dynakv::rdb {

namespace {

constexpr std::size_t kHeaderSize = 6;
constexpr unsigned char kEof = 0xFF;
constexpr std::uint32_t kCountUnknown = 65535;  // the header's count saturates here

void PutLittleEndian(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t LittleEndian(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

constexpr std::size_t kMaxBacklen = 5;

// lpEncodeBacklen: the entry's size, 7 bits per byte, the most significant byte first, every
// byte but the first with its top bit set (read from the end, the top bit means "more").
std::size_t EncodeBacklen(std::uint64_t len, unsigned char* out) {
  int bytes;  // lpEncodeBacklen's thresholds
  if (len <= 127) {
    bytes = 1;
  } else if (len < 16383) {
    bytes = 2;
  } else if (len < 2097151) {
    bytes = 3;
  } else if (len < 268435455) {
    bytes = 4;
  } else {
    bytes = 5;
  }
  for (int i = bytes - 1; i >= 0; --i) {
    const auto b = static_cast<unsigned char>((len >> (7 * i)) & 127);
    out[bytes - 1 - i] = i == bytes - 1 ? b : static_cast<unsigned char>(b | 128);
  }
  return static_cast<std::size_t>(bytes);
}

void PutBacklen(std::string* out, std::uint64_t len) {
  unsigned char bytes[kMaxBacklen];
  out->append(reinterpret_cast<const char*>(bytes), EncodeBacklen(len, bytes));
}

std::string FormatInt(std::int64_t v) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

}  // namespace

ListpackWriter::ListpackWriter() : buf_(kHeaderSize, '\0') {}

void ListpackWriter::Append(std::string_view element) {
  const std::size_t start = buf_.size();
  std::int64_t v;
  if (types::Set::AsInteger(element, &v)) {
    if (v >= 0 && v <= 127) {
      buf_.push_back(static_cast<char>(v));
    } else if (v >= -4096 && v <= 4095) {
      const auto u = static_cast<std::uint64_t>(v < 0 ? (1 << 13) + v : v);
      buf_.push_back(static_cast<char>((u >> 8) | 0xC0));
      buf_.push_back(static_cast<char>(u & 0xff));
    } else if (v >= -32768 && v <= 32767) {
      buf_.push_back(static_cast<char>(0xF1));
      PutLittleEndian(&buf_, static_cast<std::uint64_t>(v), 2);
    } else if (v >= -8388608 && v <= 8388607) {
      buf_.push_back(static_cast<char>(0xF2));
      PutLittleEndian(&buf_, static_cast<std::uint64_t>(v), 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      buf_.push_back(static_cast<char>(0xF3));
      PutLittleEndian(&buf_, static_cast<std::uint64_t>(v), 4);
    } else {
      buf_.push_back(static_cast<char>(0xF4));
      PutLittleEndian(&buf_, static_cast<std::uint64_t>(v), 8);
    }
  } else {
    const std::size_t len = element.size();
    if (len < 64) {
      buf_.push_back(static_cast<char>(0x80 | len));
    } else if (len < 4096) {
      buf_.push_back(static_cast<char>(0xE0 | (len >> 8)));
      buf_.push_back(static_cast<char>(len & 0xff));
    } else {
      buf_.push_back(static_cast<char>(0xF0));
      PutLittleEndian(&buf_, len, 4);
    }
    buf_.append(element);
  }
  PutBacklen(&buf_, buf_.size() - start);
  ++count_;
}

std::string ListpackWriter::Finish() {
  buf_.push_back(static_cast<char>(kEof));
  std::string header;
  PutLittleEndian(&header, buf_.size(), 4);
  PutLittleEndian(&header, count_ < kCountUnknown ? count_ : kCountUnknown, 2);
  buf_.replace(0, kHeaderSize, header);
  return std::move(buf_);
}

bool ParseListpack(std::string_view blob, const ElementVisitor& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const std::size_t n = blob.size();
  if (n < kHeaderSize + 1 || LittleEndian(p, 4) != n || p[n - 1] != kEof) return false;
  const auto declared = static_cast<std::uint32_t>(LittleEndian(p + 4, 2));
  std::size_t pos = kHeaderSize;
  std::size_t count = 0;
  const std::size_t end = n - 1;  // the terminator
  while (pos < end) {
    const unsigned char enc = p[pos];
    std::size_t head;        // encoding bytes
    std::uint64_t data = 0;  // data bytes
    bool is_int = true;
    std::int64_t value = 0;
    auto need = [&](std::size_t k) { return k <= end - pos; };
    if ((enc & 0x80) == 0) {
      head = 1;
      value = enc & 0x7f;
    } else if ((enc & 0xC0) == 0x80) {
      head = 1;
      data = enc & 0x3f;
      is_int = false;
    } else if ((enc & 0xE0) == 0xC0) {
      head = 2;
      if (!need(2)) return false;
      std::uint64_t u = ((enc & 0x1fu) << 8) | p[pos + 1];
      value =
          u >= (1u << 12) ? static_cast<std::int64_t>(u) - (1 << 13) : static_cast<std::int64_t>(u);
    } else if ((enc & 0xF0) == 0xE0) {
      head = 2;
      if (!need(2)) return false;
      data = ((enc & 0x0fu) << 8) | p[pos + 1];
      is_int = false;
    } else if (enc == 0xF0) {
      head = 5;
      if (!need(5)) return false;
      data = LittleEndian(p + pos + 1, 4);
      is_int = false;
    } else if (enc >= 0xF1 && enc <= 0xF4) {
      static constexpr int kWidth[] = {2, 3, 4, 8};
      const int width = kWidth[enc - 0xF1];
      head = 1 + width;
      if (!need(head)) return false;
      const std::uint64_t u = LittleEndian(p + pos + 1, width);
      if (width == 8) {
        value = static_cast<std::int64_t>(u);
      } else {
        const std::uint64_t sign = std::uint64_t{1} << (8 * width - 1);
        value = (u & sign) ? static_cast<std::int64_t>(u) - static_cast<std::int64_t>(sign << 1)
                           : static_cast<std::int64_t>(u);
      }
    } else {
      return false;  // 0xF5-0xFE are unused; 0xFF before the end is a cut-short listpack
    }
    if (!need(head) || data > end - pos - head) return false;
    const std::size_t entry = head + data;
    unsigned char backlen[kMaxBacklen];  // on the stack: this runs for every element
    const std::size_t backlen_size = EncodeBacklen(entry, backlen);
    if (!need(entry + backlen_size) || std::memcmp(p + pos + entry, backlen, backlen_size) != 0) {
      return false;
    }
    const bool more = is_int ? fn(FormatInt(value)) : fn(blob.substr(pos + head, data));
    if (!more) return false;
    pos += entry + backlen_size;
    ++count;
  }
  if (declared != kCountUnknown && declared != count) return false;
  return true;
}

bool ParseZiplist(std::string_view blob, const ElementVisitor& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const std::size_t n = blob.size();
  constexpr std::size_t kZlHeader = 10;
  if (n < kZlHeader + 1 || LittleEndian(p, 4) != n || p[n - 1] != 0xFF) return false;
  const std::uint64_t tail = LittleEndian(p + 4, 4);
  const auto declared = static_cast<std::uint32_t>(LittleEndian(p + 8, 2));
  const std::size_t end = n - 1;
  std::size_t pos = kZlHeader;
  std::size_t prev_size = 0;
  std::size_t last = kZlHeader;  // an empty ziplist's tail points at the terminator's place
  std::size_t count = 0;
  while (pos < end) {
    auto need = [&](std::size_t k) { return k <= end - pos; };
    std::size_t at = pos;
    std::size_t prevlen;
    if (p[at] < 254) {
      prevlen = p[at];
      at += 1;
    } else if (p[at] == 254) {
      if (!need(5)) return false;
      prevlen = LittleEndian(p + at + 1, 4);
      at += 5;
    } else {
      return false;
    }
    if (prevlen != prev_size) return false;
    if (at >= end) return false;
    const unsigned char enc = p[at];
    std::size_t head;
    std::uint64_t data = 0;
    bool is_int = true;
    std::int64_t value = 0;
    auto room = [&](std::size_t k) { return k <= end - at; };
    switch (enc >> 6) {
      case 0:
        head = 1;
        data = enc & 0x3f;
        is_int = false;
        break;
      case 1:
        head = 2;
        if (!room(2)) return false;
        data = ((enc & 0x3fu) << 8) | p[at + 1];
        is_int = false;
        break;
      case 2:
        if (enc != 0x80) return false;
        head = 5;
        if (!room(5)) return false;
        data = (std::uint64_t{p[at + 1]} << 24) | (std::uint64_t{p[at + 2]} << 16) |
               (std::uint64_t{p[at + 3]} << 8) | p[at + 4];
        is_int = false;
        break;
      default: {
        int width;
        switch (enc) {
          case 0xC0:
            width = 2;
            break;
          case 0xD0:
            width = 4;
            break;
          case 0xE0:
            width = 8;
            break;
          case 0xF0:
            width = 3;
            break;
          case 0xFE:
            width = 1;
            break;
          default:
            width = 0;
            break;
        }
        head = 1 + width;
        if (width == 0) {
          if (enc < 0xF1 || enc > 0xFD) return false;
          value = (enc & 0x0f) - 1;
        } else {
          if (!room(head)) return false;
          const std::uint64_t u = LittleEndian(p + at + 1, width);
          if (width == 8) {
            value = static_cast<std::int64_t>(u);
          } else {
            const std::uint64_t sign = std::uint64_t{1} << (8 * width - 1);
            value = (u & sign) ? static_cast<std::int64_t>(u) - static_cast<std::int64_t>(sign << 1)
                               : static_cast<std::int64_t>(u);
          }
        }
      }
    }
    if (!room(head) || data > end - at - head) return false;
    const bool more = is_int ? fn(FormatInt(value)) : fn(blob.substr(at + head, data));
    if (!more) return false;
    last = pos;
    prev_size = at + head + data - pos;
    pos = at + head + data;
    ++count;
  }
  if (tail != last) return false;
  if (declared != 65535 && declared != count) return false;
  return true;
}

bool ParseZipmap(std::string_view blob, const ElementVisitor& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const std::size_t n = blob.size();
  if (n < 2) return false;
  const std::size_t declared = p[0];
  std::size_t pos = 1;
  std::size_t count = 0;
  // A length: one byte below 254, else 254 and 4 little-endian bytes (255 is the end).
  auto length = [&](std::size_t* len) {
    if (pos >= n || p[pos] == 255) return false;
    if (p[pos] < 254) {
      *len = p[pos++];
      return true;
    }
    if (n - pos < 5) return false;
    *len = LittleEndian(p + pos + 1, 4);
    pos += 5;
    return true;
  };
  while (pos < n && p[pos] != 255) {
    std::size_t key_len, value_len;
    if (!length(&key_len) || key_len > n - pos) return false;
    const std::string_view key = blob.substr(pos, key_len);
    pos += key_len;
    if (!length(&value_len) || pos >= n) return false;
    const std::size_t free = p[pos++];
    if (value_len > n - pos || free > n - pos - value_len) return false;
    if (!fn(key) || !fn(blob.substr(pos, value_len))) return false;
    pos += value_len + free;
    ++count;
  }
  if (pos != n - 1) return false;  // the end byte, last
  return declared >= 254 || declared == count;
}

std::string MakeIntset(const std::vector<std::int64_t>& ascending) {
  int width = 2;
  for (std::int64_t v : ascending) {
    if (v < INT32_MIN || v > INT32_MAX) {
      width = 8;
    } else if ((v < INT16_MIN || v > INT16_MAX) && width < 4) {
      width = 4;
    }
  }
  std::string out;
  PutLittleEndian(&out, width, 4);
  PutLittleEndian(&out, ascending.size(), 4);
  for (std::int64_t v : ascending) PutLittleEndian(&out, static_cast<std::uint64_t>(v), width);
  return out;
}

bool ParseIntset(std::string_view blob, const std::function<bool(std::int64_t)>& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) return false;
  const std::uint64_t width = LittleEndian(p, 4);
  const std::uint64_t count = LittleEndian(p + 4, 4);
  if (width != 2 && width != 4 && width != 8) return false;
  if (count == 0 || (blob.size() - 8) != count * width) return false;
  std::int64_t previous = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t u = LittleEndian(p + 8 + i * width, static_cast<int>(width));
    std::int64_t v;
    if (width == 8) {
      v = static_cast<std::int64_t>(u);
    } else {
      const std::uint64_t sign = std::uint64_t{1} << (8 * width - 1);
      v = (u & sign) ? static_cast<std::int64_t>(u) - static_cast<std::int64_t>(sign << 1)
                     : static_cast<std::int64_t>(u);
    }
    if (i > 0 && v <= previous) return false;
    previous = v;
    if (!fn(v)) return false;
  }
  return true;
}

}  // namespace dynakv::rdb
