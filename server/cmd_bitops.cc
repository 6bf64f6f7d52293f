// Bitmap commands (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
// A bitmap is a plain string value; bit 0 is the most significant bit of its first byte, and a
// string reads as zero bits past its end. Replies and errors, and the order in which arguments
// and keys are checked, are Redis 7.0's.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ascii.h"
#include "bit_ops.h"
#include "command.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "server.h"
#include "string_value.h"

namespace dynakv::server {

namespace {

constexpr std::string_view kErrBitOffset = "ERR bit offset is not an integer or out of range";
constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";
constexpr std::string_view kErrBitfieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";

// Redis's getBitOffsetFromArgument: a bit offset below proto-max-bulk-len bytes. With `bits`
// > 0 (BITFIELD) "#n" means n * bits.
bool ParseBitOffset(CommandContext& ctx, std::string_view arg, int bits, std::uint64_t* offset) {
  const bool multiple = bits > 0 && !arg.empty() && arg[0] == '#';
  long long value = 0;
  if (!ParseLongLong(multiple ? arg.substr(1) : arg, &value)) {
    ctx.reply.Error(kErrBitOffset);
    return false;
  }
  // Multiplied as Redis's 64-bit arithmetic does: a product that wraps negative is refused.
  if (multiple) {
    value = static_cast<long long>(static_cast<unsigned long long>(value) *
                                   static_cast<unsigned long long>(bits));
  }
  if (value < 0 || (value >> 3) >= ctx.server.config().proto_max_bulk_len) {
    ctx.reply.Error(kErrBitOffset);
    return false;
  }
  *offset = static_cast<std::uint64_t>(value);
  return true;
}

bool ParseIntegerArg(CommandContext& ctx, std::string_view arg, long long* value) {
  if (ParseLongLong(arg, value)) return true;
  ctx.reply.Error(kErrNotInteger);
  return false;
}

// The [start end [BIT|BYTE]] range of BITCOUNT and BITPOS once parsed: byte offsets into the
// string and, for BIT ranges, masks of the edge bits outside the range.
struct BitRange {
  long long start = 0;
  long long end = 0;
  std::uint8_t first_byte_neg_mask = 0;
  std::uint8_t last_byte_neg_mask = 0;
};

// Redis's conversion of a range against a string of `len` bytes (negative offsets count from
// the end; BIT offsets are turned into bytes and edge masks).
BitRange ResolveRange(long long start, long long end, long long len, bool isbit) {
  BitRange range;
  long long total = isbit ? len << 3 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (isbit && start <= end) {
    range.first_byte_neg_mask = static_cast<std::uint8_t>(~((1 << (8 - (start & 7))) - 1) & 0xff);
    range.last_byte_neg_mask = static_cast<std::uint8_t>((1 << (7 - (end & 7))) - 1);
    start >>= 3;
    end >>= 3;
  }
  range.start = start;
  range.end = end;
  return range;
}

// BIT or BYTE; a syntax error otherwise.
bool ParseRangeUnit(CommandContext& ctx, std::string_view arg, bool* isbit) {
  if (EqualsIgnoreCase(arg, "bit")) {
    *isbit = true;
  } else if (EqualsIgnoreCase(arg, "byte")) {
    *isbit = false;
  } else {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  return true;
}

const std::uint8_t* Bytes(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

void SetBitCommand(CommandContext& ctx) {
  std::uint64_t offset = 0;
  if (!ParseBitOffset(ctx, ctx.argv[2], 0, &offset)) return;
  long long on = 0;
  if (!ParseLongLong(ctx.argv[3], &on) || (on & ~1LL) != 0) {
    ctx.reply.Error(kErrBitValue);
    return;
  }
  // Only the byte that changes is written (and logged), whatever the bitmap's size.
  std::optional<StringView> current;
  if (!PeekString(ctx, ctx.argv[1], &current)) return;
  StringPatch value(current ? current->bytes() : std::string_view());
  const std::uint64_t byte = offset >> 3;
  const bool grew = !current || value.size() < byte + 1;
  const int shift = 7 - static_cast<int>(offset & 7);
  const std::uint8_t target = value.At(byte);
  const int old_bit = (target >> shift) & 1;
  if (grew || old_bit != on) {
    value.Set(byte, static_cast<std::uint8_t>((target & ~(1 << shift)) | (on << shift)));
    if (!value.Store(ctx, ctx.argv[1])) return;
    NotifyKeyspaceEvent(ctx, kNotifyString, "setbit", ctx.argv[1]);
  } else {
    ctx.keyspace.MarkStringRaw(ctx.argv[1]);  // Redis unshares it all the same
  }
  ctx.reply.Integer(old_bit);
}

void GetBitCommand(CommandContext& ctx) {
  std::uint64_t offset = 0;
  if (!ParseBitOffset(ctx, ctx.argv[2], 0, &offset)) return;
  std::optional<StringView> value;
  if (!ReadString(ctx, ctx.argv[1], &value)) return;
  int bit = 0;
  const std::uint64_t byte = offset >> 3;
  if (value && byte < value->bytes().size()) {
    bit = (Bytes(value->bytes())[byte] >> (7 - (offset & 7))) & 1;
  }
  ctx.reply.Integer(bit);
}

void BitCountCommand(CommandContext& ctx) {
  // Redis 7.0 looks the key up first: a missing key counts 0 whatever the other arguments.
  std::optional<StringView> value;
  if (!ReadString(ctx, ctx.argv[1], &value)) return;
  if (!value) {
    ctx.reply.Integer(0);
    return;
  }
  const std::string_view bytes = value->bytes();
  const auto len = static_cast<long long>(bytes.size());
  BitRange range;
  const std::size_t argc = ctx.argv.size();
  if (argc == 4 || argc == 5) {
    long long start = 0;
    long long end = 0;
    if (!ParseIntegerArg(ctx, ctx.argv[2], &start) || !ParseIntegerArg(ctx, ctx.argv[3], &end)) {
      return;
    }
    if (start < 0 && end < 0 && start > end) {
      ctx.reply.Integer(0);
      return;
    }
    bool isbit = false;
    if (argc == 5 && !ParseRangeUnit(ctx, ctx.argv[4], &isbit)) return;
    range = ResolveRange(start, end, len, isbit);
  } else if (argc == 2) {
    range.end = len - 1;
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (range.start > range.end) {
    ctx.reply.Integer(0);
    return;
  }
  const std::uint8_t* p = Bytes(bytes);
  auto count = static_cast<long long>(
      PopCount(p + range.start, static_cast<std::size_t>(range.end - range.start + 1)));
  // The edge bytes' bits outside a BIT range were counted: take them off again.
  if (range.first_byte_neg_mask != 0) {
    count -= static_cast<long long>(
        std::popcount<std::uint8_t>(p[range.start] & range.first_byte_neg_mask));
  }
  if (range.last_byte_neg_mask != 0) {
    count -= static_cast<long long>(
        std::popcount<std::uint8_t>(p[range.end] & range.last_byte_neg_mask));
  }
  ctx.reply.Integer(count);
}

void BitPosCommand(CommandContext& ctx) {
  long long bit = 0;
  if (!ParseIntegerArg(ctx, ctx.argv[2], &bit)) return;
  if (bit != 0 && bit != 1) {
    ctx.reply.Error("ERR The bit argument must be 1 or 0.");
    return;
  }
  // A missing key is an endless run of zero bits (Redis 7.0 answers before reading the range).
  std::optional<StringView> value;
  if (!ReadString(ctx, ctx.argv[1], &value)) return;
  if (!value) {
    ctx.reply.Integer(bit ? -1 : 0);
    return;
  }
  const std::string_view bytes = value->bytes();
  const auto len = static_cast<long long>(bytes.size());
  const std::size_t argc = ctx.argv.size();
  BitRange range;
  bool end_given = false;
  if (argc >= 4 && argc <= 6) {
    long long start = 0;
    long long end = 0;
    if (!ParseIntegerArg(ctx, ctx.argv[3], &start)) return;
    bool isbit = false;
    if (argc == 6 && !ParseRangeUnit(ctx, ctx.argv[5], &isbit)) return;
    if (argc >= 5) {
      if (!ParseIntegerArg(ctx, ctx.argv[4], &end)) return;
      end_given = true;
    } else {
      end = isbit ? (len << 3) + 7 : len - 1;
    }
    range = ResolveRange(start, end, len, isbit);
  } else if (argc == 3) {
    range.end = len - 1;
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (range.start > range.end) {  // an empty range holds neither a 0 nor a 1
    ctx.reply.Integer(-1);
    return;
  }
  // Redis's three-part search: the first byte under its mask, the whole bytes, the last byte
  // under its mask; `start` and `bytes` track the part searched last, as `pos` is relative to it.
  const std::uint8_t* p = Bytes(bytes);
  long long start = range.start;
  long long count = range.end - range.start + 1;
  long long pos = -1;
  const int b = static_cast<int>(bit);
  auto masked = [b](std::uint8_t byte, std::uint8_t neg_mask) {
    return static_cast<std::uint8_t>(b ? byte & ~neg_mask : byte | neg_mask);
  };
  bool done = false;
  if (range.first_byte_neg_mask != 0) {
    std::uint8_t first = masked(p[start], range.first_byte_neg_mask);
    if (range.last_byte_neg_mask != 0 && count == 1)
      first = masked(first, range.last_byte_neg_mask);
    pos = BitPos(&first, 1, b);
    if (count == 1 || (pos != -1 && pos != 8)) {
      done = true;
    } else {
      ++start;
      --count;
    }
  }
  if (!done) {
    const long long whole = count - (range.last_byte_neg_mask != 0 ? 1 : 0);
    if (whole > 0) {
      pos = BitPos(p + start, static_cast<std::size_t>(whole), b);
      if (count == whole || (pos != -1 && pos != whole << 3)) {
        done = true;
      } else {
        start += whole;
        count -= whole;
      }
    }
  }
  if (!done) {
    const std::uint8_t last = masked(p[range.end], range.last_byte_neg_mask);
    pos = BitPos(&last, 1, b);
  }
  // With an explicit end the bits past the range are not zero padding: no clear bit was found.
  if (end_given && b == 0 && pos == count << 3) {
    ctx.reply.Integer(-1);
    return;
  }
  if (pos != -1) pos += start << 3;
  ctx.reply.Integer(pos);
}

enum class BitOp { kAnd, kOr, kXor, kNot };

void BitOpCommand(CommandContext& ctx) {
  const std::string_view name = ctx.argv[1];
  BitOp op;
  if (EqualsIgnoreCase(name, "and")) {
    op = BitOp::kAnd;
  } else if (EqualsIgnoreCase(name, "or")) {
    op = BitOp::kOr;
  } else if (EqualsIgnoreCase(name, "xor")) {
    op = BitOp::kXor;
  } else if (EqualsIgnoreCase(name, "not")) {
    op = BitOp::kNot;
  } else {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (op == BitOp::kNot && ctx.argv.size() != 4) {
    ctx.reply.Error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  // Missing keys are empty strings; a shorter string is padded with zero bytes.
  std::vector<std::string> sources;
  sources.reserve(ctx.argv.size() - 3);
  std::size_t maxlen = 0;
  for (std::size_t i = 3; i < ctx.argv.size(); ++i) {
    std::optional<StringView> value;
    if (!ReadString(ctx, ctx.argv[i], &value)) return;
    sources.emplace_back(value ? std::string(value->bytes()) : std::string());
    maxlen = std::max(maxlen, sources.back().size());
  }
  const std::string_view dest = ctx.argv[2];
  if (maxlen == 0) {  // the result is empty: the destination is deleted
    if (ctx.keyspace.Delete(dest)) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", dest);
    ctx.reply.Integer(0);
    return;
  }
  std::string result(maxlen, '\0');
  for (std::size_t j = 0; j < maxlen; ++j) {
    auto byte_of = [&](std::size_t i) -> std::uint8_t {
      return j < sources[i].size() ? static_cast<std::uint8_t>(sources[i][j]) : 0;
    };
    std::uint8_t out = byte_of(0);
    if (op == BitOp::kNot) out = static_cast<std::uint8_t>(~out);
    for (std::size_t i = 1; i < sources.size(); ++i) {
      switch (op) {
        case BitOp::kAnd:
          out &= byte_of(i);
          break;
        case BitOp::kOr:
          out |= byte_of(i);
          break;
        case BitOp::kXor:
          out ^= byte_of(i);
          break;
        case BitOp::kNot:
          break;
      }
    }
    result[j] = static_cast<char>(out);
  }
  // Like SET: the destination loses any expiry. Redis makes it a raw object, however short.
  if (!WriteOk(ctx, ctx.keyspace.PutString(dest, result, 0, kStringRaw))) return;
  NotifyKeyspaceEvent(ctx, kNotifyString, "set", dest);
  ctx.reply.Integer(static_cast<long long>(maxlen));
}

enum class FieldOpcode { kGet, kSet, kIncrBy };

struct FieldOp {
  std::uint64_t offset;
  std::int64_t value;  // SET's value or INCRBY's increment
  FieldOpcode opcode;
  BitfieldOverflow overflow;
  int bits;
  bool is_signed;
};

// Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63.
bool ParseBitfieldType(CommandContext& ctx, std::string_view arg, bool* is_signed, int* bits) {
  long long n = 0;
  // The digits end at a NUL byte, as in Redis's C string view of the argument.
  std::string_view digits = arg.empty() ? arg : arg.substr(1);
  digits = digits.substr(0, digits.find('\0'));
  const bool ok = !arg.empty() && (arg[0] == 'i' || arg[0] == 'u') && ParseLongLong(digits, &n) &&
                  n >= 1 && n <= (arg[0] == 'i' ? 64 : 63);
  if (!ok) {
    ctx.reply.Error(kErrBitfieldType);
    return false;
  }
  *is_signed = arg[0] == 'i';
  *bits = static_cast<int>(n);
  return true;
}

void BitfieldGeneric(CommandContext& ctx, bool readonly_command) {
  std::vector<FieldOp> ops;
  BitfieldOverflow overflow = BitfieldOverflow::kWrap;
  bool readonly = true;
  std::uint64_t highest_write_offset = 0;
  const std::size_t argc = ctx.argv.size();
  for (std::size_t j = 2; j < argc; ++j) {
    const std::size_t remaining = argc - j - 1;
    const std::string_view sub = ctx.argv[j];
    FieldOpcode opcode;
    if (EqualsIgnoreCase(sub, "get") && remaining >= 2) {
      opcode = FieldOpcode::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && remaining >= 3) {
      opcode = FieldOpcode::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && remaining >= 3) {
      opcode = FieldOpcode::kIncrBy;
    } else if (EqualsIgnoreCase(sub, "overflow") && remaining >= 1) {
      const std::string_view how = ctx.argv[++j];
      if (EqualsIgnoreCase(how, "wrap")) {
        overflow = BitfieldOverflow::kWrap;
      } else if (EqualsIgnoreCase(how, "sat")) {
        overflow = BitfieldOverflow::kSat;
      } else if (EqualsIgnoreCase(how, "fail")) {
        overflow = BitfieldOverflow::kFail;
      } else {
        ctx.reply.Error("ERR Invalid OVERFLOW type specified");
        return;
      }
      continue;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
    FieldOp op{0, 0, opcode, overflow, 0, false};
    if (!ParseBitfieldType(ctx, ctx.argv[j + 1], &op.is_signed, &op.bits)) return;
    if (!ParseBitOffset(ctx, ctx.argv[j + 2], op.bits, &op.offset)) return;
    if (opcode != FieldOpcode::kGet) {
      readonly = false;
      highest_write_offset =
          std::max(highest_write_offset, op.offset + static_cast<std::uint64_t>(op.bits) - 1);
      long long value = 0;
      if (!ParseIntegerArg(ctx, ctx.argv[j + 3], &value)) return;
      op.value = value;
    }
    ops.push_back(op);
    j += opcode == FieldOpcode::kGet ? 2 : 3;
  }

  const std::string_view key = ctx.argv[1];
  std::optional<StringView> view;
  if (readonly) {
    if (!ReadString(ctx, key, &view)) return;
  } else {
    if (readonly_command) {
      ctx.reply.Error("ERR BITFIELD_RO only supports the GET subcommand");
      return;
    }
    if (!PeekString(ctx, key, &view)) return;
  }
  // Writes go to a patch: only the bytes they change are stored (and logged).
  StringPatch value(view ? view->bytes() : std::string_view());
  bool changed = false;
  if (!readonly) {
    const std::uint64_t needed = (highest_write_offset >> 3) + 1;
    if (!view || value.size() < needed) {
      changed = true;  // created or grown: stored even when no field changes
      value.GrowTo(needed);
    }
  }

  // The replies wait for the store: a refused write answers with its error alone.
  std::vector<std::optional<long long>> replies;
  replies.reserve(ops.size());
  for (const FieldOp& op : ops) {
    // The up to 9 bytes the field touches, zero past the string's end; `bit` is its offset in them.
    std::uint8_t buf[9] = {};
    const std::uint64_t byte = op.offset >> 3;
    for (std::uint64_t i = 0; i < 9; ++i) buf[i] = value.At(byte + i);
    const std::uint64_t bit = op.offset - byte * 8;
    if (op.opcode == FieldOpcode::kGet) {
      if (op.is_signed) {
        replies.emplace_back(GetSignedBitfield(buf, bit, op.bits));
      } else {
        replies.emplace_back(static_cast<long long>(GetUnsignedBitfield(buf, bit, op.bits)));
      }
      continue;
    }
    const BitfieldWrite write = WriteBitfield(
        buf, bit, op.bits, op.is_signed, op.opcode == FieldOpcode::kIncrBy, op.value, op.overflow);
    replies.push_back(write.reply);
    if (write.changed) {
      changed = true;
      for (std::uint64_t i = 0; i * 8 < bit + static_cast<std::uint64_t>(op.bits); ++i) {
        value.Set(byte + i, buf[i]);
      }
    }
  }
  if (changed) {
    if (!value.Store(ctx, key)) return;
    NotifyKeyspaceEvent(ctx, kNotifyString, "setbit", key);
  } else if (!readonly) {
    ctx.keyspace.MarkStringRaw(key);  // Redis unshares it for the writes all the same
  }
  ctx.reply.ArrayHeader(replies.size());
  for (const std::optional<long long>& reply : replies) {
    if (reply) {
      ctx.reply.Integer(*reply);
    } else {
      ctx.reply.Null();
    }
  }
}

void BitfieldCommand(CommandContext& ctx) { BitfieldGeneric(ctx, false); }
void BitfieldRoCommand(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

// Redis's bitfieldGetKeys: the key is only read when every operation is a GET (with its two
// arguments) or OVERFLOW (with one); anything else, a syntax error too, counts as a write.
int BitfieldGetKeys(const std::vector<std::string_view>& argv, std::vector<KeyRef>* keys) {
  bool readonly = true;
  for (std::size_t i = 2; i < argv.size() && readonly; ++i) {
    const std::size_t rest = argv.size() - i - 1;
    if (EqualsIgnoreCase(argv[i], "get") && rest >= 2) {
      i += 2;
    } else if (EqualsIgnoreCase(argv[i], "overflow") && rest >= 1) {
      i += 1;
    } else {
      readonly = false;  // SET, INCRBY, or a syntax error: assume a write, as Redis does
    }
  }
  const std::uint16_t flags = readonly ? kKeyRO | kKeyAccess : kKeyRW | kKeyAccess | kKeyUpdate;
  keys->assign(1, KeyRef{1, flags});
  return 1;
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// clang-format off
constexpr CommandSpec kBitmapCommands[] = {
    {.name = "setbit", .arity = 4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .handler = SetBitCommand},
    {.name = "getbit", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = GetBitCommand},
    {.name = "bitcount", .arity = -2, .flags = kCmdReadOnly, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = BitCountCommand},
    {.name = "bitpos", .arity = -3, .flags = kCmdReadOnly, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = BitPosCommand},
    // The destination is written (OW), the sources read.
    {.name = "bitop", .arity = -4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclBitmap,
     .keys = {KeyAt(2, kKeyOW | kKeyUpdate), IndexRange(3, -1, 1, 0, kKeyRO | kKeyAccess)},
     .handler = BitOpCommand},
    {.name = "bitfield", .arity = -2, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate | kKeyVariableFlags,
                    "This command allows both access and modification of the key")},
     .getkeys = BitfieldGetKeys, .handler = BitfieldCommand},
    {.name = "bitfield_ro", .arity = -2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclBitmap,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = BitfieldRoCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> BitmapCommands() { return kBitmapCommands; }

}  // namespace dynakv::server
