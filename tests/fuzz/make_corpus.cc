// Writes the seed corpora (tests/fuzz/corpus/<target>/) from the project's own encoders, so the
// seeds are what a real node, client or disk holds; each fuzzer's header says how its input is
// laid out. Run by `scripts/fuzz.sh --make-corpus`; the output is committed.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anti_entropy_messages.h"
#include "cluster/bus_protocol.h"
#include "cluster/gossip_message.h"
#include "cluster/versioned_value.h"
#include "commit_log.h"
#include "config.h"
#include "crdt/add_wins_map.h"
#include "crdt/hll_registers.h"
#include "crdt/hll_state.h"
#include "crdt/or_set.h"
#include "crdt/or_sorted_set.h"
#include "crdt/sequence.h"
#include "default_config.h"
#include "file_names.h"
#include "rdb/dump_payload.h"
#include "rdb/file_writer.h"
#include "rdb/primitives.h"
#include "rdb/value.h"
#include "segment_writer.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace fs = std::filesystem;
using namespace dynakv;

namespace {

fs::path g_root;

void Seed(const std::string& target, const std::string& name, std::string_view bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), bytes.size());
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Multibulk(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

void RespSeeds() {
  const std::string hdr_plain("\x00\x00", 2), hdr_small("\x02\x03", 2), hdr_unauth("\x01\x00", 2);
  Seed("resp_parser", "ping", hdr_plain + Multibulk({"PING"}));
  Seed("resp_parser", "set_get_pipelined",
       hdr_plain + Multibulk({"SET", "key", "value"}) + Multibulk({"GET", "key"}));
  Seed("resp_parser", "inline", hdr_plain + "SET k \"a\\x41\\n\" 'b\\'c'\r\nGET k\n\r\n");
  Seed("resp_parser", "empty_and_null", hdr_plain + "*0\r\n*-1\r\n" + Multibulk({""}));
  Seed("resp_parser", "small_limits", hdr_small + Multibulk({"SET", "k", "0123456789abcdef"}));
  Seed("resp_parser", "unauth", hdr_unauth + Multibulk({"AUTH", "secret"}));
  Seed("resp_parser", "bad_bulk", hdr_plain + "*1\r\n$3\r\nGETX\r\n");
  Seed("resp_parser", "binary", hdr_plain + Multibulk({"SET", std::string("\0\r\n\xff", 4), "v"}));
}

cluster::SiblingSet SampleSet() {
  cluster::SiblingSet set;
  cluster::Version v = set.NewVersion({}, "n1", 1700000000000000);
  v.value = "hello";
  set.Add(v);
  cluster::Version w = set.NewVersion({}, "n2", 1700000000000001);
  w.tombstone = true;
  set.Add(w);
  return set;
}

void BusSeeds() {
  namespace bus = cluster::bus;
  const std::string hdr("\x00\x05", 2);
  const std::string set = SampleSet().Encode();
  Seed("bus_frame", "hello",
       hdr + bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("n1")));
  Seed("bus_frame", "ping_pong",
       hdr + bus::EncodeFrame(bus::FrameType::kPing, 1, "") +
           bus::EncodeFrame(bus::FrameType::kPong, 1, ""));
  Seed("bus_frame", "replica_put",
       hdr + bus::EncodeFrame(bus::FrameType::kReplicaPut, 7, bus::EncodeReplicaPut("key", set)));
  Seed("bus_frame", "replica_put_hinted",
       hdr + bus::EncodeFrame(bus::FrameType::kReplicaPutHinted, 8,
                              bus::EncodeReplicaPutHinted("key", set, "n3")));
  Seed("bus_frame", "get_and_replies",
       hdr + bus::EncodeFrame(bus::FrameType::kReplicaGet, 9, bus::EncodeReplicaGet("key")) +
           bus::EncodeFrame(bus::FrameType::kReply, 9, bus::EncodeReply(set)) +
           bus::EncodeFrame(bus::FrameType::kReply, 10, bus::EncodeReply()) +
           bus::EncodeFrame(bus::FrameType::kError, 11, bus::EncodeError("ERR no")));
  Seed("bus_frame", "small_limit_torn",
       std::string("\x01\x01", 2) + bus::EncodeFrame(bus::FrameType::kReplicaGet, 2,
                                                     bus::EncodeReplicaGet(std::string(60, 'k'))));
}

void GossipSeeds() {
  cluster::MembershipView::Entries entries;
  for (int i = 1; i <= 3; ++i) {
    cluster::GossipEntry e;
    e.info.id = "n" + std::to_string(i);
    e.info.host = "127.0.0.1";
    e.info.port = 7000 + i;
    e.info.dc = i == 3 ? "dc2" : "dc1";
    e.info.rack = "r" + std::to_string(i);
    e.info.weight = i;
    e.generation = 1700000000000 + i;
    e.heartbeat = 10 * i;
    e.version = i;
    e.status = i == 3 ? cluster::NodeStatus::kLeaving : cluster::NodeStatus::kNormal;
    entries.emplace(e.info.id, e);
    if (i == 1) Seed("gossip", "one_member", cluster::EncodeGossip("n1", entries));
  }
  Seed("gossip", "three_members", cluster::EncodeGossip("n2", entries));
}

void AntiEntropySeeds() {
  namespace ae = cluster::ae;
  auto seed = [](char selector, const std::string& name, const std::string& payload) {
    Seed("anti_entropy", name, std::string(1, selector) + payload);
  };
  seed(0, "hashes_request", ae::EncodeHashesRequest({10, 3, {0, 5, 7}}));
  seed(1, "hashes", ae::EncodeHashes({1, 0xffffffffffffffffull, 42}));
  seed(2, "keys_request", ae::EncodeKeysRequest({10, {1, 1023}}));
  seed(3, "keys", ae::EncodeKeys({{{"a", 1}, {"b", 2}}, {}, {{"c", 3}}}));
  seed(4, "fetch_request", ae::EncodeFetchRequest({"a", "", "key"}));
  seed(5, "fetched",
       ae::EncodeFetched({{ae::FetchStatus::kValue, SampleSet().Encode()},
                          {ae::FetchStatus::kNone, ""},
                          {ae::FetchStatus::kOmitted, ""}}));
  seed(6, "push", ae::EncodePush({{"a", "set-a"}, {"b", ""}}));
  seed(7, "all_decoders", ae::EncodeKeys({{{"k", 9}}}));
}

void CommitLogSeeds(const fs::path& tmp) {
  std::unique_ptr<storage::CommitLog> log;
  if (!storage::CommitLog::Create(tmp.string(), 1, storage::FsyncPolicy::kNo, &log).ok()) {
    std::cerr << "cannot create a commit log in " << tmp << "\n";
    std::exit(1);
  }
  storage::LogRecord put{storage::LogRecordType::kPut, "key", "value", 5, false, 0};
  storage::LogRecord put_ttl{storage::LogRecordType::kPut, "k2", "xyz", 3, false, 1700000000000};
  storage::LogRecord del{storage::LogRecordType::kDelete, "key", {}, 0, false, 0};
  storage::LogRecord exp{storage::LogRecordType::kExpire, "k2", {}, 0, false, 1800000000000};
  storage::LogRecord clear{storage::LogRecordType::kClear, {}, {}, 0, false, 0};
  // Numbered databases: a key of namespace 3, and the records that remap databases.
  storage::LogRecord put_ns = put;
  put_ns.ns = 3;
  storage::LogRecord flushdb;
  flushdb.type = storage::LogRecordType::kFlushDb;
  flushdb.db = 2;
  flushdb.ns = 1u << 20;
  storage::LogRecord swapdb;
  swapdb.type = storage::LogRecordType::kSwapDb;
  swapdb.db = 0;
  swapdb.db2 = 5;
  storage::LogRecord move = put_ttl;
  move.type = storage::LogRecordType::kMove;
  move.from_ns = 0;
  move.ns = 4;
  for (const auto& r : {put, put_ttl, del, exp, clear, put_ns, flushdb, swapdb, move}) log->Add(r);
  if (!log->Flush().ok()) std::exit(1);
  log.reset();
  const std::string file = ReadAll(tmp / storage::LogFileName(1));
  if (file.size() < 16) {
    std::cerr << "commit log file not found in " << tmp << "\n";
    std::exit(1);
  }
  Seed("commit_log", "log", std::string(1, '\0') + file);
  Seed("commit_log", "log_torn", std::string(1, '\0') + file.substr(0, file.size() - 3));
  Seed("commit_log", "empty_file", std::string(1, '\0'));
  Seed("commit_log", "zero_magic", std::string(1, '\0') + std::string(8, '\0'));
  // Framed mode: [1][count] then (type, length, payload); payloads cut from the real file.
  std::string framed("\x01\x03", 2);
  framed += std::string("\x01\x0e", 2) + std::string("\x03keyxx", 6);  // a malformed put
  framed += std::string("\x02\x04", 2) + std::string("\x03key", 4);    // a delete
  framed += std::string("\x04\x00", 2);                                // a clear
  Seed("commit_log", "framed", framed);
  fs::remove(tmp / storage::LogFileName(1));
}

void SegmentSeeds(const fs::path& tmp) {
  const fs::path path = tmp / "seg.sst";
  std::unique_ptr<storage::SegmentWriter> w;
  if (!storage::SegmentWriter::Create(path.string(), &w).ok()) std::exit(1);
  storage::SegmentRecord a{1, 0, 0, "a", "value-a", 7};
  storage::SegmentRecord b{1, 0, 1700000000000, "b", "vb", 2};
  storage::SegmentRecord c{5, storage::SegmentRecord::kTombstone, 0, "c", "", 0};
  storage::SegmentRecord d{9, storage::SegmentRecord::kCompressed, 0, "d", "zz", 100};
  storage::SegmentRecord d_ns{9, 0, 0, "d", "in-db", 5, 7};  // the same key, namespace 7
  for (const auto& r : {a, b, c, d, d_ns}) w->Add(r);
  if (!w->Finish().ok()) std::exit(1);
  w.reset();
  const std::string probe(8, '\x01');
  Seed("segment", "segment", std::string(1, '\0') + probe + ReadAll(path));
  fs::remove(path);
  // Laid-out mode: one block holding one record, index hash 1, empty bloom, made-up counts.
  std::string block;
  storage::AppendSegmentRecord(&block, a);
  std::string laid(1, '\x01');
  laid += probe;
  laid += '\x01';                                // one block
  laid += std::string("\x01\0\0\0\0\0\0\0", 8);  // first hash
  block.resize((block.size() + 1) / 2 * 2, '\0');
  laid += static_cast<char>(block.size() / 2);
  laid += block;
  laid += '\0';                     // bloom: empty
  laid += std::string(24, '\x01');  // record count, expiring, earliest
  Seed("segment", "laid_out", laid);
  // Writer mode: [2][count] then records (see RoundTrip in segment_fuzzer.cc).
  std::string recs("\x02\x03", 2);
  recs += std::string("\x00\x01\x01k\x03val", 7);
  recs += std::string("\x02\x01\x01j\x00", 5);         // a tombstone on a colliding hash
  recs += std::string("\x04\x02\x02kk\x02zz\x10", 8);  // compressed, raw length 16
  Seed("segment", "writer", recs);
}

// The config fuzzer's flags part: each flag after a NUL.
std::string Flags(const std::vector<std::string>& flags) {
  std::string out;
  for (const auto& f : flags) out += std::string(1, '\0') + f;
  return out;
}

void ConfigSeeds() {
  Seed("config", "node_toml", server::kDefaultConfigToml);
  server::Config config;
  Seed("config", "rendered", server::RenderConfigToml(config));
  Seed("config", "cluster",
       std::string("[cluster]\nenabled = true\nnode-id = \"n1\"\nnodes = "
                   "\"n1@127.0.0.1:7001/dc1,n2@127.0.0.1:7002/dc1,n3@127.0.0.1:7003/dc2/2\"\n"
                   "replication-factor = 3\nreplicas-per-dc = \"dc1:2,dc2:1\"\n"
                   "read-consistency = \"one\"\n[storage]\nmaxmemory = \"1gb\"\n") +
           Flags({"--port", "7001", "--maxmemory-policy", "allkeys-lru", "--hz", "100"}));
  Seed("config", "flags_only",
       Flags({"--appendfsync", "always", "--cluster-nodes", "a@h:1", "--requirepass", "x"}));
}

void GlobSeeds() {
  auto seed = [](const std::string& name, bool nocase, const std::string& pattern,
                 const std::string& text) {
    Seed("glob", name,
         std::string(1, nocase ? '\x01' : '\0') + static_cast<char>(pattern.size()) + pattern +
             text);
  };
  seed("star", false, "user:*", "user:1000");
  seed("classes", false, "h[ae-f]ll?[^0-9]", "hello");
  seed("nocase_range", true, "[A-Z]*[z-a]", "Quiz");
  seed("escapes", false, "a\\*b[\\]x]", "a*b]");
  seed("unterminated", false, "[abc", "b");
  seed("backtrack", false, "a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaac");
}

// restore_payload: [mode] then a payload (mode 0) or a value to frame (mode 1); see the fuzzer.
// Values of every type in both encodings, as DUMP writes them, and Redis 6's ziplist forms.
void RestorePayloadSeeds() {
  const types::TypeLimits limits;
  auto seed = [](const std::string& name, const std::string& value) {
    Seed("restore_payload", name + "_payload", std::string(1, '\0') + rdb::MakeDumpPayload(value));
    Seed("restore_payload", name + "_value", std::string(1, '\1') + value);
  };
  auto encoded = [](const storage::ValueObject& object) {
    std::string out;
    rdb::EncodeObject(object, rdb::EncodeOptions{}, &out);
    return out;
  };
  std::string out;
  rdb::EncodeString("12345", rdb::EncodeOptions{}, &out);
  seed("string_int", out);
  out.clear();
  rdb::EncodeString(std::string(300, 'a') + "tail" + std::string(100, 'b'), rdb::EncodeOptions{},
                    &out);
  seed("string_lzf", out);
  types::Hash small_hash, big_hash;
  types::Set intset, big_set;
  types::List small_list, big_list;
  types::SortedSet small_zset, big_zset;
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    small_hash.Set("f" + n, n, limits);
    intset.Add(std::to_string(i * 70000 - 3), limits);
    small_list.PushBack(i == 1 ? "-300" : "e" + n, limits);
    small_zset.Add("m" + n, i == 2 ? 0.25 : i, limits);
  }
  for (int i = 0; i < 200; ++i) {
    const std::string n = std::to_string(i);
    big_hash.Set("field" + n, std::string(i % 70, 'v'), limits);
    big_set.Add("member" + n, limits);
    big_list.PushBack(std::string(i % 90, 'x') + n, limits);
    big_zset.Add("member" + n, i / 3.0, limits);
  }
  seed("hash_listpack", encoded(small_hash));
  seed("hash_hashtable", encoded(big_hash));
  seed("set_intset", encoded(intset));
  seed("set_hashtable", encoded(big_set));
  seed("list_quicklist2", encoded(small_list));
  seed("list_many_nodes", encoded(big_list));
  seed("zset_listpack", encoded(small_zset));
  seed("zset_skiplist", encoded(big_zset));
  // A Redis 6 quicklist of one ziplist ("a", 7, "hello") and a ziplist hash {f: 1}.
  const std::string ziplist(
      "\x17\x00\x00\x00\x0f\x00\x00\x00\x03\x00\x00\x01\x61"
      "\x03\xf8\x02\x05hello\xff",
      23);
  std::string quick(1, static_cast<char>(rdb::ObjectType::kListQuicklist));
  rdb::PutLength(&quick, 1);
  rdb::PutString(&quick, ziplist, false);
  seed("list_quicklist_ziplist", quick);
  const std::string zl_hash(
      "\x10\x00\x00\x00\x0d\x00\x00\x00\x02\x00\x00\x01\x66"
      "\x03\xf2\xff",
      16);
  std::string hash_zl(1, static_cast<char>(rdb::ObjectType::kHashZiplist));
  rdb::PutString(&hash_zl, zl_hash, false);
  seed("hash_ziplist", hash_zl);
  std::string zipmap(1, static_cast<char>(rdb::ObjectType::kHashZipmap));
  rdb::PutString(&zipmap,
                 std::string("\x02\x01", 2) + "f" + std::string("\x01\x00", 2) + "1" +
                     "\x04"
                     "long"
                     "\x05\x02"
                     "valuexx"
                     "\xff",
                 false);
  seed("hash_zipmap", zipmap);
}

}  // namespace

// rdb_file: [piece - 1] then an RDB file as SAVE writes it (several databases, expiries, typed
// values), fed whole and in pieces of 1 and 16 bytes.
void RdbFileSeeds() {
  const types::TypeLimits limits;
  std::string file;
  rdb::RdbWriter writer([&](std::string_view bytes) {
    file.append(bytes);
    return true;
  });
  writer.Begin("7.0.15", 1700000000, 0);
  writer.SelectDb(0, 2, 1);
  std::string value;
  rdb::EncodeString("12345", rdb::EncodeOptions{}, &value);
  writer.Key("int", value, 0);
  types::Hash hash;
  hash.Set("f", "v", limits);
  value.clear();
  rdb::EncodeObject(hash, rdb::EncodeOptions{}, &value);
  writer.Key("hash", value, 4102444800000);
  writer.SelectDb(5, 1, 0);
  types::List list;
  for (int i = 0; i < 5; ++i) list.PushBack("e" + std::to_string(i), limits);
  value.clear();
  rdb::EncodeObject(list, rdb::EncodeOptions{}, &value);
  writer.Key("list", value, 0);
  writer.Finish();
  Seed("rdb_file", "whole", std::string(1, '\xff') + file);
  Seed("rdb_file", "bytes", std::string(1, '\0') + file);
  Seed("rdb_file", "pieces16", std::string(1, '\x0f') + file);
}

// Convergent values as replicas hold them: states after concurrent writes, and deltas.
void CrdtSeeds() {
  crdt::ORSet a, b;
  a.Add("n1#1", "x");
  const crdt::ORSet add = b.Add("n2#1", "y");
  const crdt::ORSet remove = a.Remove("x");
  a.Join(add);
  b.Add("n2#1", "z");
  Seed("crdt", "set", a.Encode());
  Seed("crdt", "set_add_delta", add.Encode());
  Seed("crdt", "set_remove_delta", remove.Encode());
  Seed("crdt", "set_reset_delta", b.Reset().Encode());
  crdt::AddWinsMap m, n;
  m.Set("n1#1", "f", 1765099533000000, "v");
  crdt::AddWinsMap inc;
  std::int64_t result;
  n.IncrBy("n2#1", "f", -3, &result, &inc);
  m.Join(inc);
  m.Join(n.Set("n2#1", "g", 1765099533000001, "w"));
  Seed("crdt", "map", m.Encode());
  Seed("crdt", "map_incr_delta", inc.Encode());
  crdt::ORSortedSet z;
  z.Add("n1#1", "m", 5, 1.5);
  crdt::ORSortedSet zinc;
  double score;
  z.IncrBy("n2#1", "m", 0.25, &score, &zinc);
  Seed("crdt", "zset", z.Encode());
  Seed("crdt", "zset_incr_delta", zinc.Encode());
  crdt::Sequence l;
  l.PushBack("n1#1", "a");
  const crdt::Sequence push = l.PushFront("n2#1", "b");
  std::optional<std::string> popped;
  const crdt::Sequence pop = l.PopBack(&popped);
  Seed("crdt", "list", l.Encode());
  Seed("crdt", "list_push_delta", push.Encode());
  Seed("crdt", "list_pop_delta", pop.Encode());
  crdt::HllRegisters h;
  const crdt::HllRegisters hd = h.Add("a");
  for (int i = 0; i < 200; ++i) h.Add(std::to_string(i));
  Seed("crdt", "hll_sparse", h.Encode());
  Seed("crdt", "hll_delta", hd.Encode());
  crdt::HllState e;
  e.Raise(h);
  Seed("crdt", "hll_state", e.Encode());
  Seed("crdt", "hll_state_reset", e.Reset(7, "n2", nullptr).Encode());
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <corpus dir>\n";
    return 2;
  }
  g_root = argv[1];
  const fs::path tmp = fs::temp_directory_path() / ("dynakv-corpus-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  RespSeeds();
  BusSeeds();
  GossipSeeds();
  AntiEntropySeeds();
  CommitLogSeeds(tmp);
  SegmentSeeds(tmp);
  ConfigSeeds();
  GlobSeeds();
  RestorePayloadSeeds();
  RdbFileSeeds();
  CrdtSeeds();
  fs::remove_all(tmp);
  return 0;
}
