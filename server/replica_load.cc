#include "replica_load.h"

#include "clock.h"
#include "keyspace.h"
#include "list_blocking.h"
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
}  // namespace

ReplicaLoad::ReplicaLoad(Server& server)
    : server_(server),
      sink_(std::make_unique<Sink>(*this)),
      reader_(LimitsOf(server), *sink_),
      payload_(reader_) {}

ReplicaLoad::~ReplicaLoad() = default;

const std::string& ReplicaLoad::error() const { return payload_.error(); }

SyncPayload::Status ReplicaLoad::Feed(std::string_view bytes) {
  sink_->set_now_ms(NowMs());
  // One read's keys reach the commit log as one record.
  storage::Engine::AtomicGroup group(server_.engine());
  return payload_.Feed(bytes);
}

}  // namespace dynakv::server
