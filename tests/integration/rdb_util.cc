#include "rdb_util.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "reference_pair.h"
#include "server_process.h"

namespace dynakv::itest {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void Ok(Client& client, const std::vector<std::string>& argv) {
  const Reply reply = client.Command(argv);
  REQUIRE_MESSAGE(!reply.IsError(), DescribeCommand(argv) << " -> " << reply);
}

void Fill(Client& redis, const std::vector<int>& dbs, bool with_stream) {
  for (int db : dbs) {
    Ok(redis, {"SELECT", std::to_string(db)});
    const std::string p = "db" + std::to_string(db) + ":";
    Ok(redis, {"SET", p + "int", "12345"});
    Ok(redis, {"SET", p + "neg", "-9000000000"});
    Ok(redis, {"SET", p + "str", "hello world"});
    Ok(redis, {"SET", p + "lzf", std::string(3000, 'a') + "tail"});
    Ok(redis, {"SET", p + "bin", RandomBytes(500, db + 1)});
    Ok(redis, {"SET", std::string("bin\0key\xff", 8) + p, "binary key"});
    Ok(redis, {"SET", p + "ttl", "expiring", "PX", "86400000"});
    Ok(redis, {"RPUSH", p + "list", "a", "b", "1", "300", "-5"});
    std::vector<std::string> big_list = {"RPUSH", p + "biglist"};
    for (int i = 0; i < 1500; ++i) big_list.push_back("element-" + std::to_string(i));
    big_list.push_back(std::string(20000, 'x'));  // a plain node
    Ok(redis, big_list);
    Ok(redis, {"SADD", p + "intset", "1", "2", "3", "-70000", "4000000000"});
    std::vector<std::string> big_intset = {"SADD", p + "bigintset"};
    for (int i = 0; i < 700; ++i) big_intset.push_back(std::to_string(i * 7));
    Ok(redis, big_intset);
    Ok(redis, {"SADD", p + "set", "x", "y", "zz"});
    std::vector<std::string> big_set = {"SADD", p + "bigset"};
    for (int i = 0; i < 300; ++i) big_set.push_back("member-" + std::to_string(i));
    Ok(redis, big_set);
    Ok(redis, {"HSET", p + "hash", "f1", "v1", "f2", "2"});
    std::vector<std::string> big_hash = {"HSET", p + "bighash"};
    for (int i = 0; i < 300; ++i) {
      big_hash.push_back("field-" + std::to_string(i));
      big_hash.push_back("value-" + std::to_string(i * i));
    }
    Ok(redis, big_hash);
    Ok(redis, {"HSET", p + "longvalue", "f", std::string(100, 'v')});  // hashtable by size
    Ok(redis, {"ZADD", p + "zset", "1", "a", "2.5", "b", "-3", "c", "1e17", "d"});
    std::vector<std::string> big_zset = {"ZADD", p + "bigzset"};
    for (int i = 0; i < 300; ++i) {
      big_zset.push_back(std::to_string(i * 0.5));
      big_zset.push_back("m" + std::to_string(i));
    }
    Ok(redis, big_zset);
    Ok(redis, {"ZADD", p + "ttlzset", "1", "a"});
    Ok(redis, {"PEXPIRE", p + "ttlzset", "500000000"});
  }
  Ok(redis, {"SELECT", "0"});
  if (with_stream) Ok(redis, {"XADD", "stream", "*", "a", "1"});  // not a type of ours: skipped on import
}

namespace {

std::vector<std::string> Strings(const Reply& reply) {
  std::vector<std::string> out;
  for (const Reply& e : reply.elements) out.push_back(e.str);
  return out;
}

}  // namespace

std::map<std::string, std::string> Snapshot(Client& client, const std::vector<int>& dbs,
                                            bool with_stream) {
  std::map<std::string, std::string> out;
  for (int db : dbs) {
    REQUIRE(client.Command({"SELECT", std::to_string(db)}) == Reply::Status("OK"));
    std::string cursor = "0";
    do {
      const Reply scan = client.Command({"SCAN", cursor, "COUNT", "1000"});
      REQUIRE(scan.elements.size() == 2);
      cursor = scan.elements[0].str;
      for (const Reply& k : scan.elements[1].elements) {
        const std::string& key = k.str;
        const std::string type = client.Command({"TYPE", key}).str;
        if (type == "stream" && !with_stream) continue;
        std::string value;
        std::vector<std::string> items;
        if (type == "string") {
          value = client.Command({"GET", key}).str;
        } else if (type == "list") {
          items = Strings(client.Command({"LRANGE", key, "0", "-1"}));
        } else if (type == "set") {
          items = Strings(client.Command({"SMEMBERS", key}));
          std::sort(items.begin(), items.end());
        } else if (type == "hash") {
          const std::vector<std::string> flat = Strings(client.Command({"HGETALL", key}));
          for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
            items.push_back(flat[i] + "=" + flat[i + 1]);
          }
          std::sort(items.begin(), items.end());
        } else if (type == "zset") {
          items = Strings(client.Command({"ZRANGE", key, "0", "-1", "WITHSCORES"}));
        }
        for (const std::string& item : items) value += item + "|";
        // Expiries compared to the minute: both sides read them moments apart.
        const long long pttl = client.Command({"PTTL", key}).integer;
        const std::string ttl = pttl < 0 ? std::to_string(pttl) : std::to_string(pttl / 60000);
        out[std::to_string(db) + " " + key] = type + " " + value + " ttl:" + ttl;
      }
    } while (cursor != "0");
  }
  REQUIRE(client.Command({"SELECT", "0"}) == Reply::Status("OK"));
  return out;
}

void CheckSame(const std::map<std::string, std::string>& expected,
               const std::map<std::string, std::string>& actual) {
  CHECK(expected.size() == actual.size());
  for (const auto& [key, value] : expected) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      FAIL_CHECK("missing key " << key);
      continue;
    }
    CHECK_MESSAGE(it->second == value, "key " << key);
  }
}

std::string PersistenceInfo(Client& client, const std::string& field) {
  return ReadInfoField(client, "persistence", field);
}

std::string Import(Client& client, const std::string& path, std::chrono::milliseconds timeout) {
  const Reply started = client.Command({"IMPORT-RDB", path});
  REQUIRE_MESSAGE(started == Reply::Status("Background RDB import started"), started);
  REQUIRE(
      WaitFor([&] { return PersistenceInfo(client, "rdb_import_in_progress") == "0"; }, timeout));
  return PersistenceInfo(client, "rdb_import_status");
}

std::map<std::string, std::string> LoadedByRedis(const std::string& rdb,
                                                 const std::vector<int>& dbs) {
  ServerProcess redis({"--appendonly", "no"}, ReferenceRedis());  // load dump.rdb, not an AOF
  std::system(("mkdir -p '" + redis.dir() + "'").c_str());
  WriteFile(redis.dir() + "/dump.rdb", rdb);
  redis.Start();
  Client client(redis.port());
  REQUIRE(client.ok());
  auto snapshot = Snapshot(client, dbs);
  redis.Stop();
  return snapshot;
}

}  // namespace dynakv::itest
