// Differential test of functions (FUNCTION LOAD, FCALL, FCALL_RO, FUNCTION LIST/DELETE/FLUSH/
// STATS/KILL) against redis-server 7, in RESP2 and RESP3 (byte for byte): library metadata and
// registration errors, flags, read-only calls, replacing and deleting libraries. Listings name
// one library at a time: Redis lists several in its dictionary's order. Then, on the server
// under test alone, libraries survive kill -9 (they are kept in the data dir) and a damaged
// functions file stops the node from starting.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "durability_util.h"
#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;

namespace {

using Command = std::vector<std::string>;

Command Load(const std::string& code, bool replace = false) {
  if (replace) return {"FUNCTION", "LOAD", "REPLACE", code};
  return {"FUNCTION", "LOAD", code};
}

const std::string kMyLib =
    "#!lua name=mylib\n"
    "redis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)\n"
    "redis.register_function{function_name='ro', callback=function(keys, args) "
    "return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-oom'}, "
    "description='read only'}";

std::vector<Command> Cases() {
  return {
      {"FUNCTION", "FLUSH"},
      {"SET", "s", "abc"},
      Load(kMyLib),
      {"FCALL", "myfunc", "1", "k", "a"},
      {"FCALL", "ro", "1", "s"},
      {"FCALL_RO", "ro", "1", "s"},
      {"FCALL_RO", "myfunc", "0"},
      {"FCALL", "nosuch", "0"},
      {"FCALL", "myfunc", "5", "a"},
      {"FCALL", "myfunc", "-1"},
      {"FCALL", "myfunc", "x"},
      {"FCALL", "myfunc"},
      // Redis lists a library's functions in its dictionary's order too: listings are of
      // one-function libraries.
      {"FUNCTION", "FLUSH"},
      Load("#!lua name=solo\nredis.register_function{function_name='one', callback=function() "
           "return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', "
           "'allow-cross-slot-keys'}, description='the only one'}"),
      {"FUNCTION", "LIST"},
      {"FUNCTION", "LIST", "WITHCODE"},
      {"FUNCTION", "LIST", "LIBRARYNAME", "SO*", "WITHCODE"},
      {"FCALL_RO", "one", "0"},
      Load(kMyLib),
      {"FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"},
      {"FUNCTION", "LIST", "bogus"},
      {"FUNCTION", "LIST", "LIBRARYNAME"},
      Load(kMyLib),
      Load("return 1"),
      Load("#!lua\nreturn 1"),
      Load("#!lua name=bad-name\nreturn 1"),
      Load("#!lua name=l2\nreturn 1"),
      Load("#!lua name=l3\nredis.register_function('myfunc', function() return 1 end)"),
      Load("#!lua name=l4\nredis.call('ping')"),
      Load("#!lua name=l5\nredis.register_function('f-x', function() return 1 end)"),
      Load("#!lua name=l6 foo=bar\nreturn 1"),
      Load("#!luax name=l6\nreturn 1"),
      Load("#!lua name=l8\nx = 1"),
      Load("#!lua name=l9\nredis.register_function('a')"),
      Load("#!lua name=l9\nredis.register_function{function_name='a', callback=function() end, "
           "flags={'bogus'}}"),
      Load("#!lua name=l9\nredis.register_function{function_name='a', callback=function() end, "
           "what=1}"),
      Load("#!lua name=l9\nredis.register_function{callback=function() end}"),
      Load("#!lua name=l9\nredis.register_function{function_name='a'}"),
      Load("#!lua name=l10\nreturn end"),
      Load("#!lua name=l13\nredis.register_function('a', function() return 1 end) "
           "redis.register_function('a', function() return 1 end)"),
      Load("#!lua name=l14\nredis.register_function('a', 1)"),
      Load("#!lua name=l14\nredis.register_function(1, 2, 3)"),
      Load("#!lua name=l14\nlocal i = 0 while true do i = i + 1 end"),
      {"FUNCTION", "LOAD", "bogus", "x"},
      {"FUNCTION", "LOAD", "REPLACE"},
      Load("#!lua name=l7\nredis.register_function('e', function() return 1 + nil end)"),
      {"FCALL", "e", "0"},
      Load("#!lua name=l7\nredis.register_function('e2', function() return 2 end)", true),
      {"FCALL", "e", "0"},
      {"FCALL", "e2", "0"},
      {"FUNCTION", "LIST", "LIBRARYNAME", "l7"},
      {"FUNCTION", "DELETE", "l7"},
      {"FUNCTION", "DELETE", "l7"},
      {"FCALL", "e2", "0"},
      Load("#!lua name=l11\nredis.register_function('w', function(keys) "
           "return redis.call('set', keys[1], 'v') end)"),
      {"FCALL", "w", "1", "wk"},
      {"FCALL_RO", "w", "1", "wk"},
      {"GET", "wk"},
      Load("#!lua name=l12\nredis.register_function('k', function() return KEYS end)"),
      {"FCALL", "k", "0"},
      Load("#!lua name=l15\nredis.register_function{function_name='t', callback=function() "
           "redis.setresp(3) return redis.call('hgetall', 'nohash') end, flags={'no-writes'}}"),
      {"FCALL_RO", "t", "0"},
      {"FUNCTION", "STATS"},
      {"FUNCTION", "KILL"},
      {"FUNCTION", "FLUSH", "bogus"},
      {"FUNCTION", "FLUSH", "ASYNC"},
      {"FUNCTION", "LIST"},
      {"FCALL", "myfunc", "0"},
      {"FUNCTION", "NOSUCH"},
      {"EVAL", "return redis.call('fcall', 'x', 0)", "0"},
      {"EVAL", "return redis.call('function', 'list')", "0"},
  };
}

}  // namespace

TEST_CASE("functions reply as in Redis 7 (RESP2)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client ours_client(ours.port());
  Client reference_client(reference.port());
  dynakv::itest::DifferentialLog log;
  for (const Command& argv : Cases()) {
    const Reply expected = reference_client.Command(argv);
    const Reply got = ours_client.Command(argv);
    log.Record(dynakv::itest::DescribeCommand(argv), dynakv::itest::ReplyText(expected));
    if (!(got == expected)) log.Mismatch(dynakv::itest::ReplyText(got));
  }
  CHECK(log.mismatches() == 0);
}

TEST_CASE("functions reply as in Redis 7 (RESP3, byte for byte)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  dynakv::itest::Resp3Pair raw(ours.port(), reference.port());
  for (const Command& argv : Cases()) raw.Compare(argv);
  CHECK(raw.mismatches() == 0);
}

TEST_CASE_FIXTURE(dynakv::itest::ServerFixture,
                  "libraries survive kill -9; a damaged file is refused") {
  if (dynakv::itest::SkipUnlessDynakv()) return;  // dynakv's own persistence
  CHECK(client.Command(Load(kMyLib)) == Reply::Bulk("mylib"));
  CHECK(client.Command(Load("#!lua name=other\nredis.register_function('two', "
                            "function() return 2 end)")) == Reply::Bulk("other"));
  CHECK(client.Command({"FUNCTION", "DELETE", "other"}) == Reply::Status("OK"));
  server.Kill();
  server.Start();
  Client again(server.port());
  CHECK(again.Command({"FCALL", "myfunc", "1", "k", "a"}) == Reply::Bulks({"k", "a"}));
  CHECK(again.Command({"FCALL", "two", "0"}) == Reply::Error("ERR Function not found"));
  CHECK(again.Command(Load(kMyLib)) == Reply::Error("ERR Library 'mylib' already exists"));
  server.Stop();
  { std::ofstream(server.dir() + "/functions.lua", std::ios::app) << "12\nnot a librar"; }
  CHECK(server.StartExpectingExit(std::chrono::seconds(10)) != -1);
}
