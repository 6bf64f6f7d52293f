#include "rdb_cluster_export.h"

#include <algorithm>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster/versioned_value.h"
#include "command_util.h"
#include "rdb/file_writer.h"
#include "rdb/value.h"
#include "snapshot_keyspace.h"
#include "storage/object.h"

namespace dynakv::server {
namespace {

constexpr std::uint64_t kPageKeys = 1000;

struct ExportWalk : std::enable_shared_from_this<ExportWalk> {
  cluster::ClusterNode& node;
  const storage::ObjectCodec* codec;
  cluster::ConsistencyLevel read;
  rdb::EncodeOptions options;
  std::function<void(std::string, std::string)> done;
  std::vector<std::string> members;  // id order
  std::size_t index = 0;
  std::uint64_t cursor = 0;
  std::size_t reads_pending = 0;
  std::string error;
  std::string out;
  rdb::RdbWriter writer{[this](std::string_view bytes) {
    out.append(bytes);
    return true;
  }};
  std::unordered_set<std::string> seen;  // a key listed twice (liveness changed) goes in once
  std::string value;

  ExportWalk(cluster::ClusterNode& n, const storage::ObjectCodec* c, cluster::ConsistencyLevel r,
             long long list_fill, std::function<void(std::string, std::string)> d)
      : node(n), codec(c), read(std::move(r)), done(std::move(d)) {
    options.list_max_listpack_size = list_fill;
    for (const cluster::NodeInfo& member : node.ring().nodes()) members.push_back(member.id);
    std::sort(members.begin(), members.end());
  }

  bool Answers(const std::string& id) const {
    return id == node.self_id() || (node.IsAlive(id) && node.PeerReachable(id));
  }

  void Start() {
    writer.Begin(kRedisCompatVersion, NowMs() / 1000, 0);
    // RESIZEDB's counts are a sizing hint for the loader: not known before the walk.
    writer.SelectDb(0, 0, 0);
    Next();
  }

  void Next() {
    while (index < members.size() && !Answers(members[index])) {
      ++index;
      cursor = 0;
    }
    if (index == members.size()) {
      writer.Finish();
      return done(std::move(out), {});
    }
    node.KeyPage(members[index], cursor, kPageKeys, false,
                 [self = shared_from_this()](cluster::ClusterNode::KeyPageResult page) {
                   self->OnPage(std::move(page));
                 });
  }

  void OnPage(cluster::ClusterNode::KeyPageResult page) {
    if (!page.ok) {
      return done({}, "could not list the keys of " + members[index] + ": " + page.error);
    }
    const std::string member = members[index];
    cursor = page.next_cursor;
    if (cursor == 0) ++index;
    std::vector<std::string> keys;
    for (std::string& key : page.keys) {
      if (node.PrimaryOf(key) != member) continue;
      if (seen.insert(key).second) keys.push_back(std::move(key));
    }
    if (keys.empty()) return Next();
    reads_pending = keys.size();
    for (std::string& key : keys) {
      node.Read(key, read, [self = shared_from_this(), key](cluster::ReadResult result) {
        self->OnRead(key, std::move(result));
      });
    }
  }

  void OnRead(const std::string& key, cluster::ReadResult result) {
    if (!result.ok) {
      if (error.empty()) error = "read of " + key + " failed: " + result.error;
    } else if (error.empty()) {
      Write(key, result.siblings);
    }
    if (--reads_pending > 0) return;
    if (!error.empty()) return done({}, error);
    Next();
  }

  // The key's live last-write-wins version, if it has one (deleted or expired since it was
  // listed: none).
  void Write(const std::string& key, const cluster::SiblingSet& set) {
    const cluster::Version* winner = set.Resolve();
    if (winner == nullptr || !winner->IsLive(NowMs())) return;
    value.clear();
    if (IsTypedVersion(*winner)) {  // a collection: a value of its type
      std::unique_ptr<storage::ValueObject> object =
          codec != nullptr ? codec->Decode(TypedValue(*winner)) : nullptr;
      if (object == nullptr) {
        error = "the value of " + key + " does not decode";
        return;
      }
      rdb::EncodeObject(*object, options, &value);
    } else {
      rdb::EncodeString(PlainValue(*winner), options, &value);  // a counter: its number
    }
    writer.Key(key, value, winner->expire_at_ms);
  }
};

}  // namespace

void BuildClusterRdb(cluster::ClusterNode& node, const storage::ObjectCodec* codec,
                     const cluster::ConsistencyLevel& read, long long list_max_listpack_size,
                     std::function<void(std::string rdb, std::string error)> done) {
  auto walk =
      std::make_shared<ExportWalk>(node, codec, read, list_max_listpack_size, std::move(done));
  walk->Start();
}

}  // namespace dynakv::server
