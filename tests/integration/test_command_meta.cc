// COMMAND against a real redis-server 7.0, side by side, in RESP2 and RESP3: COMMAND INFO and
// COMMAND DOCS of every command and subcommand both servers implement, byte for byte; GETKEYS and
// GETKEYSANDFLAGS of each with short and long argument lists; COMMAND LIST FILTERBY ACLCAT for
// every category and FILTERBY PATTERN, restricted to the commands both have; COMMAND COUNT
// against what COMMAND, COMMAND LIST and COMMAND DOCS enumerate. Redis lists commands,
// subcommands and docs in its hash table's order, which is random per process: those lists are
// compared sorted, and a container's subcommands restricted to those both servers have.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"
#include "resp_tree.h"

using dynakv::itest::RespConnection;
using dynakv::itest::RespNode;
using dynakv::itest::ServerProcess;

namespace {

using Argv = std::vector<std::string>;
using Names = std::set<std::string>;

bool HaveReference() { return dynakv::itest::ReferenceAvailable(); }

std::string Describe(const Argv& argv) {
  std::string out;
  for (const std::string& arg : argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

// Children of an aggregate taken `width` at a time (a map's pairs, or single elements), kept
// when `keep` says so and sorted by their first element.
void FilterAndSort(RespNode* node, std::size_t width, const Names& keep) {
  std::vector<std::vector<RespNode>> groups;
  for (std::size_t i = 0; i + width <= node->children.size(); i += width) {
    std::vector<RespNode> group(node->children.begin() + static_cast<long>(i),
                                node->children.begin() + static_cast<long>(i + width));
    const RespNode& key = group[0].children.empty() ? group[0] : group[0].children[0];
    if (keep.count(key.value) != 0) groups.push_back(std::move(group));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    const RespNode& ka = a[0].children.empty() ? a[0] : a[0].children[0];
    const RespNode& kb = b[0].children.empty() ? b[0] : b[0].children[0];
    return ka.value < kb.value;
  });
  node->children.clear();
  for (auto& group : groups) {
    for (RespNode& child : group) node->children.push_back(std::move(child));
  }
}

// One COMMAND INFO entry: its subcommands (the tenth field) restricted and sorted.
void NormalizeInfo(RespNode* entry, const Names& common) {
  if (entry->children.size() != 10) return;
  RespNode& subcommands = entry->children[9];
  FilterAndSort(&subcommands, 1, common);
  for (RespNode& sub : subcommands.children) NormalizeInfo(&sub, common);
}

// One COMMAND DOCS map (name -> docs): every "subcommands" map restricted and sorted.
void NormalizeDocs(RespNode* docs, const Names& common) {
  FilterAndSort(docs, 2, common);
  for (std::size_t i = 1; i < docs->children.size(); i += 2) {
    if (RespNode* subcommands = docs->children[i].Field("subcommands")) {
      NormalizeDocs(subcommands, common);
    }
  }
}

// One protocol's connections to both servers.
struct Pair {
  Pair(int ours_port, int redis_port, int protocol) : ours(ours_port), redis(redis_port) {
    if (protocol == 3) {
      REQUIRE(ours.Call({"HELLO", "3"}).type == '%');
      REQUIRE(redis.Call({"HELLO", "3"}).type == '%');
    }
  }
  RespConnection ours;
  RespConnection redis;
};

struct Servers {
  Servers() : redis({}, dynakv::itest::ReferenceRedis()) {
    ours.Start();
    redis.Start();
  }
  ServerProcess ours;
  ServerProcess redis;
};

// Every command and subcommand a server lists.
Names ListNames(RespConnection& conn) {
  Names names;
  for (const RespNode& name : conn.Call({"COMMAND", "LIST"}).children) names.insert(name.value);
  return names;
}

Names Common(Pair& pair) {
  const Names ours = ListNames(pair.ours);
  const Names redis = ListNames(pair.redis);
  Names common;
  std::set_intersection(ours.begin(), ours.end(), redis.begin(), redis.end(),
                        std::inserter(common, common.end()));
  return common;
}

// Sends `argv` to both; the replies (after `normalize`) must be the same bytes.
template <typename Normalize>
bool Same(Pair& pair, const Argv& argv, Normalize normalize) {
  RespNode ours = pair.ours.Call(argv);
  RespNode redis = pair.redis.Call(argv);
  REQUIRE(redis.type != '!');
  normalize(&ours);
  normalize(&redis);
  const std::string command = Describe(argv);
  CAPTURE(command);
  CHECK(ours.Encode() == redis.Encode());
  return ours.Encode() == redis.Encode();
}

bool Same(Pair& pair, const Argv& argv) {
  return Same(pair, argv, [](RespNode*) {});
}

TEST_CASE("COMMAND INFO and COMMAND DOCS of every command are Redis 7.0's") {
  if (!HaveReference()) return;
  Servers servers;
  for (int protocol : {2, 3}) {
    CAPTURE(protocol);
    Pair pair(servers.ours.port(), servers.redis.port(), protocol);
    const Names common = Common(pair);
    REQUIRE(common.size() > 80);
    for (const char* name : {"get", "set", "client|kill", "config|get", "command|getkeys"}) {
      REQUIRE(common.count(name) == 1);
    }
    auto info = [&](RespNode* reply) {
      for (RespNode& entry : reply->children) NormalizeInfo(&entry, common);
    };
    auto docs = [&](RespNode* reply) { NormalizeDocs(reply, common); };
    int mismatches = 0;
    for (const std::string& name : common) {
      if (!Same(pair, {"COMMAND", "INFO", name}, info)) ++mismatches;
      if (!Same(pair, {"COMMAND", "DOCS", name}, docs)) ++mismatches;
      if (mismatches > 10) break;
    }
    CHECK(mismatches == 0);
    // Several at once, any case; unknown names are nil in INFO and left out of DOCS.
    Same(pair, {"COMMAND", "INFO", "GET", "nosuch", "Client|Kill", "get|x", "client|kill|x", "set"},
         info);
    Same(pair, {"COMMAND", "DOCS", "mset", "nosuch", "CONFIG|SET", "client"}, docs);
    Same(pair, {"COMMAND", "DOCS", "nosuch"}, docs);
    Same(pair, {"COMMAND", "HELP"});
    Same(pair, {"COMMAND", "INFOX"});
    Same(pair, {"COMMAND", "COUNT", "x"});
  }
}

// Arguments for a command of `arity`: exactly its minimum, and more.
std::vector<Argv> ArgumentLists(const std::string& name, long long arity) {
  std::vector<Argv> lists;
  const long long minimum = arity < 0 ? -arity : arity;
  for (long long extra : {0LL, 1LL, 3LL}) {
    if (arity > 0 && extra > 0 && extra != 1) continue;  // a fixed arity: exactly it, and one more
    Argv argv = {"COMMAND", "GETKEYS", name};
    for (long long i = 1; i < minimum + extra; ++i) argv.push_back("k" + std::to_string(i));
    lists.push_back(argv);
  }
  return lists;
}

TEST_CASE("COMMAND GETKEYS and GETKEYSANDFLAGS find the keys Redis 7.0 finds") {
  if (!HaveReference()) return;
  Servers servers;
  for (int protocol : {2, 3}) {
    CAPTURE(protocol);
    Pair pair(servers.ours.port(), servers.redis.port(), protocol);
    const Names common = Common(pair);
    int checked = 0;
    for (const std::string& name : common) {
      if (name.find('|') != std::string::npos) continue;
      const RespNode info = pair.ours.Call({"COMMAND", "INFO", name});
      REQUIRE(info.children.size() == 1);
      const long long arity = std::stoll(info.children[0].children[1].value);
      for (Argv argv : ArgumentLists(name, arity)) {
        Same(pair, argv);
        argv[1] = "GETKEYSANDFLAGS";
        Same(pair, argv);
        ++checked;
      }
    }
    CHECK(checked > 100);
    for (const Argv& command : std::vector<Argv>{
             {"SET", "k", "v", "GET"},
             {"SET", "k", "v", "EX", "10", "get"},
             {"SET", "k", "v", "NX"},
             {"MSET", "a", "1", "b", "2", "c"},
             {"MSET", "a"},
             {"RENAME", "a", "b"},
             {"COPY", "a", "b", "REPLACE"},
             {"EXISTS", "a", "b", "a"},
             {"DEL", "a"},
             {"GETEX", "k", "PERSIST"},
             {"BITFIELD", "k", "GET", "u8", "0"},
             {"BITFIELD", "k", "get", "u8", "0", "OVERFLOW", "SAT", "GET", "i4", "8"},
             {"BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"},
             {"BITFIELD", "k", "INCRBY", "u8", "0", "1"},
             {"BITFIELD", "k", "GET", "u8"},
             {"BITFIELD", "k", "OVERFLOW"},
             {"BITFIELD", "k"},
             {"BITOP", "AND", "d", "a", "b"},
             {"PFCOUNT", "a", "b"},
             {"PFMERGE", "d"},
             {"LCS", "a", "b", "LEN"},
             {"HSET", "h", "f", "v"},
             {"SINTERCARD", "2", "a", "b", "LIMIT", "1"},
             {"SINTERCARD", "3", "a", "b"},
             {"SINTERCARD", "-1", "a"},
             {"SMOVE", "a", "b", "m"},
             {"BLPOP", "a", "b", "0"},
             {"LMPOP", "2", "a", "b", "LEFT"},
             {"BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2"},
             {"BLMPOP", "0", "x", "a", "LEFT"},
             {"LMOVE", "a", "b", "LEFT", "RIGHT"},
             {"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
             {"ZUNION", "2", "a", "b", "WITHSCORES"},
             {"ZINTERCARD", "3", "a", "b"},
             {"ZRANGESTORE", "d", "s", "0", "-1"},
             {"BZMPOP", "1", "2", "a", "b", "MIN"},
             {"BZPOPMIN", "a", "b", "0"},
             {"SINTERSTORE", "d", "a", "b"},
             {"OBJECT", "ENCODING", "k"},
             {"get", "k"},
             {"PING"},
             {"CLIENT", "KILL", "x"},
             {"CONFIG", "GET", "x"},
             {"client|kill", "x"},
             {"nosuch", "k"},
             {"GET"},
         }) {
      for (const char* sub : {"GETKEYS", "GETKEYSANDFLAGS"}) {
        Argv argv = {"COMMAND", sub};
        argv.insert(argv.end(), command.begin(), command.end());
        Same(pair, argv);
      }
    }
  }
}

TEST_CASE("COMMAND LIST FILTERBY and COMMAND COUNT") {
  if (!HaveReference()) return;
  Servers servers;
  for (int protocol : {2, 3}) {
    CAPTURE(protocol);
    Pair pair(servers.ours.port(), servers.redis.port(), protocol);
    const Names common = Common(pair);
    auto restricted = [&](RespNode* reply) { FilterAndSort(reply, 1, common); };
    const RespNode categories = pair.redis.Call({"ACL", "CAT"});
    REQUIRE(categories.children.size() == 21);
    for (const RespNode& category : categories.children) {
      Same(pair, {"COMMAND", "LIST", "FILTERBY", "ACLCAT", category.value}, restricted);
    }
    for (const char* pattern : {"*", "get*", "CLIENT|*", "*|*", "*e?", "[a-d]*", "c?ient", "x*"}) {
      Same(pair, {"COMMAND", "LIST", "FILTERBY", "PATTERN", pattern}, restricted);
    }
    for (const Argv& argv : std::vector<Argv>{
             {"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"},
             {"COMMAND", "LIST", "FILTERBY", "MODULE", "x"},
             {"COMMAND", "LIST", "FILTERBY", "BOGUS", "x"},
             {"COMMAND", "LIST", "FILTERBY", "ACLCAT"},
             {"COMMAND", "LIST", "x"},
         }) {
      Same(pair, argv);
    }

    // Our count is our commands, whichever way they are enumerated.
    const RespNode count = pair.ours.Call({"COMMAND", "COUNT"});
    REQUIRE(count.type == ':');
    const auto n = static_cast<std::size_t>(std::stoll(count.value));
    const RespNode all = pair.ours.Call({"COMMAND"});
    CHECK(all.children.size() == n);
    CHECK(pair.ours.Call({"COMMAND", "INFO"}).Encode() == all.Encode());
    std::size_t top_level = 0;
    for (const std::string& name : ListNames(pair.ours)) {
      top_level += name.find('|') == std::string::npos ? 1 : 0;
    }
    CHECK(top_level == n);
    const RespNode docs = pair.ours.Call({"COMMAND", "DOCS"});
    CHECK(docs.children.size() == 2 * n);  // a map: name, docs
    // Every entry of COMMAND is what COMMAND INFO says of it by name.
    for (const RespNode& entry : all.children) {
      const RespNode one = pair.ours.Call({"COMMAND", "INFO", entry.children[0].value});
      REQUIRE(one.children.size() == 1);
      CHECK(one.children[0].Encode() == entry.Encode());
    }
  }
}

}  // namespace
