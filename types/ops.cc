#include "types/ops.h"

#include <cmath>
#include <cstring>

namespace dynakv::types {

void PutVarint(std::string* dst, std::uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (unsigned shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* out) {
  std::uint64_t len;
  if (!GetVarint(in, &len) || len > in->size()) return false;
  *out = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

bool OpChangedNothing(std::string_view op, std::int64_t result) {
  if (op.empty() || result != 0) return false;
  switch (static_cast<OpCode>(op.front())) {
    case OpCode::kHashDel:
    case OpCode::kSetAdd:
    case OpCode::kSetRem:
    case OpCode::kListRemove:
    case OpCode::kListPopFront:
    case OpCode::kListPopBack:
    case OpCode::kZsetRem:
      return true;
    default:
      return false;
  }
}

OpBuilder::OpBuilder(OpCode code, std::size_t args) {
  op_.push_back(static_cast<char>(code));
  PutVarint(&op_, args);
}

OpBuilder& OpBuilder::Add(std::string_view arg) {
  PutVarint(&op_, arg.size());
  op_.append(arg);
  return *this;
}

bool ParseOp(std::string_view op, Op* out) {
  if (op.empty()) return false;
  out->code = static_cast<OpCode>(op.front());
  op.remove_prefix(1);
  std::uint64_t n;
  if (!GetVarint(&op, &n) || n > op.size()) return false;  // each argument takes a byte at least
  out->args.clear();
  out->args.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view arg;
    if (!GetLengthPrefixed(&op, &arg)) return false;
    out->args.push_back(arg);
  }
  return op.empty();
}

std::string EncodeScoreArg(double score) {
  std::uint64_t bits;
  std::memcpy(&bits, &score, sizeof(bits));
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(bits >> (8 * i));
  return out;
}

bool DecodeScoreArg(std::string_view arg, double* score) {
  if (arg.size() != 8) return false;
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) {
    bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(arg[i])) << (8 * i);
  }
  std::memcpy(score, &bits, sizeof(*score));
  return !std::isnan(*score);
}

}  // namespace dynakv::types
