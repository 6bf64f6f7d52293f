// Engine behaviour visible through its public API: reads, writes, expiry, counters.
#include "storage/engine.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "test_util.h"

namespace dynakv::storage {

using testing::FakeClock;
using testing::GetString;
using testing::OpenEngine;
using testing::TempDir;
using testing::TestOptions;

TEST_CASE("engine: put, get, overwrite, delete") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK_FALSE(e->Get("a").has_value());
  REQUIRE(e->Put("a", "1", 0).ok());
  REQUIRE(e->Put("b", "", 0).ok());
  CHECK(GetString(e.get(), "a") == "1");
  CHECK(GetString(e.get(), "b") == "");
  CHECK(e->KeyCount() == 2);
  REQUIRE(e->Put("a", "22", 0).ok());
  CHECK(GetString(e.get(), "a") == "22");
  CHECK(e->KeyCount() == 2);
  CHECK(e->Exists("a"));
  CHECK(e->Delete("a"));
  CHECK_FALSE(e->Delete("a"));
  CHECK_FALSE(e->Exists("a"));
  CHECK_FALSE(e->Get("a").has_value());
  CHECK(e->KeyCount() == 1);
  // Binary keys and values.
  const std::string key("k\0\xff", 3);
  const std::string value("\0\r\n\0", 4);
  REQUIRE(e->Put(key, value, 0).ok());
  CHECK(GetString(e.get(), key) == value);
}

TEST_CASE("engine: a data dir with missing parents is created; a file in the way is an error") {
  TempDir dir;
  FakeClock clock;
  {
    auto e = OpenEngine(TestOptions(dir.path() + "/data/node-1", &clock));
    REQUIRE(e->Put("a", "1", 0).ok());
  }
  auto reopened = OpenEngine(TestOptions(dir.path() + "/data/node-1", &clock));
  CHECK(GetString(reopened.get(), "a") == "1");

  const std::string file = dir.path() + "/plain-file";
  { std::ofstream(file) << "x"; }
  std::unique_ptr<Engine> engine;
  const Status status = Engine::Open(TestOptions(file + "/node", &clock), &engine);
  CHECK_FALSE(status.ok());
  CHECK(status.ToString().find("Not a directory") != std::string::npos);
}

TEST_CASE("engine: large values are compressed transparently") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  const std::string big(100000, 'z');
  const std::string noise = testing::RandomBytes(5000, 3);
  REQUIRE(e->Put("big", big, 0).ok());
  REQUIRE(e->Put("noise", noise, 0).ok());
  REQUIRE(e->Put("small", "zzzz", 0).ok());
  CHECK(e->Stats().compressed_values == 1);
  CHECK(e->Stats().memtable_bytes < 20000);
  auto v = e->Get("big");
  REQUIRE(v.has_value());
  CHECK(v->size() == big.size());
  CHECK(v->ToString() == big);
  CHECK(GetString(e.get(), "noise") == noise);
  e->SetCompressionThreshold(1u << 20);
  REQUIRE(e->Put("big2", big, 0).ok());
  CHECK(e->Stats().compressed_values == 1);
  CHECK(GetString(e.get(), "big2") == big);
}

TEST_CASE("engine: expiry is lazy on access and keys count until reaped") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  REQUIRE(e->Put("t", "v", clock.now_ms + 1000).ok());
  REQUIRE(e->Put("p", "v", 0).ok());
  CHECK(e->GetExpireAt("t") == clock.now_ms + 1000);
  CHECK(e->GetExpireAt("p") == 0);
  CHECK_FALSE(e->GetExpireAt("none").has_value());
  CHECK(e->Stats().keys_with_expiry == 1);
  clock.now_ms += 1000;
  CHECK(e->KeyCount() == 2);  // expired but not yet reaped, like Redis DBSIZE
  CHECK_FALSE(e->Get("t").has_value());
  CHECK(e->KeyCount() == 1);
  CHECK(e->Stats().expired_keys == 1);
  CHECK(e->Stats().keys_with_expiry == 0);
}

TEST_CASE("engine: SetExpireAt sets, persists and deletes with a past time") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK_FALSE(e->SetExpireAt("missing", clock.now_ms + 10));
  REQUIRE(e->Put("k", "v", 0).ok());
  CHECK(e->SetExpireAt("k", clock.now_ms + 10));
  CHECK(e->GetExpireAt("k") == clock.now_ms + 10);
  CHECK(e->Stats().keys_with_expiry == 1);
  CHECK(e->SetExpireAt("k", 0));
  CHECK(e->GetExpireAt("k") == 0);
  CHECK(e->Stats().keys_with_expiry == 0);
  CHECK(e->SetExpireAt("k", clock.now_ms - 1));
  CHECK_FALSE(e->Exists("k"));
  CHECK(e->KeyCount() == 0);
  // Overwriting a key drops its old TTL unless a new one is given (SET semantics).
  REQUIRE(e->Put("k", "v", clock.now_ms + 50).ok());
  REQUIRE(e->Put("k", "w", 0).ok());
  CHECK(e->GetExpireAt("k") == 0);
  CHECK(e->Stats().keys_with_expiry == 0);
}

TEST_CASE("engine: active expiry reaps keys without access") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  for (int i = 0; i < 2000; ++i) {
    REQUIRE(e->Put("x" + std::to_string(i), "v", i % 2 == 0 ? clock.now_ms + 100 : 0).ok());
  }
  clock.now_ms += 100;
  CHECK(e->KeyCount() == 2000);
  for (int i = 0; i < 200 && e->KeyCount() > 1000; ++i) e->Tick();
  CHECK(e->KeyCount() == 1000);
  CHECK(e->Stats().expired_keys == 1000);
  CHECK(e->Stats().keys_with_expiry == 0);
  CHECK(GetString(e.get(), "x1") == "v");
}

TEST_CASE("engine: bad arguments are rejected cleanly") {
  TempDir dir;
  FakeClock clock;
  auto e = OpenEngine(TestOptions(dir.path(), &clock));
  CHECK(e->Put("k", "v", -5).code() == Status::Code::kInvalidArgument);
  CHECK(e->KeyCount() == 0);
  // A second engine on the same directory is refused.
  std::unique_ptr<Engine> second;
  Status s = Engine::Open(TestOptions(dir.path(), &clock), &second);
  CHECK_FALSE(s.ok());
  // A file where the directory should be.
  Options bad = TestOptions(dir.path() + "/LOCK", &clock);
  CHECK_FALSE(Engine::Open(bad, &second).ok());
}

}  // namespace dynakv::storage
