// RDB round trips against a real redis-server 7 (test_rdb.cc, test_rdb_cluster.cc): a dataset of
// every type in every encoding Redis writes, a per-type snapshot of a server's keys to compare
// two servers with, IMPORT-RDB run to its end, and what a fresh redis-server loads from a file.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "client.h"

namespace dynakv::itest {

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// `argv` must not be answered with an error.
void Ok(Client& client, const std::vector<std::string>& argv);

// Every type, both encodings of each (small and large collections, integers, LZF strings, binary
// keys and values, expiries), in each of `dbs`; and, `with_stream`, one stream in database 0
// (not a type here: an import skips and counts it, a replica refuses XADD).
void Fill(Client& redis, const std::vector<int>& dbs, bool with_stream = true);

// Each key of each of `dbs` as "db key" -> "type value ttl:minutes", read type by type (SCAN,
// then GET / LRANGE / SMEMBERS / HGETALL / ZRANGE WITHSCORES and PTTL).
std::map<std::string, std::string> Snapshot(Client& client, const std::vector<int>& dbs,
                                            bool with_stream = false);
// Every key of `expected` in `actual` with the same value, and no more.
void CheckSame(const std::map<std::string, std::string>& expected,
               const std::map<std::string, std::string>& actual);

// INFO persistence's `field`.
std::string PersistenceInfo(Client& client, const std::string& field);
// IMPORT-RDB `path`, waiting (bounded by `timeout`) for it to end; its final status.
std::string Import(Client& client, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));
// What a fresh redis-server makes of `rdb` (loaded as its dump.rdb at start).
std::map<std::string, std::string> LoadedByRedis(const std::string& rdb,
                                                 const std::vector<int>& dbs);

}  // namespace dynakv::itest
