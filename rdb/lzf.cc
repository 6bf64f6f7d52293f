#include "rdb/lzf.h"

#include <algorithm>
#include <cstdint>
#include <memory>

namespace dynakv::rdb {

namespace {

// The format: a control byte below 32 starts a literal run of control + 1 bytes; otherwise its
// top 3 bits are a back reference's length - 2 (7: one more byte adds to it) and its low 5 bits
// with the next byte are the distance - 1.
constexpr std::size_t kMaxLiteral = 32;
constexpr std::size_t kMaxOffset = 1 << 13;
constexpr std::size_t kMaxRef = (1 << 8) + (1 << 3);
constexpr unsigned kHashLog = 16;
constexpr std::size_t kHashSize = std::size_t{1} << kHashLog;

// liblzf's hash of the last bytes seen ("very fast" variant). The arithmetic is on 32 bits, as
// liblzf's unsigned int: which positions collide decides which matches are found, and so the
// output bytes.
inline std::uint32_t Slot(std::uint32_t h) {
  return ((h >> (3 * 8 - kHashLog)) - h * 5) & (kHashSize - 1);
}

}  // namespace

std::size_t LzfCompress(std::string_view input, std::size_t max_len, std::string* out) {
  const std::size_t n = input.size();
  if (n == 0 || max_len == 0) return 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  // Positions of earlier 3-byte sequences; 0 doubles as "none", since liblzf never refers back
  // to the first byte.
  auto table = std::make_unique<std::uint32_t[]>(kHashSize);
  // Slack past max_len: the bounds are checked where liblzf checks them, which may let a control
  // byte's slot land just past the end before the result is refused.
  std::string buf(max_len + 8, '\0');
  auto* o = reinterpret_cast<unsigned char*>(buf.data());
  std::size_t op = 1;  // o[0] is the first literal run's control byte
  std::size_t lit = 0;
  std::size_t ip = 0;
  std::uint32_t hval = n >= 2 ? (std::uint32_t{in[0]} << 8) | in[1] : 0;

  while (ip + 2 < n) {
    hval = (hval << 8) | in[ip + 2];
    std::uint32_t& slot = table[Slot(hval)];
    const std::size_t ref = slot;
    slot = static_cast<std::uint32_t>(ip);
    const std::size_t off = ip - ref - 1;  // wraps to huge when ref >= ip: no match
    if (ref > 0 && ref < ip && off < kMaxOffset && in[ref] == in[ip] && in[ref + 1] == in[ip + 1] &&
        in[ref + 2] == in[ip + 2]) {
      std::size_t len = 2;
      std::size_t maxlen = n - ip - len;
      if (maxlen > kMaxRef) maxlen = kMaxRef;
      o[op - lit - 1] = static_cast<unsigned char>(lit - 1);  // close the literal run
      if (lit == 0) --op;                                     // ... or drop an empty one
      if (op + 3 + 1 >= max_len) return 0;
      bool stopped = false;
      if (maxlen > 16) {  // liblzf's unrolled first 16 comparisons, with its bounds
        for (int k = 0; k < 16; ++k) {
          ++len;
          if (in[ref + len] != in[ip + len]) {
            stopped = true;
            break;
          }
        }
      }
      if (!stopped) {
        do {
          ++len;
        } while (len < maxlen && in[ref + len] == in[ip + len]);
      }
      len -= 2;  // the length code: matched bytes - 2
      ++ip;
      if (len < 7) {
        o[op++] = static_cast<unsigned char>((off >> 8) + (len << 5));
      } else {
        o[op++] = static_cast<unsigned char>((off >> 8) + (7 << 5));
        o[op++] = static_cast<unsigned char>(len - 7);
      }
      o[op++] = static_cast<unsigned char>(off);
      lit = 0;
      ++op;  // a new literal run's control byte
      ip += len + 1;
      if (ip + 2 >= n) break;
      // Hash the last two positions of the match, so later text can refer into it.
      ip -= 2;
      hval = (std::uint32_t{in[ip]} << 8) | in[ip + 1];
      for (int k = 0; k < 2; ++k) {
        hval = (hval << 8) | in[ip + 2];
        table[Slot(hval)] = static_cast<std::uint32_t>(ip);
        ++ip;
      }
    } else {
      if (op >= max_len) return 0;
      ++lit;
      o[op++] = in[ip++];
      if (lit == kMaxLiteral) {
        o[op - lit - 1] = static_cast<unsigned char>(lit - 1);
        lit = 0;
        ++op;
      }
    }
  }
  if (op + 3 > max_len) return 0;
  while (ip < n) {
    ++lit;
    o[op++] = in[ip++];
    if (lit == kMaxLiteral) {
      o[op - lit - 1] = static_cast<unsigned char>(lit - 1);
      lit = 0;
      ++op;
    }
  }
  o[op - lit - 1] = static_cast<unsigned char>(lit - 1);
  if (lit == 0) --op;
  if (op > max_len) return 0;
  out->append(buf.data(), op);
  return op;
}

bool LzfDecompress(std::string_view input, std::size_t raw_len, std::string* out) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t n = input.size();
  const std::size_t base = out->size();
  // The output grows as it is produced, up to raw_len: a claimed length the stream does not
  // back is refused before it is ever allocated.
  std::size_t room = 0;
  auto reserve = [&](std::size_t need) {
    if (need <= room) return;
    room = std::min(raw_len, std::max(need, room * 2 + 4096));
    out->resize(base + room);
  };
  std::size_t ip = 0;
  std::size_t op = 0;
  auto fail = [&] {
    out->resize(base);
    return false;
  };
  while (ip < n) {
    const std::size_t ctrl = in[ip++];
    if (ctrl < kMaxLiteral) {
      const std::size_t len = ctrl + 1;
      if (len > raw_len - op || len > n - ip) return fail();
      reserve(op + len);
      auto* o = reinterpret_cast<unsigned char*>(out->data() + base);
      for (std::size_t i = 0; i < len; ++i) o[op++] = in[ip++];
      continue;
    }
    std::size_t len = ctrl >> 5;
    if (ip >= n) return fail();
    if (len == 7) {
      len += in[ip++];
      if (ip >= n) return fail();
    }
    const std::size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
    len += 2;
    if (back > op || len > raw_len - op) return fail();
    reserve(op + len);
    auto* o = reinterpret_cast<unsigned char*>(out->data() + base);
    // Byte by byte: a reference may overlap the bytes it produces (a run).
    for (std::size_t i = 0; i < len; ++i, ++op) o[op] = o[op - back];
  }
  if (op != raw_len) return fail();
  out->resize(base + raw_len);
  return true;
}

}  // namespace dynakv::rdb
