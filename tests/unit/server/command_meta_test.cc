// The command table rows as data: every row's facts agree with one another (key specs within the
// arity, writes write their keys, cluster behaviour only where it applies, documentation for
// every row), and what derives from key specs (COMMAND's legacy range and movablekeys, GETKEYS)
// comes out as Redis 7.0 derives it (the expected values are redis-server 7.0.15's).

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "command_docs.h"
#include "command_table.h"

namespace dynakv::server {
namespace {

// Redis 7.0's command tips.
const std::set<std::string_view> kKnownTips = {
    "nondeterministic_output",         "nondeterministic_output_order",
    "request_policy:all_nodes",        "request_policy:all_shards",
    "request_policy:multi_shard",      "request_policy:special",
    "response_policy:one_succeeded",   "response_policy:all_succeeded",
    "response_policy:agg_logical_and", "response_policy:agg_logical_or",
    "response_policy:agg_min",         "response_policy:agg_max",
    "response_policy:agg_sum",         "response_policy:special",
};

constexpr std::uint16_t kWriteAccess = kKeyInsert | kKeyDelete | kKeyUpdate;

void CheckRow(const CommandSpec& spec, const CommandSpec* parent) {
  const std::string name = FullName(spec, parent);
  CAPTURE(name);
  CHECK(spec.arity != 0);
  CHECK_FALSE(((spec.flags & kCmdWrite) && (spec.flags & kCmdReadOnly)));
  const int min_argc = std::abs(spec.arity);
  for (const KeySpec& key : spec.keys.specs()) {
    // Exactly one of RO / RW / OW / RM, as Redis requires of its key specs; none for an
    // argument that is not a key (SSUBSCRIBE's shard channels: NOT_KEY alone, as in Redis).
    const int kinds = ((key.flags & kKeyRO) != 0) + ((key.flags & kKeyRW) != 0) +
                      ((key.flags & kKeyOW) != 0) + ((key.flags & kKeyRM) != 0);
    CHECK(kinds == ((key.flags & kKeyNotKey) ? 0 : 1));
    CHECK(key.begin != KeySpec::Begin::kNone);
    if (key.begin == KeySpec::Begin::kIndex) {
      // Within the arguments every request has, past the command's own name; a variadic
      // command's optional keys (PFMERGE's sources) may start right after them.
      CHECK(key.index >= 1);
      CHECK(key.index <= (spec.arity > 0 ? min_argc - 1 : min_argc));
      if (key.find == KeySpec::Find::kRange && key.a >= 0) CHECK(key.index + key.a < min_argc);
    }
    if (key.begin == KeySpec::Begin::kKeyword) CHECK_FALSE(key.keyword.empty());
    if (key.find == KeySpec::Find::kRange) CHECK(key.b >= 1);
    if (key.find == KeySpec::Find::kKeynum) CHECK(key.c >= 1);
    // A readonly command changes no key (PFCOUNT's RW is its cache: no UPDATE); flags decided
    // per request need the row's getkeys.
    if (spec.flags & kCmdReadOnly) CHECK_FALSE((key.flags & kWriteAccess));
    if (key.flags & (kKeyVariableFlags | kKeyIncomplete)) CHECK((spec.getkeys != nullptr));
  }
  if ((spec.flags & kCmdWrite) && HasKeys(spec)) {
    CHECK(spec.keys.AnyFlag(kWriteAccess | kKeyVariableFlags));
  }
  if (!spec.keys.empty() && spec.keys.first > 0) {
    CHECK(spec.keys.step >= 1);
    if (spec.keys.last >= 0) CHECK(spec.keys.last >= spec.keys.first);
  } else {
    CHECK(spec.keys.last == 0);
    CHECK(spec.keys.step == 0);
  }
  // Cluster behaviour only where it means something.
  if (spec.flags & kCmdLevelOption) {
    CHECK(HasKeys(spec));
    CHECK(((spec.flags & kCmdWrite) || (spec.flags & kCmdReadOnly)));
  }
  if (spec.blind != nullptr) {
    CHECK((spec.flags & kCmdWrite));
    CHECK(HasKeys(spec));
  }
  if (spec.flags & kCmdOwnReplication) CHECK(HasKeys(spec));
  std::string_view tips = spec.tips;
  while (!tips.empty()) {
    const std::size_t space = tips.find(' ');
    CHECK(kKnownTips.count(tips.substr(0, space)) == 1);
    tips.remove_prefix(space == std::string_view::npos ? tips.size() : space + 1);
  }
}

TEST_CASE("every row's facts agree with one another") {
  const CommandTable table;
  for (const CommandTable::Entry& entry : table.entries()) CheckRow(*entry.spec, entry.parent);
}

TEST_CASE("every command and subcommand has documentation, and every entry a row") {
  const CommandTable table;
  std::set<std::string> names;
  for (const CommandTable::Entry& entry : table.entries()) {
    CAPTURE(entry.fullname);
    CHECK(entry.doc != nullptr);
    if (entry.doc != nullptr) CHECK(entry.doc->name == entry.fullname);
    names.insert(entry.fullname);
  }
  const auto docs = CommandDocTable();
  for (std::size_t i = 0; i < docs.size(); ++i) {
    CAPTURE(docs[i].name);
    CHECK(names.count(std::string(docs[i].name)) == 1);  // no documentation of a removed row
    if (i > 0) CHECK(docs[i - 1].name < docs[i].name);   // sorted, as FindCommandDoc needs
    CHECK(docs[i].fields >= 1);
  }
}

TEST_CASE("the documentation is written in the client's protocol") {
  std::string out2, out3;
  resp::ReplyWriter resp2(&out2, 2), resp3(&out3, 3);
  const std::string_view doc =
      "$5\r\nflags\r\n~1\r\n+optional\r\n$1\r\na\r\n*1\r\n%1\r\n$1\r\nk\r\n:-2\r\n";
  WriteDocFields(resp2, doc);
  WriteDocFields(resp3, doc);
  CHECK(out3 == doc);
  CHECK(out2 == "$5\r\nflags\r\n*1\r\n+optional\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\nk\r\n:-2\r\n");
}

TEST_CASE("the level option, blind writes and the MISCONF health check are on the rows") {
  const CommandTable table;
  std::vector<std::string_view> with_option, blind;
  for (const CommandSpec* spec : table.sorted()) {
    if (spec->flags & kCmdLevelOption) with_option.push_back(spec->name);
    if (spec->blind != nullptr) blind.push_back(spec->name);
  }
  CHECK(with_option == std::vector<std::string_view>{"decr", "decrby", "del", "get", "incr",
                                                     "incrby", "set", "unlink", "vget", "vset"});
  CHECK(blind == std::vector<std::string_view>{"mset", "psetex", "set", "setex"});
  const CommandSpec& set = *table.Find("set");
  CHECK(set.blind({"set", "k", "v"}));
  CHECK(set.blind({"set", "k", "v", "EX", "10"}));
  for (const char* option : {"NX", "xx", "GET", "KEEPTTL"}) {
    CAPTURE(option);
    CHECK_FALSE(set.blind({"set", "k", "v", option}));
  }
  CHECK(set.blind({"set", "k", "v", "bogus"}));  // a syntax error writes nothing
  CHECK((table.Find("ping")->flags & kCmdRefusedOnLogFailure));
  for (const CommandSpec* spec : table.sorted()) {
    if (spec->name != "ping") CHECK_FALSE((spec->flags & kCmdRefusedOnLogFailure));
  }
  std::vector<std::string_view> node_local;
  for (const CommandSpec* spec : table.defined()) {
    if (NodeLocalInCluster(*spec)) node_local.push_back(spec->name);
  }
  // Every keyspace command without keys covers the whole cluster (kCmdClusterWide) but SWAPDB,
  // which cluster mode refuses.
  CHECK(node_local.empty());
}

struct Legacy {
  int first, last, step;
  bool movable;
};

Legacy Of(const KeySpecs& keys) { return {keys.first, keys.last, keys.step, keys.movable}; }

bool operator==(const Legacy& a, const Legacy& b) {
  return a.first == b.first && a.last == b.last && a.step == b.step && a.movable == b.movable;
}

doctest::String toString(const Legacy& l) {
  return (std::to_string(l.first) + "," + std::to_string(l.last) + "," + std::to_string(l.step) +
          (l.movable ? " movable" : ""))
      .c_str();
}

constexpr std::uint16_t kRO = kKeyRO | kKeyAccess;
constexpr std::uint16_t kOW = kKeyOW | kKeyUpdate;
constexpr std::uint16_t kRWD = kKeyRW | kKeyAccess | kKeyDelete;

// Key specs of Redis commands dynakv may add later, as `COMMAND INFO` shows them.
const KeySpecs kZunionstore = {KeyAt(1, kOW), IndexKeynum(2, 0, 1, 1, kRO)};
const KeySpecs kGeoradius = {KeyAt(1, kRO), KeywordRange("STORE", 6, 0, 1, 0, kOW),
                             KeywordRange("STOREDIST", 6, 0, 1, 0, kOW)};
const KeySpecs kMigrate = {KeyAt(3, kRWD),
                           KeywordRange("KEYS", -2, -1, 1, 0, kRWD | kKeyIncomplete)};
const KeySpecs kBlpop = {IndexRange(1, -2, 1, 0, kRWD)};
const KeySpecs kXread = {KeywordRange("STREAMS", 1, -1, 1, 2, kRO)};
const KeySpecs kLmove = {KeyAt(1, kRWD), KeyAt(2, kKeyRW | kKeyInsert)};
const KeySpecs kLmpop = {IndexKeynum(1, 0, 1, 1, kRWD)};
const KeySpecs kSort = {KeyAt(1, kRO), UnknownKeys(kRO), UnknownKeys(kOW)};

TEST_CASE("the legacy key range and movablekeys derive from the key specs as in Redis") {
  CHECK(Of(kZunionstore) == Legacy{1, 1, 1, true});
  CHECK(Of(kGeoradius) == Legacy{1, 1, 1, true});
  CHECK(Of(kMigrate) == Legacy{3, 3, 1, true});
  CHECK(Of(kBlpop) == Legacy{1, -2, 1, false});
  CHECK(Of(kXread) == Legacy{0, 0, 0, true});
  CHECK(Of(kLmove) == Legacy{1, 2, 1, false});
  CHECK(Of(kLmpop) == Legacy{0, 0, 0, true});
  CHECK(Of(kSort) == Legacy{1, 1, 1, true});
  const CommandTable table;
  CHECK(Of(table.Find("mset")->keys) == Legacy{1, -1, 2, false});
  CHECK(Of(table.Find("rename")->keys) == Legacy{1, 2, 1, false});
  CHECK(Of(table.Find("ping")->keys) == Legacy{0, 0, 0, false});
}

// "pos:flags" of each key the specs find; "error" for -1.
std::string Found(const KeySpecs& specs, int arity, std::vector<std::string_view> argv) {
  std::vector<KeyRef> keys;
  if (KeysFromSpecs(specs, arity, argv, &keys) < 0) return "error";
  std::string out;
  for (const KeyRef& key : keys) {
    out += (out.empty() ? "" : " ") + std::string(argv[static_cast<std::size_t>(key.pos)]);
    out += key.flags == kOW ? ":w" : key.flags == kRO ? ":r" : ":rw";
  }
  return out;
}

TEST_CASE("key specs find keys as Redis's COMMAND GETKEYS does") {
  CHECK(Found(kZunionstore, -4, {"zunionstore", "d", "2", "a", "b", "weights", "1", "2"}) ==
        "d:w a:r b:r");
  CHECK(Found(kZunionstore, -4, {"zunionstore", "d", "x", "a", "b"}) == "error");
  CHECK(Found(kZunionstore, -4, {"zunionstore", "d", "3", "a", "b"}) == "error");
  CHECK(Found(kZunionstore, -4, {"zunionstore", "d", "-1", "a"}) == "error");
  CHECK(Found(kZunionstore, -4, {"zunionstore", "d", "01", "a"}) == "error");
  CHECK(Found(kXread, -4, {"xread", "count", "2", "streams", "a", "b", "0", "0"}) == "a:r b:r");
  CHECK(Found(kXread, -4, {"xread", "streams", "a", "b", "0"}) == "a:r");
  CHECK(Found(kBlpop, -3, {"blpop", "a", "b", "0"}) == "a:rw b:rw");
  CHECK(Found(kGeoradius, -6,
              {"georadius", "g", "0", "0", "1", "m", "store", "s", "storedist", "t"}) ==
        "g:r s:w t:w");
  CHECK(Found(kGeoradius, -6, {"georadius", "g", "0", "0", "1", "m"}) == "g:r");
  CHECK(Found(kLmpop, -4, {"lmpop", "2", "a", "b", "left"}) == "a:rw b:rw");
  CHECK(Found(kMigrate, -6, {"migrate", "h", "p", "", "0", "5", "keys", "a", "b"}) == "error");
  CHECK(Found(kSort, -2, {"sort", "k"}) == "error");
}

TEST_CASE("GetKeys uses the row's getkeys where the flags vary (SET's GET)") {
  const CommandTable table;
  const CommandSpec& set = *table.Find("set");
  std::vector<KeyRef> keys;
  REQUIRE(GetKeys(set, {"set", "k", "v"}, &keys) == 1);
  CHECK(keys[0].pos == 1);
  CHECK(keys[0].flags == (kKeyOW | kKeyUpdate));
  CHECK(KeyAccessOf(keys[0].flags) == kKeyWrite);
  REQUIRE(GetKeys(set, {"set", "k", "v", "EX", "1", "get"}, &keys) == 1);
  CHECK(keys[0].flags == (kKeyRW | kKeyAccess | kKeyUpdate));
  CHECK(KeyAccessOf(keys[0].flags) == kKeyReadWrite);
  REQUIRE(GetKeys(*table.Find("copy"), {"copy", "a", "b", "REPLACE"}, &keys) == 2);
  CHECK(KeyAccessOf(keys[0].flags) == kKeyRead);
  CHECK(KeyAccessOf(keys[1].flags) == kKeyWrite);
  REQUIRE(GetKeys(*table.Find("exists"), {"exists", "a", "b"}, &keys) == 2);
  CHECK(KeyAccessOf(keys[1].flags) == kKeyNone);
  CHECK(GetKeys(*table.Find("ping"), {"ping"}, &keys) == 0);
}

}  // namespace
}  // namespace dynakv::server
