// Merge metadata of the convergent collection types (crdt/): builds an N-member set, N-field hash,
// N-member sorted set and N-element list written through 3 actors (round-robin, as SADD/HSET/ZADD
// spread over 3 nodes), replicates them to a second replica by shipping every delta, and prints the
// canonical encoding's size against the bare data.
//
//   build/bench/dynakv-crdt-metadata [N]      (default 1000000)
//
// "metadata" = encoded bytes - the bytes of the members (and of values/scores): what the causal
// context, the dots, timestamps and length prefixes cost. "plain" = what a length-prefixed list
// of the same data would take, for scale.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crdt/add_wins_map.h"
#include "crdt/or_set.h"
#include "crdt/or_sorted_set.h"
#include "crdt/sequence.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

std::size_t VarintSize(std::size_t n) {
  std::size_t s = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++s;
  }
  return s;
}

template <typename V, typename Op>
void Run(const char* name, long n, std::size_t data_bytes, std::size_t plain_bytes, Op op) {
  const char* actors[3] = {"node-1:1765099533", "node-2:1765099541", "node-3:1765099548"};
  V origin;
  std::vector<std::string> deltas;
  deltas.reserve(static_cast<std::size_t>(n));
  auto t0 = Clock::now();
  std::size_t delta_bytes = 0;
  for (long i = 0; i < n; ++i) {
    const V delta = op(origin, actors[i % 3], i);
    deltas.push_back(delta.Encode());
    delta_bytes += deltas.back().size();
  }
  const double write_ms = Ms(t0);
  // A second replica that receives every delta (decode + join each).
  t0 = Clock::now();
  V replica;
  for (const std::string& bytes : deltas) {
    V d;
    if (!V::Decode(bytes, &d)) std::abort();
    replica.Join(d);
  }
  const double join_ms = Ms(t0);
  t0 = Clock::now();
  const std::string encoded = origin.Encode();
  const double encode_ms = Ms(t0);
  t0 = Clock::now();
  V decoded;
  if (!V::Decode(encoded, &decoded)) std::abort();
  const double decode_ms = Ms(t0);
  const bool same = replica.Encode() == encoded;
  std::printf(
      "%-10s n=%ld encoded=%zu data=%zu metadata/element=%.2f B (plain length-prefixed=%zu, "
      "crdt overhead over plain/element=%.2f B) delta avg=%.1f B; ops %.0f ms, replica "
      "decode+join of all deltas %.0f ms, encode %.0f ms, decode %.0f ms, replica bytes %s\n",
      name, n, encoded.size(), data_bytes,
      static_cast<double>(encoded.size() - data_bytes) / static_cast<double>(n), plain_bytes,
      static_cast<double>(encoded.size() - plain_bytes) / static_cast<double>(n),
      static_cast<double>(delta_bytes) / static_cast<double>(n), write_ms, join_ms, encode_ms,
      decode_ms, same ? "identical" : "DIFFERENT");
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  auto member = [](long i) { return "member:" + std::to_string(i); };
  std::size_t member_bytes = 0, plain = 0;
  for (long i = 0; i < n; ++i) {
    const std::size_t len = member(i).size();
    member_bytes += len;
    plain += len + VarintSize(len);
  }
  Run<dynakv::crdt::ORSet>(
      "set", n, member_bytes, plain,
      [&](dynakv::crdt::ORSet& s, const char* actor, long i) { return s.Add(actor, member(i)); });
  // Hash: field:N -> value:N (HSET), hybrid timestamps in microseconds near 2026.
  std::size_t hash_bytes = 0, hash_plain = 0;
  for (long i = 0; i < n; ++i) {
    const std::size_t f = member(i).size(), v = ("value:" + std::to_string(i)).size();
    hash_bytes += f + v;
    hash_plain += f + VarintSize(f) + v + VarintSize(v);
  }
  const std::int64_t t0 = 1765099533000000;
  Run<dynakv::crdt::AddWinsMap>("hash", n, hash_bytes, hash_plain,
                                [&](dynakv::crdt::AddWinsMap& m, const char* actor, long i) {
                                  return m.Set(actor, member(i), t0 + i,
                                               "value:" + std::to_string(i));
                                });
  // Sorted set: member:N with score N (ZADD), a score being 8 bytes of data.
  Run<dynakv::crdt::ORSortedSet>("zset", n, member_bytes + 8 * static_cast<std::size_t>(n),
                                 plain + 8 * static_cast<std::size_t>(n),
                                 [&](dynakv::crdt::ORSortedSet& z, const char* actor, long i) {
                                   return z.Add(actor, member(i), t0 + i, static_cast<double>(i));
                                 });
  // List: RPUSH of member:N (each anchored on the previous element: the 3 actors take turns).
  Run<dynakv::crdt::Sequence>("list", n, member_bytes, plain,
                              [&](dynakv::crdt::Sequence& l, const char* actor, long i) {
                                return l.PushBack(actor, member(i));
                              });
  return 0;
}
