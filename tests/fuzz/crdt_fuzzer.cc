// Fuzzes the decoders of the convergent value types (crdt/): the input is one encoded value (its
// tag byte says which type; every decoder is tried). Invariants: whatever a decoder accepts is
// exactly the canonical encoding of what it decoded (Encode(Decode(b)) == b); joining a decoded
// value into itself changes nothing, and into a small valid value gives a value that decodes
// again; the Redis-visible views work on it. HLL: any HLL string Redis accepts is rewritten to
// the canonical form, which the strict decoder accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crdt/add_wins_map.h"
#include "crdt/hll_registers.h"
#include "crdt/hll_state.h"
#include "crdt/or_set.h"
#include "crdt/or_sorted_set.h"
#include "crdt/sequence.h"
#include "fuzz_util.h"

namespace {

using namespace dynakv::crdt;

template <typename V, typename View>
void Check(std::string_view input, const V& seed, View view) {
  V v;
  if (!V::Decode(input, &v)) return;
  FUZZ_CHECK(v.Encode() == input);
  V twice = v;
  twice.Join(v);
  FUZZ_CHECK(twice.Encode() == input);
  V joined = seed;
  joined.Join(v);
  V back;
  FUZZ_CHECK(V::Decode(joined.Encode(), &back));
  view(v);
  view(joined);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ORSet set;
  set.Add("n1", "a");
  Check(input, set, [](const ORSet& s) { (void)s.Members(); });
  AddWinsMap map;
  map.Set("n1", "f", 1, "1");
  Check(input, map, [](const AddWinsMap& m) { (void)m.Entries(); });
  ORSortedSet zset;
  zset.Add("n1", "m", 1, 1.5);
  Check(input, zset, [](const ORSortedSet& z) { (void)z.Range(); });
  Sequence list;
  list.PushBack("n1", "x");
  Check(input, list, [](const Sequence& l) { (void)l.Values(); });
  HllRegisters hll;
  hll.Add("x");
  Check(input, hll, [](const HllRegisters& h) { (void)h.Count(); });
  HllState epochs;
  epochs.Raise(hll);
  Check(input, epochs, [](const HllState& h) { (void)h.registers().Count(); });
  HllRegisters any;
  if (HllRegisters::FromRedis(input, &any)) {
    HllRegisters strict;
    FUZZ_CHECK(HllRegisters::Decode(any.ToRedis(), &strict) ||
               // registers above 51 (no PFADD makes them) are Redis-readable but not canonical
               [&] {
                 for (int i = 0; i < HllRegisters::kRegisters; ++i) {
                   if (any.at(i) > 51) return true;
                 }
                 return false;
               }());
  }
  return 0;
}
