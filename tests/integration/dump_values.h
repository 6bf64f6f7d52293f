// Seeded random keys of every type, size and encoding, written by commands (so the same calls
// build the same values on the server under test and on redis-server), and a key's contents in a
// comparable form: the DUMP/RESTORE and MIGRATE tests move keys between the two and compare.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "client.h"

namespace dynakv::itest {

class DumpValueGenerator {
 public:
  explicit DumpValueGenerator(std::uint64_t seed) : rng_(seed) {}
  // The commands that build key `key` afresh: one type, a random size class (small values in
  // Redis's compact encodings, large ones past every threshold), binary and integer elements,
  // and sometimes an expiry. Lists are built by RPUSH only, so their nodes split as Redis's.
  std::vector<std::vector<std::string>> Build(const std::string& key);

 private:
  std::size_t Pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  std::string Element(bool large);
  std::string Integer();
  std::string Score();
  std::vector<std::vector<std::string>> Batched(const std::string& command, const std::string& key,
                                                const std::vector<std::string>& args,
                                                std::size_t step);

  std::mt19937_64 rng_;
};

// TYPE, then the contents: a string's bytes, a list in order, a hash's pairs and a set's members
// sorted (their order is the encoding's), a sorted set's members and scores in order.
std::vector<std::string> KeyContents(Client& client, const std::string& key);

}  // namespace dynakv::itest
