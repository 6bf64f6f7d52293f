#include "crdt/hyperloglog.h"

#include <cmath>
#include <cstring>

namespace dynakv::crdt::hll {

namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kBits = 6;
constexpr unsigned kRegisterMax = (1u << kBits) - 1;
constexpr std::uint64_t kSeed = 0xadc83b19ULL;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

constexpr int kSparseValMaxValue = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXZeroMaxLen = 16384;

// Header fields.
constexpr std::size_t kEncodingAt = 4;
constexpr std::size_t kCardAt = 8;

// --- dense registers (p points at the first register byte, `size` bytes follow) -------------

unsigned DenseGet(const std::uint8_t* p, std::size_t size, int index) {
  const std::size_t byte = static_cast<std::size_t>(index) * kBits / 8;
  const unsigned fb = static_cast<unsigned>(index * kBits) & 7;
  const unsigned b0 = p[byte];
  const unsigned b1 = byte + 1 < size ? p[byte + 1] : 0;  // Redis reads sds's NUL here
  return ((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax;
}

void DenseSet(std::uint8_t* p, std::size_t size, int index, unsigned value) {
  const std::size_t byte = static_cast<std::size_t>(index) * kBits / 8;
  const unsigned fb = static_cast<unsigned>(index * kBits) & 7;
  const unsigned fb8 = 8 - fb;
  p[byte] = static_cast<std::uint8_t>((p[byte] & ~(kRegisterMax << fb)) | (value << fb));
  if (byte + 1 < size) {
    p[byte + 1] =
        static_cast<std::uint8_t>((p[byte + 1] & ~(kRegisterMax >> fb8)) | (value >> fb8));
  }
}

// --- sparse opcodes -------------------------------------------------------------------------

bool IsZero(std::uint8_t op) { return (op & 0xc0) == 0; }
bool IsXZero(std::uint8_t op) { return (op & 0xc0) == 0x40; }
bool IsVal(std::uint8_t op) { return (op & 0x80) != 0; }
int ZeroLen(std::uint8_t op) { return (op & 0x3f) + 1; }
int XZeroLen(std::uint8_t op, std::uint8_t next) { return (((op & 0x3f) << 8) | next) + 1; }
int ValValue(std::uint8_t op) { return ((op >> 2) & 0x1f) + 1; }
int ValLen(std::uint8_t op) { return (op & 0x3) + 1; }
std::uint8_t ValOp(int value, int len) {
  return static_cast<std::uint8_t>(((value - 1) << 2) | (len - 1) | 0x80);
}
std::uint8_t ZeroOp(int len) { return static_cast<std::uint8_t>(len - 1); }
void XZeroOp(std::uint8_t* out, int len) {
  const int l = len - 1;
  out[0] = static_cast<std::uint8_t>((l >> 8) | 0x40);
  out[1] = static_cast<std::uint8_t>(l & 0xff);
}

std::uint8_t* Data(std::string* s) { return reinterpret_cast<std::uint8_t*>(s->data()); }
const std::uint8_t* Data(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// Walks a sparse body, calling run(first_register, length, value) for each opcode; false when
// the runs do not cover exactly every register.
template <typename Run>
bool WalkSparse(std::string_view hll, Run run) {
  const std::uint8_t* p = Data(hll) + kHeaderSize;
  const std::uint8_t* end = Data(hll) + hll.size();
  int idx = 0;
  while (p < end) {
    int len;
    int value = 0;
    if (IsZero(*p)) {
      len = ZeroLen(*p);
      ++p;
    } else if (IsXZero(*p)) {
      if (p + 1 >= end) return false;
      len = XZeroLen(p[0], p[1]);
      p += 2;
    } else {
      len = ValLen(*p);
      value = ValValue(*p);
      ++p;
    }
    if (idx + len > kRegisters) return false;
    run(idx, len, value);
    idx += len;
  }
  return idx == kRegisters;
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

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches", as Redis computes it
// (the same operations in the same order, so the same rounding).
std::uint64_t Estimate(const int* histogram) {
  const double m = kRegisters;
  double z = m * Tau((m - histogram[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histogram[j];
    z *= 0.5;
  }
  z += m * Sigma(histogram[0] / m);
  return static_cast<std::uint64_t>(llroundl(kAlphaInf * m * m / z));
}

int DenseSetIfLarger(std::string* hll, int index, std::uint8_t count) {
  std::uint8_t* registers = Data(hll) + kHeaderSize;
  const std::size_t size = hll->size() - kHeaderSize;
  if (count <= DenseGet(registers, size, index)) return 0;
  DenseSet(registers, size, index, count);
  return 1;
}

// Redis's hllSparseSet, on offsets into the string instead of pointers.
int SparseSet(std::string* hll, int index, std::uint8_t count, std::size_t sparse_max_bytes) {
  if (count > kSparseValMaxValue) {
    if (!SparseToDense(hll)) return -1;
    return DenseSetIfLarger(hll, index, count);
  }
  // Step 1: the opcode covering `index`.
  const std::size_t sparse = kHeaderSize;
  std::size_t end = hll->size();
  std::size_t p = sparse;
  std::size_t prev = 0;
  bool has_prev = false;
  long first = 0;
  long span = 0;
  const std::uint8_t* d = Data(hll);
  while (p < end) {
    std::size_t oplen = 1;
    if (IsZero(d[p])) {
      span = ZeroLen(d[p]);
    } else if (IsVal(d[p])) {
      span = ValLen(d[p]);
    } else {
      if (p + 1 >= end) return -1;
      span = XZeroLen(d[p], d[p + 1]);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    has_prev = true;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;  // the runs end before `index`: corrupt

  const bool is_xzero = IsXZero(d[p]);
  const bool is_zero = IsZero(d[p]);
  const bool is_val = !is_xzero && !is_zero;
  const std::size_t oldlen = is_xzero ? 2 : 1;
  const long runlen = span;

  // Step 2: the cases that need no split.
  bool split = true;
  if (is_val) {
    if (ValValue(d[p]) >= count) return 0;
    if (runlen == 1) {
      Data(hll)[p] = ValOp(count, 1);
      split = false;
    }
  }
  if (split && is_zero && runlen == 1) {
    Data(hll)[p] = ValOp(count, 1);
    split = false;
  }

  if (split) {
    // The general case: the opcode becomes up to three (XZERO-VAL-XZERO at worst, 5 bytes).
    std::uint8_t seq[5];
    std::size_t n = 0;
    const long last = first + span - 1;
    if (is_zero || is_xzero) {
      auto zeros = [&](long len) {
        if (len > kSparseZeroMaxLen) {
          XZeroOp(seq + n, static_cast<int>(len));
          n += 2;
        } else {
          seq[n++] = ZeroOp(static_cast<int>(len));
        }
      };
      if (index != first) zeros(index - first);
      seq[n++] = ValOp(count, 1);
      if (index != last) zeros(last - index);
    } else {
      const int current = ValValue(d[p]);
      if (index != first) seq[n++] = ValOp(current, static_cast<int>(index - first));
      seq[n++] = ValOp(count, 1);
      if (index != last) seq[n++] = ValOp(current, static_cast<int>(last - index));
    }
    // Step 3: the new sequence replaces the opcode, unless the HLL would outgrow the limit.
    const long delta = static_cast<long>(n) - static_cast<long>(oldlen);
    if (delta > 0 && hll->size() + static_cast<std::size_t>(delta) > sparse_max_bytes) {
      if (!SparseToDense(hll)) return -1;
      return DenseSetIfLarger(hll, index, count);
    }
    hll->replace(p, oldlen, reinterpret_cast<const char*>(seq), n);
    end = hll->size();
  }

  // Step 4: merge adjacent VAL opcodes of the same value, scanning up to 5 opcodes from the
  // one before the change.
  std::uint8_t* q = Data(hll);
  std::size_t at = has_prev ? prev : sparse;
  int scanlen = 5;
  while (at < end && scanlen--) {
    if (IsXZero(q[at])) {
      at += 2;
      continue;
    }
    if (IsZero(q[at])) {
      ++at;
      continue;
    }
    if (at + 1 < end && IsVal(q[at + 1])) {
      const int v1 = ValValue(q[at]);
      const int v2 = ValValue(q[at + 1]);
      if (v1 == v2) {
        const int len = ValLen(q[at]) + ValLen(q[at + 1]);
        if (len <= kSparseValMaxLen) {
          q[at + 1] = ValOp(v1, len);
          hll->erase(at, 1);
          q = Data(hll);
          --end;
          continue;  // the merged opcode may merge with the next one too
        }
      }
    }
    ++at;
  }
  InvalidateCache(hll);
  return 1;
}

}  // namespace

std::uint64_t MurmurHash64A(const void* key, int len, std::uint64_t seed) {
  const std::uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  std::uint64_t h = seed ^ (static_cast<std::uint64_t>(static_cast<std::int64_t>(len)) * m);
  const auto* data = static_cast<const std::uint8_t*>(key);
  const std::uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    std::uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];  // little endian on every host
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  switch (len & 7) {
    case 7:
      h ^= static_cast<std::uint64_t>(data[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<std::uint64_t>(data[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<std::uint64_t>(data[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<std::uint64_t>(data[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<std::uint64_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint64_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint64_t>(data[0]);
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

void PatternOf(std::string_view element, int* index, std::uint8_t* count) {
  std::uint64_t hash = MurmurHash64A(element.data(), static_cast<int>(element.size()), kSeed);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= std::uint64_t{1} << kQ;  // the run ends by bit Q at the latest: count <= Q + 1
  *count = static_cast<std::uint8_t>(1 + __builtin_ctzll(hash));
}

std::string NewSparse() {
  std::string hll(kHeaderSize + 2, '\0');
  std::memcpy(hll.data(), "HYLL", 4);
  hll[kEncodingAt] = static_cast<char>(kSparse);
  XZeroOp(Data(&hll) + kHeaderSize, kSparseXZeroMaxLen);
  return hll;
}

bool LooksValid(std::string_view value) {
  if (value.size() < kHeaderSize || value.substr(0, 4) != "HYLL") return false;
  const auto encoding = static_cast<std::uint8_t>(value[kEncodingAt]);
  if (encoding > kSparse) return false;
  return encoding != kDense || value.size() == kDenseSize;
}

std::uint8_t Encoding(std::string_view hll) { return static_cast<std::uint8_t>(hll[kEncodingAt]); }

bool CachedCardinality(std::string_view hll, std::uint64_t* card) {
  const std::uint8_t* c = Data(hll) + kCardAt;
  if (c[7] & 0x80) return false;
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | c[i];
  *card = value;
  return true;
}

void SetCachedCardinality(std::string* hll, std::uint64_t card) {
  std::uint8_t* c = Data(hll) + kCardAt;
  for (int i = 0; i < 8; ++i) c[i] = static_cast<std::uint8_t>((card >> (8 * i)) & 0xff);
}

void InvalidateCache(std::string* hll) { Data(hll)[kCardAt + 7] |= 0x80; }

int Set(std::string* hll, int index, std::uint8_t count, std::size_t sparse_max_bytes) {
  switch (Encoding(*hll)) {
    case kDense:
      return DenseSetIfLarger(hll, index, count);
    case kSparse:
      return SparseSet(hll, index, count, sparse_max_bytes);
    default:
      return -1;
  }
}

int Register(std::string_view hll, int index) {
  if (Encoding(hll) == kDense) {
    return static_cast<int>(DenseGet(Data(hll) + kHeaderSize, hll.size() - kHeaderSize, index));
  }
  int found = -1;
  WalkSparse(hll, [&](int first, int len, int value) {
    if (index >= first && index < first + len) found = value;
  });
  return found;
}

int Add(std::string* hll, std::string_view element, std::size_t sparse_max_bytes) {
  int index = 0;
  std::uint8_t count = 0;
  PatternOf(element, &index, &count);
  return Set(hll, index, count, sparse_max_bytes);
}

bool SparseToDense(std::string* hll) {
  if (Encoding(*hll) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), hll->data(), kHeaderSize);  // magic and cached cardinality
  dense[kEncodingAt] = static_cast<char>(kDense);
  std::uint8_t* registers = Data(&dense) + kHeaderSize;
  const std::size_t size = kDenseSize - kHeaderSize;
  const bool valid = WalkSparse(*hll, [&](int first, int len, int value) {
    if (value == 0) return;
    for (int i = 0; i < len; ++i)
      DenseSet(registers, size, first + i, static_cast<unsigned>(value));
  });
  if (!valid) return false;
  *hll = std::move(dense);
  return true;
}

bool MergeInto(std::uint8_t* max, std::string_view hll) {
  if (Encoding(hll) == kDense) {
    const std::uint8_t* registers = Data(hll) + kHeaderSize;
    const std::size_t size = hll.size() - kHeaderSize;
    for (int i = 0; i < kRegisters; ++i) {
      const auto value = static_cast<std::uint8_t>(DenseGet(registers, size, i));
      if (value > max[i]) max[i] = value;
    }
    return true;
  }
  return WalkSparse(hll, [&](int first, int len, int value) {
    for (int i = first; i < first + len; ++i) {
      if (value > max[i]) max[i] = static_cast<std::uint8_t>(value);
    }
  });
}

std::uint64_t Count(std::string_view hll, bool* invalid) {
  int histogram[64] = {};
  if (Encoding(hll) == kDense) {
    const std::uint8_t* registers = Data(hll) + kHeaderSize;
    const std::size_t size = hll.size() - kHeaderSize;
    for (int i = 0; i < kRegisters; ++i) ++histogram[DenseGet(registers, size, i)];
  } else if (!WalkSparse(hll, [&](int, int len, int value) { histogram[value] += len; })) {
    *invalid = true;
  }
  return Estimate(histogram);
}

std::uint64_t CountRaw(const std::uint8_t* registers) {
  int histogram[64] = {};
  for (int i = 0; i < kRegisters; ++i) ++histogram[registers[i] & 63];
  return Estimate(histogram);
}

}  // namespace dynakv::crdt::hll
