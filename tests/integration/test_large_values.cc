// Large values are sent by reference (storage/shared_value.h): a slow reader has GET replies of
// a 1 MB value pending (the server's write waits on the socket) while another client
// overwrites, deletes, patches, evicts, offloads, checkpoints or FLUSHALLs the key. Every
// reply the reader then receives must be the value as it was when its GET ran, byte for byte.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::WaitFor;

namespace {

constexpr std::size_t kValueSize = 1 << 20;
// 12 MB of replies: far more than the loopback socket buffers take, under the 16 MB
// client-output-buffer-soft-limit past which the server would stop running the reader's GETs.
constexpr int kGets = 12;

// LZ4 shrinks it about 3x: stored compressed.
std::string TextValue(std::size_t n, int seed) {
  const std::string noise =
      dynakv::itest::RandomBytes(n / 8 + 16, static_cast<std::uint64_t>(seed));
  std::string out;
  for (std::size_t i = 0; out.size() < n; ++i) {
    out += "{\"id\":" + std::to_string(i) + ",\"token\":\"";
    for (int j = 0; j < 6; ++j)
      out += "0123456789abcdef"[static_cast<unsigned char>(noise[(i * 6 + j) % noise.size()]) % 16];
    out += "\",\"tags\":[\"red\",\"green\"]}\n";
  }
  out.resize(n);
  return out;
}

long long Gets(Client& control) {
  const std::string stats = control.Command({"INFO", "commandstats"}).str;
  const std::size_t at = stats.find("cmdstat_get:calls=");
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 18));
}

// The reader's line of CLIENT LIST shows a write in flight (oll=1) with its unsent bytes.
bool ReaderWriting(Client& control) {
  const std::string list = control.Command({"CLIENT", "LIST"}).str;
  std::size_t at = 0;
  while ((at = list.find("cmd=get", at)) != std::string::npos) {
    const std::size_t start = list.rfind('\n', at);
    const std::string line = list.substr(start == std::string::npos ? 0 : start + 1, at - start);
    if (line.find(" oll=1 ") != std::string::npos) return true;
    ++at;
  }
  return false;
}

// Sets `key` to `value`, has a raw reader send kGets GETs of it and not read, waits until the
// server ran them all and is stuck writing, runs `change`, then reads every reply.
void CheckRepliesSurvive(ServerProcess& server, Client& control, const std::string& key,
                         const std::string& value, const std::function<void()>& change) {
  REQUIRE(control.Command({"SET", key, value}).str == "OK");
  const long long gets_before = Gets(control);
  RawSocket reader(server.port());
  REQUIRE(reader.connected());
  std::string requests;
  for (int i = 0; i < kGets; ++i) requests += EncodeCommand({"GET", key});
  REQUIRE(reader.Send(requests));
  REQUIRE(WaitFor([&] { return Gets(control) == gets_before + kGets; }));
  REQUIRE(WaitFor([&] { return ReaderWriting(control); }));
  change();
  const std::vector<Reply> replies = reader.ReadReplies(kGets, std::chrono::seconds(60));
  REQUIRE(replies.size() == static_cast<std::size_t>(kGets));
  for (int i = 0; i < kGets; ++i) {
    CAPTURE(i);
    REQUIRE(replies[i].type == Reply::Type::kString);
    CHECK(replies[i].str.size() == value.size());
    CHECK(replies[i].str == value);  // doctest prints 1 MB on failure: sizes first
  }
}

}  // namespace

TEST_CASE("large values: replies in flight keep their bytes whatever happens to the key") {
  const bool redis = dynakv::itest::TestingRealRedis();
  // The hot-value rule turns on at the 4th GET: the text value's later replies share its
  // decompressed form, the earlier ones a decompression of their own.
  ServerProcess server(redis ? dynakv::itest::Flags{}
                             : dynakv::itest::Flags{"--hot-value-reads", "4"});
  server.Start();
  Client control(server.port());
  const std::string random = dynakv::itest::RandomBytes(kValueSize, 1);
  const std::string text = TextValue(kValueSize, 2);
  const std::string next = dynakv::itest::RandomBytes(kValueSize, 9);
  auto fill = [&] {
    for (int i = 0; i < 8; ++i) {
      control.Command({"SET", "filler" + std::to_string(i),
                       dynakv::itest::RandomBytes(kValueSize, 100 + static_cast<unsigned>(i))});
    }
  };

  for (const std::string* value : {&random, &text}) {
    CAPTURE((value == &random ? "random" : "text"));
    // overwrite
    CheckRepliesSurvive(server, control, "k", *value, [&] {
      CHECK(control.Command({"SET", "k", next}).str == "OK");
    });
    CHECK(control.Command({"GET", "k"}).str == next);
    // delete
    CheckRepliesSurvive(server, control, "k", *value, [&] {
      CHECK(control.Command({"DEL", "k"}).integer == 1);
    });
    CHECK(control.Command({"GET", "k"}).type == Reply::Type::kNil);
    // a patch in place, then one that grows the value
    CheckRepliesSurvive(server, control, "k", *value, [&] {
      CHECK(control.Command({"SETRANGE", "k", "5", "patched"}).integer ==
            static_cast<long long>(kValueSize));
      CHECK(control.Command({"APPEND", "k", "tail"}).integer ==
            static_cast<long long>(kValueSize + 4));
    });
    std::string want = *value;
    want.replace(5, 7, "patched");
    CHECK(control.Command({"GET", "k"}).str == want + "tail");
    // FLUSHALL
    CheckRepliesSurvive(server, control, "k", *value,
                        [&] { CHECK(control.Command({"FLUSHALL"}).str == "OK"); });
    CHECK(control.Command({"DBSIZE"}).integer == 0);
    // eviction
    CheckRepliesSurvive(server, control, "k", *value, [&] {
      REQUIRE(control.Command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}).str == "OK");
      REQUIRE(control.Command({"CONFIG", "SET", "maxmemory", "4mb"}).str == "OK");
      fill();
      CHECK(ReadInfoNumber(control, "stats", "evicted_keys") > 0);
      CHECK(control.Command({"EXISTS", "k"}).integer == 0);
    });
    REQUIRE(control.Command({"CONFIG", "SET", "maxmemory", "0"}).str == "OK");
    REQUIRE(control.Command({"FLUSHALL"}).str == "OK");
    if (redis) continue;  // the rest is dynakv's: offload
    // offload and checkpoint
    REQUIRE(control.Command({"CONFIG", "SET", "maxmemory-policy", "offload"}).str == "OK");
    CheckRepliesSurvive(server, control, "k", *value, [&] {
      REQUIRE(control.Command({"CONFIG", "SET", "maxmemory", "4mb"}).str == "OK");
      fill();
      CHECK(control.Command({"SAVE"}).str == "OK");
      CHECK(ReadInfoNumber(control, "stats", "offloaded_keys") > 0);
    });
    CHECK(control.Command({"GET", "k"}).str == *value);  // read back from its segment
    REQUIRE(control.Command({"CONFIG", "SET", "maxmemory", "0"}).str == "OK");
    REQUIRE(control.Command({"FLUSHALL"}).str == "OK");
  }
  if (!redis) CHECK(ReadInfoNumber(control, "memory", "hot_values_decompressed") > 0);
}
