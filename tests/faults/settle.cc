#include "settle.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "collections.h"
#include "conn.h"
#include "op_log.h"

namespace dynakv::faults {
namespace {

using Clock = std::chrono::steady_clock;

// The number in "field:<n>" of INFO `section`; -1 when absent or unreadable.
long long InfoNumber(Conn& conn, const std::string& section, const std::string& field) {
  const Reply reply = conn.Command({"INFO", section});
  const std::string text = "\r\n" + reply.str;
  const std::size_t at = text.find("\r\n" + field + ":");
  if (reply.type != Reply::Type::kString || at == std::string::npos) return -1;
  return std::atoll(text.c_str() + at + field.size() + 3);
}

std::string Render(const Reply& r) { return r.type == Reply::Type::kString ? r.str : r.Describe(); }

class Cluster {
 public:
  explicit Cluster(const std::vector<std::string>& nodes) : addresses_(nodes) {
    conns_.resize(nodes.size());
  }
  int size() const { return static_cast<int>(addresses_.size()); }
  // Node i's connection (0-based), reconnected when broken.
  Conn& at(int i) {
    std::unique_ptr<Conn>& conn = conns_[static_cast<std::size_t>(i)];
    if (conn == nullptr || !conn->ok()) {
      std::string host;
      int port = 0;
      ParseAddress(addresses_[static_cast<std::size_t>(i)], &host, &port);
      conn = std::make_unique<Conn>(host, port, std::chrono::seconds(10));
    }
    return *conn;
  }

 private:
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

bool WaitUntil(Clock::time_point deadline, const auto& done) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

long long PendingHints(Cluster& cluster) {
  long long total = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    const long long n = InfoNumber(cluster.at(i), "cluster", "cluster_hints_pending");
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

// Every node's own copy's bytes (DEBUG LOCALRAW: the encoded version set) of `key` into
// `copies`; true when they all agree.
bool ReadRaw(Cluster& cluster, const std::string& key, std::vector<std::string>* copies) {
  bool same = true;
  copies->clear();
  for (int i = 0; i < cluster.size(); ++i) {
    copies->push_back(Render(cluster.at(i).Command({"DEBUG", "LOCALRAW", key})));
    same = same && copies->back() == copies->front();
  }
  return same;
}

// Every node's own copy of every key; true when they all agree byte for byte.
bool ReadCopies(Cluster& cluster, FinalState* final) {
  bool same = true;
  for (std::size_t k = 0; k < final->keys.size(); ++k) {
    same = ReadRaw(cluster, KeyName(static_cast<int>(k)), &final->keys[k].copies) && same;
  }
  for (std::size_t k = 0; k < final->counters.size(); ++k) {
    same = ReadRaw(cluster, CounterName(static_cast<int>(k)), &final->counters[k].copies) && same;
  }
  for (std::size_t k = 0; k < final->collections.size(); ++k) {
    same = ReadRaw(cluster, CollectionName(static_cast<int>(k)), &final->collections[k].copies) &&
           same;
  }
  for (FinalState::Named& other : final->others) {
    same = ReadRaw(cluster, other.name, &other.copies) && same;
  }
  return same;
}

}  // namespace

bool Settle(const SettleOptions& options, FinalState* final) {
  const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  Cluster cluster(options.nodes);
  for (int i = 0; i < cluster.size(); ++i) {
    const bool whole = WaitUntil(deadline, [&] {
      return InfoNumber(cluster.at(i), "cluster", "cluster_members_reachable") == cluster.size();
    });
    if (!whole) {
      std::cerr << "settle: node " << i + 1 << " (" << options.nodes[static_cast<std::size_t>(i)]
                << ") does not reach every member\n";
      return false;
    }
  }
  const bool drained = WaitUntil(deadline, [&] { return PendingHints(cluster) == 0; });
  std::cerr << "settle: cluster whole, hints " << (drained ? "drained" : "NOT drained") << "\n";

  final->keys.assign(static_cast<std::size_t>(options.keys), {});
  final->counters.assign(static_cast<std::size_t>(options.counters), {});
  final->collections.assign(static_cast<std::size_t>(options.collections), {});
  final->others.clear();
  for (const std::string& name : options.others) final->others.push_back({name, {}});
  int rounds = 0;
  bool same = ReadCopies(cluster, final);
  while (!same && Clock::now() < deadline) {
    ++rounds;
    for (int i = 0; i < cluster.size(); ++i) {
      for (int j = 0; j < cluster.size(); ++j) {
        if (i != j) cluster.at(i).Command({"DEBUG", "ANTIENTROPY", "n" + std::to_string(j + 1)});
      }
    }
    same = ReadCopies(cluster, final);
  }
  std::cerr << "settle: replicas " << (same ? "agree" : "still DIFFER") << " after " << rounds
            << " anti-entropy round(s)\n";

  const auto reads_deadline = std::max(deadline, Clock::now() + std::chrono::seconds(30));
  for (int k = 0; k < options.keys; ++k) {
    FinalState::Key& key = final->keys[static_cast<std::size_t>(k)];
    Conn& via = cluster.at(k % cluster.size());
    Reply reply;
    WaitUntil(reads_deadline, [&] {
      reply = via.Command({"GET", KeyName(k), "R", "ALL"});
      return !reply.IsError() && reply.type != Reply::Type::kIo;
    });
    key.read_ok = reply.type == Reply::Type::kString || reply.type == Reply::Type::kNil;
    key.seq = reply.type == Reply::Type::kNil ? 0 : SeqOf(k, reply.str);
    key.read = reply.Describe();
  }
  for (int k = 0; k < options.counters; ++k) {
    FinalState::Counter& counter = final->counters[static_cast<std::size_t>(k)];
    Conn& via = cluster.at(k % cluster.size());
    Reply reply;
    WaitUntil(reads_deadline, [&] {
      reply = via.Command({"GET", CounterName(k), "R", "ALL"});
      return !reply.IsError() && reply.type != Reply::Type::kIo;
    });
    counter.read = reply.Describe();
    if (reply.type == Reply::Type::kNil) {
      counter.read_ok = true;
    } else if (reply.type == Reply::Type::kString) {
      char* end = nullptr;
      counter.value = std::strtoll(reply.str.c_str(), &end, 10);
      counter.read_ok = !reply.str.empty() && *end == '\0';
    }
  }
  for (int k = 0; k < options.collections; ++k) {
    FinalState::Collection& collection = final->collections[static_cast<std::size_t>(k)];
    const CollectionKind& kind = KindOfCollection(k);
    Conn& via = cluster.at(k % cluster.size());
    Reply reply;
    WaitUntil(reads_deadline, [&] {
      // The variadic reads take no trailing R option: the connection's level instead.
      via.Command({"CONSISTENCY", "ALL"});
      reply = via.Command(kind.read(CollectionName(k)));
      return !reply.IsError() && reply.type != Reply::Type::kIo;
    });
    collection.read_ok =
        reply.type == Reply::Type::kArray && (!kind.pairs || reply.elements.size() % 2 == 0);
    collection.read = reply.type == Reply::Type::kArray
                          ? std::to_string(reply.elements.size()) + " elements"
                          : reply.Describe();
    const std::size_t step = kind.pairs ? 2 : 1;
    for (std::size_t i = 0; collection.read_ok && i + step <= reply.elements.size(); i += step) {
      collection.elements[reply.elements[i]] = kind.pairs ? reply.elements[i + 1] : std::string();
    }
  }
  return true;
}

}  // namespace dynakv::faults
