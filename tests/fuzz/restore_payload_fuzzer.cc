// Fuzzes RESTORE's payload decoding (rdb/): the DUMP footer (version, CRC-64) and the RDB value
// inside, every encoding Redis writes. Input: [mode byte] then bytes.
//   mode bit 0 clear: the bytes are a whole payload, as RESTORE receives it;
//   mode bit 0 set:   the bytes are a value (type byte and value), framed here with a valid
//                     footer, so the fuzzer reaches the value decoders past the checksum;
//   mode bit 1:       tiny compact-encoding limits (decoding converts as it builds).
// Besides not crashing (ASan, UBSan), checks: a decoded collection is never empty; encoding it
// again gives a value that decodes, to the same type and element count (the string itself).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "rdb/dump_payload.h"
#include "rdb/value.h"
#include "types/codec.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace {

std::size_t Elements(const dynakv::storage::ValueObject* object) {
  using namespace dynakv::types;
  if (const auto* h = dynamic_cast<const Hash*>(object)) return h->size();
  if (const auto* l = dynamic_cast<const List*>(object)) return l->size();
  if (const auto* s = dynamic_cast<const Set*>(object)) return s->size();
  if (const auto* z = dynamic_cast<const SortedSet*>(object)) return z->size();
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dynakv::fuzz::InputReader in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::string_view rest = in.Rest();
  dynakv::types::TypeLimits limits;
  if (mode & 2) {
    limits.hash_max_listpack_entries = 2;
    limits.hash_max_listpack_value = 4;
    limits.set_max_intset_entries = 2;
    limits.zset_max_listpack_entries = 2;
    limits.zset_max_listpack_value = 4;
    limits.list_max_listpack_size = 2;
  }
  std::string framed;
  std::string_view payload = rest;
  if (mode & 1) {
    framed = dynakv::rdb::MakeDumpPayload(rest);
    payload = framed;
  }
  std::string_view value;
  if (!dynakv::rdb::OpenDumpPayload(payload, &value)) return 0;
  dynakv::rdb::DecodedValue decoded;
  if (dynakv::rdb::DecodeTypedValue(&value, limits, &decoded) != dynakv::rdb::DecodeError::kNone) {
    return 0;
  }
  std::string again;
  dynakv::rdb::EncodeOptions options;
  options.list_max_listpack_size = limits.list_max_listpack_size;
  if (decoded.object) {
    FUZZ_CHECK(!decoded.object->Empty());
    dynakv::rdb::EncodeObject(*decoded.object, options, &again);
  } else {
    dynakv::rdb::EncodeString(decoded.string, options, &again);
  }
  std::string_view view = again;
  dynakv::rdb::DecodedValue round;
  FUZZ_CHECK(dynakv::rdb::DecodeTypedValue(&view, limits, &round) ==
             dynakv::rdb::DecodeError::kNone);
  FUZZ_CHECK(view.empty());
  FUZZ_CHECK(dynakv::types::TypeOf(round.object.get()) ==
             dynakv::types::TypeOf(decoded.object.get()));
  if (decoded.object) {
    FUZZ_CHECK(Elements(round.object.get()) == Elements(decoded.object.get()));
  } else {
    FUZZ_CHECK(round.string == decoded.string);
  }
  return 0;
}
