// CLIENT's introspection and control subcommands against the installed redis-server 7: LIST /
// INFO's cmd=, PAUSE / UNPAUSE, REPLY, UNBLOCK, NO-EVICT and KILL's filters, with replies and
// error texts compared, and the query buffer shrinking after a big request.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;

namespace {

// One field of a CLIENT LIST / CLIENT INFO line.
std::string ClientField(const std::string& line, const std::string& field) {
  const std::string marker = " " + field + "=";
  std::size_t at = (" " + line).find(marker);
  if (at == std::string::npos) return "?";
  at += marker.size() - 1;
  return line.substr(at, line.find_first_of(" \n", at) - at);
}

struct Both {
  Client& ours;
  Client& reference;
  Reply operator()(const std::vector<std::string>& argv) {
    return dynakv::itest::CheckSameReply(ours, reference, argv);
  }
};

}  // namespace

TEST_CASE("CLIENT LIST and INFO name the last command with its subcommand; NO-EVICT shows e") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  Both both{a, b};
  for (Client* c : {&a, &b}) {
    CHECK(ClientField(c->Command({"CLIENT", "INFO"}).str, "cmd") == "client|info");
    CHECK(ClientField(c->Command({"CLIENT", "LIST", "ID", "1", "2", "3", "4", "5"}).str, "cmd") !=
          "?");
    c->Command({"GET", "k"});
    CHECK(ClientField(c->Command({"CLIENT", "INFO"}).str, "cmd") == "client|info");
  }
  both({"CLIENT", "NO-EVICT", "on"});
  CHECK(ClientField(a.Command({"CLIENT", "INFO"}).str, "flags") ==
        ClientField(b.Command({"CLIENT", "INFO"}).str, "flags"));
  CHECK(ClientField(a.Command({"CLIENT", "INFO"}).str, "flags") == "e");
  both({"CLIENT", "NO-EVICT", "off"});
  CHECK(ClientField(a.Command({"CLIENT", "INFO"}).str, "flags") == "N");
  both({"CLIENT", "NO-EVICT", "maybe"});
  // Error texts of the control subcommands.
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"CLIENT", "PAUSE", "abc"}, {"CLIENT", "PAUSE", "-1"}, {"CLIENT", "PAUSE", "10", "x"},
           {"CLIENT", "PAUSE"}, {"CLIENT", "UNPAUSE", "x"}, {"CLIENT", "REPLY", "bogus"},
           {"CLIENT", "REPLY"}, {"CLIENT", "UNBLOCK", "abc"}, {"CLIENT", "UNBLOCK", "1", "x"},
           {"CLIENT", "UNBLOCK", "999999"}, {"CLIENT", "UNBLOCK", "999999", "ERROR"},
           {"CLIENT", "KILL", "id", "abc"}, {"CLIENT", "KILL", "id", "0"},
           {"CLIENT", "KILL", "type", "bogus"}, {"CLIENT", "KILL", "skipme", "maybe"},
           {"CLIENT", "KILL", "addr"}, {"CLIENT", "KILL", "1.2.3.4:5"},
           {"CLIENT", "KILL", "user", "nobody"}, {"CLIENT", "KILL", "addr", "1.2.3.4:5"},
           {"CLIENT", "KILL", "laddr", "1.2.3.4:5", "skipme", "no"}}) {
    both(argv);
  }
}

TEST_CASE("CLIENT REPLY OFF / SKIP / ON drop replies as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  auto run = [](int port) {
    RawSocket raw(port);
    std::string requests;
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"CLIENT", "REPLY", "SKIP"}, {"SET", "a", "1"}, {"GET", "a"},
             {"CLIENT", "REPLY", "OFF"}, {"SET", "a", "2"}, {"CLIENT", "REPLY", "SKIP"},
             {"GET", "a"}, {"NOSUCH"}, {"CLIENT", "REPLY", "ON"}, {"GET", "a"},
             {"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"}, {"ECHO", "end"}}) {
      requests += EncodeCommand(argv);
    }
    REQUIRE(raw.Send(requests));
    return raw.ReadUntil("$3\r\nend\r\n", std::chrono::seconds(5));
  };
  const std::string got = run(ours.port());
  CHECK(got == run(reference.port()));
  // SKIP's next command is CLIENT REPLY ON, which answers: ON ends the skip too.
  CHECK(got == "$1\r\n1\r\n+OK\r\n$1\r\n2\r\n+OK\r\n$3\r\nend\r\n");
}

TEST_CASE("CLIENT PAUSE WRITE holds writes, ALL holds everything, until UNPAUSE or the timeout") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (int port : {ours.port(), reference.port()}) {
    CAPTURE(port);
    Client control(port);
    RawSocket worker(port);
    CHECK(control.Command({"CLIENT", "PAUSE", "10000", "WRITE"}) == Reply::Status("OK"));
    REQUIRE(worker.Send(EncodeCommand({"GET", "k"}) + EncodeCommand({"SET", "k", "v"}) +
                        EncodeCommand({"GET", "k"})));
    // The read before the write is answered; the write and what follows wait.
    CHECK(worker.ReadUntil("\r\n", std::chrono::seconds(5)) == "$-1\r\n");
    CHECK(worker.ReadUntil("\r\n", std::chrono::milliseconds(400)).empty());
    CHECK(control.Command({"GET", "k"}) == Reply::Nil());  // other readers go on
    CHECK(control.Command({"CLIENT", "UNPAUSE"}) == Reply::Status("OK"));
    CHECK(worker.ReadUntil("$1\r\nv\r\n", std::chrono::seconds(5)) == "+OK\r\n$1\r\nv\r\n");

    // ALL with a timeout: even PING waits, then runs by itself.
    CHECK(control.Command({"CLIENT", "PAUSE", "500"}) == Reply::Status("OK"));
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(worker.Send(EncodeCommand({"PING"})));
    CHECK(worker.ReadUntil("+PONG\r\n", std::chrono::seconds(5)) == "+PONG\r\n");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(400));
  }
}

TEST_CASE("CLIENT UNBLOCK ends a BLPOP as a timeout or with -UNBLOCKED, as Redis") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  std::vector<std::string> transcripts;
  for (int port : {ours.port(), reference.port()}) {
    Client control(port);
    RawSocket blocked(port);
    REQUIRE(blocked.Send(EncodeCommand({"CLIENT", "ID"})));
    const std::vector<Reply> id_reply = blocked.ReadReplies(1, std::chrono::seconds(5));
    REQUIRE(id_reply.size() == 1);
    const long long id = id_reply[0].integer;
    std::string transcript;
    for (const char* reason : {"TIMEOUT", "ERROR"}) {
      REQUIRE(blocked.Send(EncodeCommand({"BLPOP", "list", "0"})));
      REQUIRE(dynakv::itest::WaitFor([&] {
        return dynakv::itest::ReadInfoField(control, "clients", "blocked_clients") == "1";
      }));
      const Reply unblocked = control.Command({"CLIENT", "UNBLOCK", std::to_string(id), reason});
      transcript += dynakv::itest::ReplyText(unblocked) + " ";
      const std::vector<Reply> popped = blocked.ReadReplies(1, std::chrono::seconds(5));
      REQUIRE(popped.size() == 1);
      transcript += dynakv::itest::ReplyText(popped[0]) + " ";
    }
    transcript += dynakv::itest::ReplyText(
        control.Command({"CLIENT", "UNBLOCK", std::to_string(id)}));  // not blocked: 0
    const std::string stats = control.Command({"INFO", "commandstats"}).str;
    const std::size_t at = stats.find("cmdstat_blpop:calls=");
    REQUIRE(at != std::string::npos);
    transcript += " " + stats.substr(at, stats.find(',', at) - at);
    transcript += " " + dynakv::itest::ReadInfoField(control, "errorstats", "errorstat_UNBLOCKED");
    transcripts.push_back(transcript);
  }
  CHECK(transcripts[0] == transcripts[1]);
}

TEST_CASE("CLIENT KILL by ID, USER, ADDR, LADDR, TYPE, SKIPME and MAXAGE") {
  dynakv::itest::ServerFixture fixture;
  Client& admin = fixture.client;
  Client victim(fixture.server.port());
  const long long victim_id = victim.Command({"CLIENT", "ID"}).integer;
  const std::string info = victim.Command({"CLIENT", "INFO"}).str;
  const std::string addr = ClientField(info, "addr");
  const std::string laddr = ClientField(info, "laddr");
  CHECK(admin.Command({"CLIENT", "KILL", "ADDR", addr, "ID", "999999"}) == Reply::Int(0));
  CHECK(admin.Command({"CLIENT", "KILL", "ADDR", addr, "LADDR", laddr}) == Reply::Int(1));
  CHECK(victim.Command({"PING"}).type == Reply::Type::kIoError);
  Client second(fixture.server.port());
  const long long second_id = second.Command({"CLIENT", "ID"}).integer;
  CHECK(second_id > victim_id);
  CHECK(admin.Command({"CLIENT", "KILL", "MAXAGE", "1000"}) == Reply::Int(0));  // none so old
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  // MAXAGE 0: every connection older than 0 s, but not the caller (SKIPME yes).
  CHECK(admin.Command({"CLIENT", "KILL", "MAXAGE", "0"}) == Reply::Int(1));
  CHECK(second.Command({"PING"}).type == Reply::Type::kIoError);
  Client third(fixture.server.port());
  CHECK(admin.Command({"CLIENT", "KILL", "TYPE", "pubsub"}) == Reply::Int(0));
  CHECK(admin.Command({"CLIENT", "KILL", "USER", "default", "SKIPME", "yes"}) == Reply::Int(1));
  CHECK(third.Command({"PING"}).type == Reply::Type::kIoError);
  CHECK(admin.Command({"CLIENT", "KILL", "MAXAGE", "x"}).IsError());
}

TEST_CASE("the query buffer shrinks back after one big request, as Redis's does") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (int port : {ours.port(), reference.port()}) {
    CAPTURE(port);
    Client control(port);
    RawSocket big(port);
    REQUIRE(big.Send(EncodeCommand({"CLIENT", "SETNAME", "big"}) +
                     EncodeCommand({"SET", "k", std::string(400 * 1024, 'x')})));
    REQUIRE(big.ReadReplies(2, std::chrono::seconds(5)).size() == 2);
    auto qbuf_free = [&] {
      const std::string list = control.Command({"CLIENT", "LIST"}).str;
      const std::size_t at = list.find("name=big ");
      REQUIRE(at != std::string::npos);
      const std::size_t line = list.rfind('\n', at) == std::string::npos ? 0 : list.rfind('\n', at) + 1;
      return std::stoll(ClientField(list.substr(line, list.find('\n', at) - line), "qbuf-free"));
    };
    // Small requests keep it busy (never idle 2 s); within a second or two it is cut back.
    bool shrunk = false;
    for (int i = 0; i < 30 && !shrunk; ++i) {
      REQUIRE(big.Send(EncodeCommand({"GET", "small"})));
      REQUIRE(big.ReadReplies(1, std::chrono::seconds(5)).size() == 1);
      shrunk = qbuf_free() < 64 * 1024;
      if (!shrunk) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(shrunk);
  }
}
