// Helpers shared by the storage unit tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "storage/engine.h"
#include "temp_dir.h"

namespace dynakv::storage::testing {

using dynakv::testing::TempDir;

// A clock the test moves by hand.
struct FakeClock {
  std::int64_t now_ms = 1'700'000'000'000;
};

// Deterministic, poorly compressible bytes.
inline std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  std::string out(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

// Options for a test engine in `dir` driven by `clock`.
inline Options TestOptions(const std::string& dir, FakeClock* clock) {
  Options o;
  o.dir = dir;
  o.fsync = FsyncPolicy::kNo;
  o.clock_ms = [clock] { return clock->now_ms; };
  return o;
}

inline std::unique_ptr<Engine> OpenEngine(const Options& o) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(o, &engine);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return engine;
}

inline std::optional<std::string> GetString(Engine* e, std::string_view key) {
  auto v = e->Get(key);
  if (!v) return std::nullopt;
  return v->ToString();
}

}  // namespace dynakv::storage::testing
