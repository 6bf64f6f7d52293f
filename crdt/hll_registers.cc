#include "crdt/hll_registers.h"

#include <algorithm>
#include <cstring>

#include "crdt/hyperloglog.h"

namespace dynakv::crdt {

namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kBits = 6;
using hll::kDense;
using hll::kHeaderSize;
using hll::kSparse;
constexpr std::size_t kDenseBytes = (HllRegisters::kRegisters * kBits) / 8;
constexpr std::size_t kEncodingAt = 4;
constexpr std::size_t kCardAt = 8;
constexpr int kMaxPattern = kQ + 1;  // the longest run PatternOf yields
constexpr int kSparseValMax = 32;
constexpr int kSparseValRun = 4;
constexpr int kSparseZeroRun = 64;
constexpr int kSparseXZeroRun = 16384;

std::string Header(std::uint8_t encoding) {
  std::string out(kHeaderSize, '\0');
  std::memcpy(out.data(), "HYLL", 4);
  out[kEncodingAt] = static_cast<char>(encoding);
  out[kCardAt + 7] = static_cast<char>(0x80);  // cache stale
  return out;
}

}  // namespace

void HllRegisters::PatternOf(std::string_view element, int* index, std::uint8_t* count) {
  hll::PatternOf(element, index, count);
}

HllRegisters HllRegisters::Add(std::string_view element) {
  HllRegisters delta;
  int index;
  std::uint8_t count;
  PatternOf(element, &index, &count);
  if (count > registers_[index]) {
    registers_[index] = count;
    delta.registers_[index] = count;
  }
  return delta;
}

void HllRegisters::Join(const HllRegisters& other) {
  for (int i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

HllRegisters HllRegisters::FromRegisters(const std::uint8_t* registers) {
  HllRegisters hll;
  for (int i = 0; i < kRegisters; ++i) hll.registers_[i] = registers[i] & 63;
  return hll;
}

void HllRegisters::CopyTo(std::uint8_t* registers) const {
  std::copy(registers_.begin(), registers_.end(), registers);
}

bool HllRegisters::IsZero() const {
  return std::all_of(registers_.begin(), registers_.end(), [](auto r) { return r == 0; });
}

std::uint64_t HllRegisters::Count() const { return hll::CountRaw(registers_.data()); }

// Redis's own checks (magic, encoding, a dense body's size), then every register: the max into
// all-zero registers is the registers themselves. A sparse body must cover exactly 16384.
bool HllRegisters::FromRedis(std::string_view bytes, HllRegisters* hll) {
  *hll = HllRegisters();
  return hll::LooksValid(bytes) && hll::MergeInto(hll->registers_.data(), bytes);
}

std::string HllRegisters::ToRedis() const {
  const bool fits_sparse =
      std::all_of(registers_.begin(), registers_.end(), [](auto r) { return r <= kSparseValMax; });
  if (fits_sparse) {
    std::string out = Header(kSparse);
    for (int i = 0; i < kRegisters && out.size() <= kSparseMaxBytes;) {
      const std::uint8_t v = registers_[i];
      int run = 1;
      while (i + run < kRegisters && registers_[i + run] == v) ++run;
      i += run;
      while (run > 0) {
        if (v != 0) {
          const int n = std::min(run, kSparseValRun);
          out.push_back(static_cast<char>(0x80 | ((v - 1) << 2) | (n - 1)));
          run -= n;
        } else if (run > kSparseZeroRun) {
          const int n = std::min(run, kSparseXZeroRun) - 1;
          out.push_back(static_cast<char>(0x40 | (n >> 8)));
          out.push_back(static_cast<char>(n & 0xff));
          run -= n + 1;
        } else {
          out.push_back(static_cast<char>(run - 1));
          run = 0;
        }
      }
    }
    if (out.size() <= kSparseMaxBytes) return out;
  }
  std::string out = Header(kDense);
  out.resize(kHeaderSize + kDenseBytes, '\0');
  auto* p = reinterpret_cast<std::uint8_t*>(out.data()) + kHeaderSize;
  for (int i = 0; i < kRegisters; ++i) {
    const std::size_t byte = static_cast<std::size_t>(i) * kBits / 8;
    const unsigned fb = static_cast<unsigned>(i * kBits) & 7;
    const unsigned v = registers_[i];
    p[byte] = static_cast<std::uint8_t>(p[byte] | (v << fb));
    if (byte + 1 < kDenseBytes)
      p[byte + 1] = static_cast<std::uint8_t>(p[byte + 1] | (v >> (8 - fb)));
  }
  return out;
}

bool HllRegisters::Decode(std::string_view bytes, HllRegisters* hll) {
  if (!FromRedis(bytes, hll)) return false;
  const bool in_range = std::all_of(hll->registers_.begin(), hll->registers_.end(),
                                    [](auto r) { return r <= kMaxPattern; });
  return in_range && hll->ToRedis() == bytes;
}

bool JoinRedisHll(std::string_view a, std::string_view b, std::string* out) {
  HllRegisters x, y;
  if (!HllRegisters::FromRedis(a, &x) || !HllRegisters::FromRedis(b, &y)) return false;
  x.Join(y);
  *out = x.ToRedis();
  return true;
}

}  // namespace dynakv::crdt
