#include "cluster_keys.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "client.h"
#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster_executor.h"
#include "glob.h"
#include "resp/reply_writer.h"
#include "server.h"
#include "snapshot_keyspace.h"
#include "types/codec.h"

namespace dynakv::server {
namespace {

using Kind = ClusterKeysRequest::Kind;

constexpr std::uint64_t kPageKeys = 1000;   // keys per KEY_PAGE of a full walk
constexpr std::uint64_t kRandomDraws = 16;  // RANDOMKEY: keys drawn per member asked
constexpr std::uint64_t kNodeBits = 8;      // SCAN cursor: the member's index
constexpr std::uint64_t kNodeMask = (std::uint64_t{1} << kNodeBits) - 1;

bool Matches(const std::string& pattern, std::string_view key) {
  return pattern == "*" || GlobMatch(pattern, key);
}

// The members in id order: a SCAN cursor names one by its index here.
std::vector<std::string> MemberIds(cluster::ClusterNode& node) {
  std::vector<std::string> ids;
  for (const cluster::NodeInfo& member : node.ring().nodes()) ids.push_back(member.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool Answers(cluster::ClusterNode& node, const std::string& id) {
  return id == node.self_id() || (node.IsAlive(id) && node.PeerReachable(id));
}

std::string Unavailable(const std::string& member, const std::string& error) {
  return "UNAVAILABLE could not list the keys of " + member + ": " + error;
}

// KEYS, DBSIZE, and RANDOMKEY's last resort: every member's keys, page by page, keeping those
// the member is the primary of. Members that do not answer are skipped: their keys' primary is
// the next replica then.
struct Walk : std::enable_shared_from_this<Walk> {
  cluster::ClusterNode& node;
  ClusterKeysRequest request;
  int protocol;
  ClusterExecutor::Finish finish;
  std::vector<std::string> members;
  std::size_t index = 0;
  std::uint64_t cursor = 0;
  std::vector<std::string> keys;
  std::uint64_t counted = 0;

  Walk(cluster::ClusterNode& n, ClusterKeysRequest r, int p, ClusterExecutor::Finish f)
      : node(n), request(std::move(r)), protocol(p), finish(std::move(f)), members(MemberIds(n)) {}

  void Next() {
    while (index < members.size() && !Answers(node, members[index])) {
      ++index;
      cursor = 0;
    }
    if (index == members.size()) return Done();
    node.KeyPage(members[index], cursor, kPageKeys, false,
                 [self = shared_from_this()](cluster::ClusterNode::KeyPageResult page) {
                   self->OnPage(std::move(page));
                 });
  }

  void OnPage(cluster::ClusterNode::KeyPageResult page) {
    if (!page.ok) return finish({}, Unavailable(members[index], page.error));
    for (std::string& key : page.keys) {
      if (node.PrimaryOf(key) != members[index] || !Matches(request.pattern, key)) continue;
      ++counted;
      if (request.kind != Kind::kDbSize) keys.push_back(std::move(key));
    }
    if (request.kind == Kind::kRandomKey && !keys.empty()) return Done();
    cursor = page.next_cursor;
    if (cursor == 0) ++index;
    Next();
  }

  void Done() {
    std::string out;
    resp::ReplyWriter reply(&out, protocol);
    if (request.kind == Kind::kDbSize) {
      reply.Integer(static_cast<long long>(counted));
    } else if (request.kind == Kind::kRandomKey) {
      if (keys.empty()) {
        reply.Null();
      } else {
        std::mt19937_64 random(std::random_device{}());
        reply.Bulk(keys[std::uniform_int_distribution<std::size_t>(0, keys.size() - 1)(random)]);
      }
    } else {
      reply.ArrayHeader(keys.size());
      for (const std::string& key : keys) reply.Bulk(key);
    }
    finish(out, {});
  }
};

// RANDOMKEY: a few random keys from each member in random order until one is the primary of
// one of them; a full walk when none is (few keys, or unlucky draws).
struct RandomDraw : std::enable_shared_from_this<RandomDraw> {
  cluster::ClusterNode& node;
  int protocol;
  ClusterExecutor::Finish finish;
  std::vector<std::string> members;
  std::size_t index = 0;

  RandomDraw(cluster::ClusterNode& n, int p, ClusterExecutor::Finish f)
      : node(n), protocol(p), finish(std::move(f)), members(MemberIds(n)) {
    std::shuffle(members.begin(), members.end(), std::mt19937_64(std::random_device{}()));
  }

  void Next() {
    while (index < members.size() && !Answers(node, members[index])) ++index;
    if (index == members.size()) {
      ClusterKeysRequest walk_request;
      walk_request.kind = Kind::kRandomKey;
      std::make_shared<Walk>(node, std::move(walk_request), protocol, std::move(finish))->Next();
      return;
    }
    node.KeyPage(members[index], 0, kRandomDraws, true,
                 [self = shared_from_this()](cluster::ClusterNode::KeyPageResult page) {
                   self->OnPage(std::move(page));
                 });
  }

  void OnPage(cluster::ClusterNode::KeyPageResult page) {
    if (page.ok) {
      for (const std::string& key : page.keys) {
        if (node.PrimaryOf(key) != members[index]) continue;
        std::string out;
        resp::ReplyWriter reply(&out, protocol);
        reply.Bulk(key);
        return finish(out, {});
      }
    }
    ++index;
    Next();
  }
};

// One SCAN call: one page of one member, then (TYPE) each kept key read at ONE for its type.
struct ScanStep : std::enable_shared_from_this<ScanStep> {
  Server& server;
  cluster::ClusterNode& node;
  ClusterKeysRequest request;
  int protocol;
  ClusterExecutor::Finish finish;
  std::vector<std::string> members = MemberIds(node);
  std::size_t index = 0;
  std::uint64_t next = 0;
  std::vector<std::string> keys;
  std::vector<bool> type_matches;
  std::size_t reads_pending = 0;

  ScanStep(Server& s, cluster::ClusterNode& n, ClusterKeysRequest r, int p,
           ClusterExecutor::Finish f)
      : server(s), node(n), request(std::move(r)), protocol(p), finish(std::move(f)) {}

  // The cursor after `member`'s scan reached `position` (0: done with it).
  std::uint64_t CursorAfter(std::size_t member, std::uint64_t position) const {
    if (position != 0) {
      // Rounded up so the member's index fits below it (see ClusterKeysRequest): past the end of
      // the hash space the member is done.
      const std::uint64_t up = (position + kNodeMask) & ~kNodeMask;
      if (up >= position) return up | member;
    }
    return member + 1 < members.size() ? member + 1 : 0;
  }

  void Start() {
    index = request.cursor & kNodeMask;
    std::uint64_t position = request.cursor & ~kNodeMask;
    if (index >= members.size()) return finish({}, "ERR invalid cursor");
    while (!Answers(node, members[index])) {
      // Its keys are answered by their next replicas, which this scan visits (or visited:
      // a member down since it was scanned leaves its keys to the others' pages).
      if (++index == members.size()) return Reply();
      position = 0;
    }
    node.KeyPage(members[index], position, request.count, false,
                 [self = shared_from_this()](cluster::ClusterNode::KeyPageResult page) {
                   self->OnPage(std::move(page));
                 });
  }

  void OnPage(cluster::ClusterNode::KeyPageResult page) {
    if (!page.ok) return finish({}, Unavailable(members[index], page.error));
    next = CursorAfter(index, page.next_cursor);
    for (std::string& key : page.keys) {
      if (node.PrimaryOf(key) != members[index] || !Matches(request.pattern, key)) continue;
      keys.push_back(std::move(key));
    }
    if (!request.type || keys.empty()) return Reply();
    type_matches.assign(keys.size(), false);
    reads_pending = keys.size();
    const cluster::ConsistencyLevel one{cluster::ConsistencyLevel::Kind::kOne};
    for (std::size_t i = 0; i < keys.size(); ++i) {
      node.Read(keys[i], one, [self = shared_from_this(), i](cluster::ReadResult result) {
        self->OnRead(i, std::move(result));
      });
    }
  }

  void OnRead(std::size_t i, cluster::ReadResult result) {
    if (result.ok) {
      SnapshotKeyspace snapshot(server.keyspace(), NowMs(), server.codec());
      snapshot.Load(keys[i], result.siblings);
      if (std::optional<storage::ValueRef> value = snapshot.Get(keys[i])) {
        const std::string_view name = types::TypeName(types::TypeOf(value->object()));
        type_matches[i] = std::equal(name.begin(), name.end(), request.type->begin(),
                                     request.type->end(), [](char a, char b) {
                                       return std::tolower(static_cast<unsigned char>(a)) ==
                                              std::tolower(static_cast<unsigned char>(b));
                                     });
      }
    }
    if (--reads_pending > 0) return;
    std::vector<std::string> kept;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (type_matches[k]) kept.push_back(std::move(keys[k]));
    }
    keys = std::move(kept);
    Reply();
  }

  void Reply() {
    std::string out;
    resp::ReplyWriter reply(&out, protocol);
    reply.ArrayHeader(2);
    reply.Bulk(std::to_string(next));
    reply.ArrayHeader(keys.size());
    for (const std::string& key : keys) reply.Bulk(key);
    finish(out, {});
  }
};

}  // namespace

ClusterExecutor* WholeClusterScope(CommandContext& ctx) {
  ClusterExecutor* cluster = ctx.server.cluster_executor();
  if (cluster == nullptr || ctx.client.local_keyscope()) return nullptr;
  // Inside MULTI/EXEC and scripts the command runs over a snapshot: this node's view there.
  if (&ctx.keyspace != &ctx.server.keyspace()) return nullptr;
  return cluster;
}

void ClusterFlushAll(CommandContext& ctx, ClusterExecutor& cluster) {
  cluster::ClusterNode& node = cluster.node();
  const int protocol = ctx.client.protocol();
  cluster.RunAsync(ctx.client, [&node, protocol](ClusterExecutor::Finish finish) {
    node.FlushAll([finish = std::move(finish), protocol](cluster::WriteResult result) {
      if (!result.ok) return finish({}, result.error);
      std::string out;
      resp::ReplyWriter(&out, protocol).Ok();
      finish(out, {});
    });
  });
}

void ClusterKeys(CommandContext& ctx, ClusterExecutor& cluster, ClusterKeysRequest request) {
  cluster::ClusterNode& node = cluster.node();
  Server& server = ctx.server;
  const int protocol = ctx.client.protocol();
  cluster.RunAsync(ctx.client, [&](ClusterExecutor::Finish finish) {
    switch (request.kind) {
      case Kind::kScan:
        std::make_shared<ScanStep>(server, node, std::move(request), protocol, std::move(finish))
            ->Start();
        return;
      case Kind::kRandomKey:
        std::make_shared<RandomDraw>(node, protocol, std::move(finish))->Next();
        return;
      case Kind::kKeys:
      case Kind::kDbSize:
        std::make_shared<Walk>(node, std::move(request), protocol, std::move(finish))->Next();
        return;
    }
  });
}

}  // namespace dynakv::server
