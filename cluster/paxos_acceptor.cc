#include "paxos_acceptor.h"

#include <chrono>
#include <utility>

#include "storage/engine.h"

namespace dynakv::cluster {

storage::Status PaxosAcceptor::Open(const std::string& dir, storage::FsyncPolicy fsync,
                                    std::function<std::int64_t()> clock_ms,
                                    std::int64_t state_ttl_ms,
                                    std::unique_ptr<PaxosAcceptor>* acceptor) {
  std::unique_ptr<storage::Engine> engine;
  if (!dir.empty()) {
    storage::Options options;
    options.dir = dir;
    options.fsync = fsync;
    options.clock_ms = clock_ms;
    // A few ballots per key: a small log checkpoints soon.
    options.log_checkpoint_bytes = 8ull << 20;
    options.max_memory = 64ull << 20;
    storage::Status status = storage::Engine::Open(options, &engine);
    if (!status.ok()) return status;
  }
  *acceptor = std::make_unique<PaxosAcceptor>(std::move(engine), std::move(clock_ms), state_ttl_ms);
  return storage::Status::Ok();
}

PaxosAcceptor::PaxosAcceptor(std::unique_ptr<storage::Engine> engine,
                             std::function<std::int64_t()> clock_ms, std::int64_t state_ttl_ms)
    : engine_(std::move(engine)), clock_ms_(std::move(clock_ms)), state_ttl_ms_(state_ttl_ms) {}

PaxosAcceptor::~PaxosAcceptor() = default;

paxos::AcceptorState PaxosAcceptor::Load(std::string_view key) {
  std::string bytes;
  if (engine_) {
    if (const auto stored = engine_->Get(key)) bytes = stored->ToString();
  } else if (const auto it = memory_.find(key); it != memory_.end()) {
    bytes = it->second;
  }
  paxos::AcceptorState state;
  // Damaged state reads as none: promises are lost, which a restart from an empty disk also
  // does; the data itself is untouched.
  if (!bytes.empty() && !paxos::DecodeState(bytes, &state)) state = paxos::AcceptorState();
  return state;
}

storage::Status PaxosAcceptor::Store(std::string_view key, const paxos::AcceptorState& state) {
  const std::string bytes = paxos::EncodeState(state);
  if (!engine_) {
    memory_[std::string(key)] = bytes;
    return storage::Status::Ok();
  }
  // An accepted proposal not yet committed never expires: it must be completed or superseded.
  std::int64_t expire_at_ms = 0;
  if (!state.InProgress() && state_ttl_ms_ > 0) {
    const std::int64_t now = clock_ms_ ? clock_ms_()
                                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
    expire_at_ms = now + state_ttl_ms_;
  }
  storage::Status status = engine_->Put(key, bytes, expire_at_ms);
  if (!status.ok()) return status;
  return engine_->FlushLog();
}

storage::Status PaxosAcceptor::Prepare(std::string_view key, const paxos::Ballot& ballot,
                                       paxos::Promise* promise) {
  paxos::AcceptorState state = Load(key);
  bool promised = false;
  if (paxos::ApplyPrepare(&state, ballot, &promised)) {
    if (storage::Status status = Store(key, state); !status.ok()) return status;
  }
  promise->promised = promised;
  promise->promised_ballot = state.promised;
  promise->has_accepted = state.has_accepted;
  promise->accepted = state.accepted;
  promise->committed = state.committed;
  return storage::Status::Ok();
}

storage::Status PaxosAcceptor::Propose(std::string_view key, const paxos::Proposal& proposal,
                                       paxos::AcceptReply* reply) {
  paxos::AcceptorState state = Load(key);
  bool accepted = false;
  if (paxos::ApplyPropose(&state, proposal, &accepted)) {
    if (storage::Status status = Store(key, state); !status.ok()) return status;
  }
  reply->accepted = accepted;
  reply->promised_ballot = state.promised;
  return storage::Status::Ok();
}

storage::Status PaxosAcceptor::Commit(std::string_view key, const paxos::Proposal& proposal) {
  paxos::AcceptorState state = Load(key);
  if (!paxos::ApplyCommit(&state, proposal)) return storage::Status::Ok();
  return Store(key, state);
}

std::uint64_t PaxosAcceptor::size() const { return engine_ ? engine_->KeyCount() : memory_.size(); }

void PaxosAcceptor::SetFsyncPolicy(storage::FsyncPolicy policy) {
  if (engine_) engine_->SetFsyncPolicy(policy);
}

void PaxosAcceptor::Tick() {
  if (engine_) engine_->Tick();
}

}  // namespace dynakv::cluster
