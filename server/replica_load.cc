#include "replica_load.h"

#include "clock.h"
#include "cluster_executor.h"
#include "keyspace.h"
#include "list_blocking.h"
#include "rdb_cluster_writer.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"

namespace dynakv::server {

class ReplicaLoad::Sink final : public rdb::RdbSink {
 public:
  explicit Sink(ReplicaLoad& load) : load_(load) {}

  bool OnKey(rdb::RdbKey& key, std::string* reason) override {
    Server& server = load_.server_;
    if (key.db >= server.databases()) {
      *reason = "key in database " + std::to_string(key.db) + ", but this node has " +
                std::to_string(server.databases()) + " databases";
      return false;
    }
    if (key.expire_at_ms != 0 && key.expire_at_ms <= now_ms_) {
      ++load_.expired_keys_;
      return true;
    }
    if (RdbClusterWriter* cluster = load_.cluster_.get()) {
      std::string value;
      const bool typed = key.value.object != nullptr;
      if (typed) {
        key.value.object->Serialize(&value);
      } else {
        value = std::move(key.value.string);
      }
      cluster->Add(std::move(key.key), typed, std::move(value), key.expire_at_ms);
      return true;
    }
    const auto db = static_cast<std::uint32_t>(key.db);
    Keyspace& keyspace = server.keyspace(db);
    storage::Status status;
    const bool typed = key.value.object != nullptr;
    if (typed) {
      serialized_.clear();
      key.value.object->Serialize(&serialized_);
      status = keyspace.PutObject(key.key, serialized_, key.expire_at_ms);
    } else {
      status = keyspace.Put(key.key, key.value.string, key.expire_at_ms);
    }
    if (!status.ok()) {
      *reason = "write of a key failed: " + status.ToString();
      return false;
    }
    if (typed) server.blocked_lists().SignalReady(db, key.key);
    ++load_.keys_;
    return true;
  }
  void OnSkippedKey(std::uint64_t, std::string_view, std::string_view) override {
    ++load_.skipped_keys_;
  }
  void set_now_ms(std::int64_t now) { now_ms_ = now; }

 private:
  ReplicaLoad& load_;
  std::string serialized_;
  std::int64_t now_ms_ = 0;
};

namespace {
types::TypeLimits LimitsOf(Server& server) {
  const types::TypesCodec* codec = server.codec();
  return codec != nullptr ? codec->limits() : types::TypeLimits{};
}

std::unique_ptr<RdbClusterWriter> ClusterWriterOf(Server& server, std::function<void()> progress) {
  ClusterExecutor* executor = server.cluster_executor();
  if (executor == nullptr) return nullptr;
  const Config& config = server.config();
  return std::make_unique<RdbClusterWriter>(*executor, config.cluster_read_consistency,
                                            config.cluster_write_consistency, std::move(progress));
}
}  // namespace

ReplicaLoad::ReplicaLoad(Server& server, std::function<void()> progress)
    : server_(server),
      cluster_(ClusterWriterOf(server, std::move(progress))),
      sink_(std::make_unique<Sink>(*this)),
      reader_(LimitsOf(server), *sink_),
      payload_(reader_) {}

ReplicaLoad::~ReplicaLoad() = default;

const std::string& ReplicaLoad::error() const { return payload_.error(); }

SyncPayload::Status ReplicaLoad::Feed(std::string_view bytes) {
  sink_->set_now_ms(NowMs());
  if (cluster_ != nullptr) {
    // The coordinator's writes group themselves (one atomic group per batch and replica); a
    // partial batch never waits for the next read, which may be held back at the bound.
    const SyncPayload::Status status = payload_.Feed(bytes);
    cluster_->Flush();
    return status;
  }
  // One read's keys reach the commit log as one record.
  storage::Engine::AtomicGroup group(server_.engine());
  return payload_.Feed(bytes);
}

std::uint64_t ReplicaLoad::keys() const { return cluster_ ? cluster_->written() : keys_; }
bool ReplicaLoad::Full() const { return cluster_ && cluster_->Full(); }
bool ReplicaLoad::Idle() const { return !cluster_ || cluster_->Idle(); }
std::uint64_t ReplicaLoad::keys_in_flight() const { return cluster_ ? cluster_->in_flight() : 0; }
std::uint64_t ReplicaLoad::failed_keys() const { return cluster_ ? cluster_->failed() : 0; }
std::string ReplicaLoad::first_error() const { return cluster_ ? cluster_->first_error() : ""; }

}  // namespace dynakv::server
