#include "crdt/hll_registers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dynakv::crdt {

namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kBits = 6;
constexpr std::uint64_t kSeed = 0xadc83b19ULL;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)
constexpr std::size_t kHeaderSize = 16;
constexpr std::size_t kDenseBytes = (HllRegisters::kRegisters * kBits) / 8;
constexpr std::size_t kEncodingAt = 4;
constexpr std::size_t kCardAt = 8;
constexpr std::uint8_t kDense = 0;
constexpr std::uint8_t kSparse = 1;
constexpr int kMaxPattern = kQ + 1;  // the longest run PatternOf yields
constexpr int kSparseValMax = 32;
constexpr int kSparseValRun = 4;
constexpr int kSparseZeroRun = 64;
constexpr int kSparseXZeroRun = 16384;

// Redis's MurmurHash64A (its endian-neutral variant), as server/hyperloglog.cc; crdt/ may not
// depend on server/, and the hash is part of the format.
std::uint64_t MurmurHash64A(const std::uint8_t* data, int len, std::uint64_t seed) {
  const std::uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  std::uint64_t h = seed ^ (static_cast<std::uint64_t>(static_cast<std::int64_t>(len)) * m);
  const std::uint8_t* end = data + (len - (len & 7));
  for (; data != end; data += 8) {
    std::uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const int rest = len & 7;
  if (rest > 0) {
    for (int i = rest - 1; i >= 0; --i) h ^= static_cast<std::uint64_t>(data[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

std::string Header(std::uint8_t encoding) {
  std::string out(kHeaderSize, '\0');
  std::memcpy(out.data(), "HYLL", 4);
  out[kEncodingAt] = static_cast<char>(encoding);
  out[kCardAt + 7] = static_cast<char>(0x80);  // cache stale
  return out;
}

}  // namespace

void HllRegisters::PatternOf(std::string_view element, int* index, std::uint8_t* count) {
  std::uint64_t hash = MurmurHash64A(reinterpret_cast<const std::uint8_t*>(element.data()),
                                     static_cast<int>(element.size()), kSeed);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= std::uint64_t{1} << kQ;
  *count = static_cast<std::uint8_t>(1 + __builtin_ctzll(hash));
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

// Ertl's improved estimator, the same operations in the same order as Redis (same rounding).
std::uint64_t HllRegisters::Count() const {
  int histogram[64] = {};
  for (std::uint8_t r : registers_) ++histogram[r & 63];
  const double m = kRegisters;
  double z = m * Tau((m - histogram[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histogram[j];
    z *= 0.5;
  }
  z += m * Sigma(histogram[0] / m);
  return static_cast<std::uint64_t>(llroundl(kAlphaInf * m * m / z));
}

bool HllRegisters::FromRedis(std::string_view bytes, HllRegisters* hll) {
  *hll = HllRegisters();
  if (bytes.size() < kHeaderSize || bytes.substr(0, 4) != "HYLL") return false;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data()) + kHeaderSize;
  const std::size_t size = bytes.size() - kHeaderSize;
  const auto encoding = static_cast<std::uint8_t>(bytes[kEncodingAt]);
  if (encoding == kDense) {
    if (size != kDenseBytes) return false;
    for (int i = 0; i < kRegisters; ++i) {
      const std::size_t byte = static_cast<std::size_t>(i) * kBits / 8;
      const unsigned fb = static_cast<unsigned>(i * kBits) & 7;
      const unsigned b1 = byte + 1 < size ? p[byte + 1] : 0;
      hll->registers_[i] = static_cast<std::uint8_t>(((p[byte] >> fb) | (b1 << (8 - fb))) & 63);
    }
    return true;
  }
  if (encoding != kSparse) return false;
  int idx = 0;
  for (std::size_t at = 0; at < size;) {
    const std::uint8_t op = p[at];
    int len;
    int value = 0;
    if ((op & 0xc0) == 0) {  // ZERO
      len = (op & 0x3f) + 1;
      at += 1;
    } else if ((op & 0xc0) == 0x40) {  // XZERO
      if (at + 1 >= size) return false;
      len = (((op & 0x3f) << 8) | p[at + 1]) + 1;
      at += 2;
    } else {  // VAL
      len = (op & 0x3) + 1;
      value = ((op >> 2) & 0x1f) + 1;
      at += 1;
    }
    if (idx + len > kRegisters) return false;
    for (int i = 0; i < len; ++i) hll->registers_[idx + i] = static_cast<std::uint8_t>(value);
    idx += len;
  }
  return idx == kRegisters;
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
