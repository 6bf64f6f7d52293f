#include "replica_link.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "ascii.h"
#include "client.h"
#include "command_call.h"
#include "command_table.h"
#include "format.h"
#include "log.h"
#include "number_parse.h"
#include "replica_load.h"
#include "replica_state.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

constexpr std::uint64_t kTickMs = 1000;          // replicationCron's period
constexpr std::uint64_t kReplTimeoutMs = 60000;  // repl-timeout's default
constexpr std::size_t kReadBytes = 64 * 1024;
// The master clients' ids count down from here: apart from the connections' (which count up from
// 1) and the script client's (0). A new one each time, so a cluster-mode command of a client
// replaced meanwhile completes into nothing.
constexpr std::uint64_t kMasterClientIdBase = ~std::uint64_t{0} - 1;

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

// host (an address or a name) and port as a socket address; false when it does not resolve.
bool Resolve(const std::string& host, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0) return true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return false;
  }
  std::memcpy(out, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return true;
}

}  // namespace

ReplicaLink::ReplicaLink(Server& server) : server_(server), read_buffer_(kReadBytes) {}

ReplicaLink::~ReplicaLink() { Stop(); }

void ReplicaLink::EnsureMasterClient() {
  // A transaction the master had opened when the link broke is discarded: the offset stopped
  // before its MULTI, so the master sends it again. The selected database stays, as Redis's
  // cached master keeps it: after +CONTINUE the master does not send SELECT again (after
  // +FULLRESYNC it does).
  const std::uint32_t db = master_client_ ? master_client_->db() : 0;
  master_client_ = NewMasterClient();
  master_client_->set_db(db);
}

std::unique_ptr<Client> ReplicaLink::NewMasterClient() {
  auto client = std::make_unique<Client>(
      server_, kMasterClientIdBase - (master_client_serial_++ % (1 << 20)));
  client->set_user(nullptr, true);  // the master's commands pass any ACL
  client->set_name("master");
  return client;
}

ReplicaState& ReplicaLink::saved() {
  if (!saved_) saved_ = std::make_unique<ReplicaState>(server_.config().dir);
  return *saved_;
}

void ReplicaLink::SaveState() {
  if (!synced_ || replid_.empty()) return;
  std::string error;
  // Cluster mode: the commands of the unit after offset_ already applied (Unit::next), so a
  // restart in the middle of a MULTI's commands does not run them twice.
  ReplicaState::Saved state;
  state.replid = replid_;
  state.offset = offset_;
  state.done = units_.empty() ? 0 : units_.front().next;
  state.db = master_client_ ? master_client_->db() : 0;
  if (saved().Save(state, &error)) {
    save_error_logged_ = false;
  } else if (!save_error_logged_) {
    // Not fatal: a restart then syncs in full.
    Log(server_.log_level(), LogLevel::kWarning, "Cannot keep the replication offset: %s",
        error.c_str());
    save_error_logged_ = true;
  }
}

void ReplicaLink::StartFromConfig(const std::string& host, int port) {
  std::string problem;
  std::uint32_t db = 0;
  if (const auto kept = saved().Load(&problem)) {
    db = kept->db < server_.databases() ? kept->db : 0;
    replid_ = kept->replid;
    offset_ = read_offset_ = kept->offset;
    resume_skip_ = kept->done;
    synced_ = true;
    Log(server_.log_level(), LogLevel::kNotice,
        "Kept replication id and offset from before the restart: %s:%lld", replid_.c_str(),
        offset_);
  } else if (!problem.empty()) {
    Log(server_.log_level(), LogLevel::kWarning, "Replication state not used (full sync): %s",
        problem.c_str());
  }
  SetMaster(host, port);
  if (master_client_) master_client_->set_db(db);
}

void ReplicaLink::ForgetSavedState() { saved().Clear(); }

Client* ReplicaLink::FindMasterClient(std::uint64_t id) const {
  if (master_client_ != nullptr && master_client_->id() == id) return master_client_.get();
  for (const Lane& lane : lanes_) {
    if (lane.client->id() == id) return lane.client.get();
  }
  return nullptr;
}

void ReplicaLink::SetMaster(const std::string& host, int port) {
  if (connection_) Drop("a new master was set");
  host_ = host;
  port_ = port;
  state_ = State::kConnect;
  link_down_since_ms_ = 0;  // -1 in INFO until a link that was up is lost, as Redis shows it
  last_error_.clear();
  EnsureMasterClient();
  if (!timer_) {
    const int rc =
        timer_.Init([&](uv_timer_t* t) { return uv_timer_init(server_.loop(), t); }, this);
    if (rc != 0) {
      Log(server_.log_level(), LogLevel::kWarning, "Cannot start the replication timer: %s",
          uv_strerror(rc));
      return;
    }
  }
  // The first attempt from the loop's next turn, then once a second (replicationCron).
  uv_timer_start(timer_.get(), &ReplicaLink::OnTimer, 0, kTickMs);
  Log(server_.log_level(), LogLevel::kNotice, "Connecting to MASTER %s:%d", host_.c_str(), port_);
}

void ReplicaLink::Unset() {
  if (state_ == State::kNone) return;
  if (connection_) {
    connection_->Close();
    connection_.reset();
  }
  if (timer_) uv_timer_stop(timer_.get());
  load_.reset();
  stream_.clear();
  out_.clear();
  inflight_.clear();
  units_.clear();
  units_bytes_ = 0;
  in_multi_ = flushing_ = retry_pending_ = reading_paused_ = load_done_ = false;
  held_payload_.clear();
  master_client_.reset();
  // Commands in flight complete into nothing: their clients are gone (FindMasterClient).
  lanes_.clear();
  in_flight_ = 0;
  busy_keys_.clear();
  state_ = State::kNone;
  // The data is this node's own from now on: a later REPLICAOF syncs in full.
  synced_ = false;
  replid_.clear();
  saved().Clear();
  Log(server_.log_level(), LogLevel::kNotice,
      "MASTER MODE enabled (user request from REPLICAOF NO ONE): the link to %s:%d is closed, "
      "the data stays",
      host_.c_str(), port_);
  host_.clear();
  port_ = 0;
}

void ReplicaLink::Stop() {
  if (connection_) {
    connection_->Close();
    connection_.reset();
  }
  timer_.Close();
  load_.reset();
  retired_load_.reset();
  master_client_.reset();
  lanes_.clear();
  in_flight_ = 0;
}

void ReplicaLink::OnTimer(uv_timer_t* timer) { static_cast<ReplicaLink*>(timer->data)->Tick(); }

void ReplicaLink::Tick() {
  retired_load_.reset();
  if (retry_pending_) {
    retry_pending_ = false;
    Pump();
  }
  if (state_ == State::kConnect) {
    // Cluster mode: the unit being applied is finished first, so PSYNC asks for what follows it.
    if (Busy()) return;
    Connect();
  } else if (state_ == State::kConnected) {
    SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
  }
}

void ReplicaLink::Connect() {
  sockaddr_storage address;
  if (!Resolve(host_, port_, &address)) {
    last_error_ = "cannot resolve " + host_;
    Log(server_.log_level(), LogLevel::kWarning, "Unable to connect to MASTER: %s",
        last_error_.c_str());
    return;  // the next tick tries again
  }
  net::ConnectionHandler* handler = this;  // a private base: converted here
  connection_ = std::make_unique<net::Connection>(server_.loop(), handler);
  connection_->set_idle_timeout(kReplTimeoutMs);
  const int rc = connection_->Connect(reinterpret_cast<const sockaddr*>(&address));
  if (rc != 0) {
    connection_.reset();
    last_error_ = uv_strerror(rc);
    Log(server_.log_level(), LogLevel::kWarning, "Unable to connect to MASTER: %s",
        last_error_.c_str());
    return;
  }
  state_ = State::kConnecting;
  Log(server_.log_level(), LogLevel::kNotice, "MASTER <-> REPLICA sync started");
}

void ReplicaLink::OnReady() {
  state_ = State::kHandshake;
  last_io_ms_ = uv_now(server_.loop());
  Log(server_.log_level(), LogLevel::kNotice, "Master replied to connect: starting the handshake");
  if (connection_->ReadStart() != 0) return Drop("cannot read from the master");
  line_.clear();
  expected_.clear();
  // One command at a time, each after the reply to the one before, as Redis's replica does: a
  // master refuses PSYNC while replies to the client are still pending.
  pending_.clear();
  pending_.push_back({{"PING"}, Expect::kPong});
  const Config& config = server_.config();
  if (!config.masterauth.empty()) {
    if (config.masteruser.empty()) {
      pending_.push_back({{"AUTH", config.masterauth}, Expect::kAuth});
    } else {
      pending_.push_back({{"AUTH", config.masteruser, config.masterauth}, Expect::kAuth});
    }
  }
  pending_.push_back(
      {{"REPLCONF", "listening-port", std::to_string(server_.port())}, Expect::kReplconf});
  pending_.push_back({{"REPLCONF", "capa", "eof", "capa", "psync2"}, Expect::kReplconf});
  if (synced_ && !replid_.empty()) {
    Log(server_.log_level(), LogLevel::kNotice,
        "Trying a partial resynchronization (request %s:%lld).", replid_.c_str(), offset_ + 1);
    pending_.push_back({{"PSYNC", replid_, std::to_string(offset_ + 1)}, Expect::kPsync});
  } else {
    pending_.push_back({{"PSYNC", "?", "-1"}, Expect::kPsync});
  }
  SendNextHandshakeCommand();
}

void ReplicaLink::SendNextHandshakeCommand() {
  if (pending_.empty()) return;
  HandshakeStep step = std::move(pending_.front());
  pending_.erase(pending_.begin());
  expected_.push_back(step.expect);
  SendCommand(step.argv);
}

std::span<char> ReplicaLink::ReadBuffer() { return {read_buffer_.data(), read_buffer_.size()}; }

void ReplicaLink::OnRead(std::size_t n) {
  last_io_ms_ = uv_now(server_.loop());
  server_.stats().total_net_repl_input_bytes += n;
  std::string_view bytes(read_buffer_.data(), n);
  if (state_ == State::kHandshake) {
    if (!HandleHandshake(&bytes)) return;
  }
  if (state_ == State::kTransfer) {
    if (Clustered()) {
      FeedPayloadClustered(bytes);
    } else {
      FeedPayload(bytes);
    }
  } else if (state_ == State::kConnected && !bytes.empty()) {
    stream_.append(bytes);
    read_offset_ += static_cast<long long>(bytes.size());
    if (Clustered()) {
      ApplyStreamClustered();
    } else {
      ApplyStream();
    }
  }
  // What this read wrote goes to the commit log now (no client's reply asks for the group
  // commit): an offset is acknowledged to the master, or kept for a restart, only once the log
  // holds what it covers.
  if (server_.engine().FlushLog().ok() && !Clustered()) SaveState();
}

void ReplicaLink::OnEof() { Drop("the master closed the connection"); }

void ReplicaLink::OnFailure(const net::ConnectionFailure& failure) {
  if (failure.kind == net::ConnectionFailure::Kind::kIdleTimeout) {
    return Drop("timeout: no data nor PING received from the master");
  }
  Drop(failure.detail.empty() ? std::string(uv_strerror(failure.status)) : failure.detail);
}

void ReplicaLink::OnWriteDone() {
  inflight_.clear();
  if (!out_.empty() && connection_) {
    inflight_.swap(out_);
    if (connection_->Write(inflight_) == net::Connection::WriteResult::kFailed) {
      return Drop(std::string("write to the master failed: ") + uv_strerror(connection_->error()));
    }
    if (!connection_->writing()) inflight_.clear();
  }
}

void ReplicaLink::Send(std::string_view bytes) {
  if (!connection_ || !connection_->ready()) return;
  if (connection_->writing()) {
    out_.append(bytes);
    return;
  }
  inflight_.assign(bytes);
  if (connection_->Write(inflight_) == net::Connection::WriteResult::kFailed) {
    return Drop(std::string("write to the master failed: ") + uv_strerror(connection_->error()));
  }
  if (!connection_->writing()) inflight_.clear();
}

void ReplicaLink::SendCommand(const std::vector<std::string>& argv) { Send(EncodeCommand(argv)); }

void ReplicaLink::Drop(const std::string& why) {
  last_error_ = why;
  Log(server_.log_level(), LogLevel::kWarning, "Connection with master %s:%d lost: %s",
      host_.c_str(), port_, why.c_str());
  if (connection_) {
    connection_->Close();
    connection_.reset();
  }
  if (state_ == State::kTransfer) {
    // Part of the RDB is loaded: only a full sync makes the data whole again.
    synced_ = false;
    replid_.clear();
    Log(server_.log_level(), LogLevel::kWarning,
        "The full sync was cut short after %llu keys: the next attempt syncs in full.",
        static_cast<unsigned long long>(load_ ? load_->keys() : 0));
  }
  // Not destroyed here: Drop may run inside the load's own write callback.
  if (load_) retired_load_ = std::move(load_);
  stream_.clear();
  read_offset_ = offset_;  // what was read past the last applied command is read again
  flushing_ = load_done_ = reading_paused_ = false;
  held_payload_.clear();
  in_multi_ = false;
  multi_ = Unit{};
  // Cluster mode: units started (and any before them) are finished first (Tick waits for them);
  // the rest the master sends again.
  while (!units_.empty() && !units_.back().running && units_.back().next == 0) {
    units_bytes_ -= units_.back().bytes;
    units_.pop_back();
  }
  if (!units_.empty()) read_offset_ = units_.back().end;
  parser_ = resp::RequestParser();
  out_.clear();
  inflight_.clear();
  expected_.clear();
  pending_.clear();
  line_.clear();
  if (state_ == State::kConnected || state_ == State::kTransfer) {
    link_down_since_ms_ = uv_now(server_.loop());
  }
  state_ = State::kConnect;
  // Cluster mode keeps its master client: a command of it may be in flight (no MULTI is open
  // in it: the link applies transactions command by command).
  if (!Clustered()) EnsureMasterClient();
}

bool ReplicaLink::HandleHandshake(std::string_view* bytes) {
  while (!bytes->empty() && state_ == State::kHandshake) {
    const std::size_t nl = bytes->find('\n');
    if (nl == std::string_view::npos) {
      line_.append(*bytes);
      *bytes = {};
      if (line_.size() > 64 * 1024) {
        Drop("over-long reply from the master");
        return false;
      }
      return true;
    }
    line_.append(bytes->substr(0, nl));
    bytes->remove_prefix(nl + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (line_.empty()) continue;  // a keep-alive newline
    const std::string line = std::move(line_);
    line_.clear();
    if (!HandleReply(line)) return false;
    if (state_ == State::kHandshake) SendNextHandshakeCommand();
  }
  return true;
}

bool ReplicaLink::HandleReply(const std::string& line) {
  if (expected_.empty()) {
    Drop("unexpected reply from the master: " + line);
    return false;
  }
  const Expect expect = expected_.front();
  expected_.erase(expected_.begin());
  const bool error = line[0] == '-';
  switch (expect) {
    case Expect::kPong:
      // Before AUTH a master with a password answers -NOAUTH: AUTH follows.
      if (error && !line.starts_with("-NOAUTH") && !line.starts_with("-NOPERM") &&
          !line.starts_with("-ERR operation not permitted")) {
        Drop("error reply to PING from the master: '" + line.substr(1) + "'");
        return false;
      }
      return true;
    case Expect::kAuth:
      if (error) {
        Drop("unable to AUTH to MASTER: " + line.substr(1));
        return false;
      }
      return true;
    case Expect::kReplconf:
      if (error) {
        Log(server_.log_level(), LogLevel::kNotice,
            "(Non critical) Master does not understand REPLCONF: %s", line.c_str());
      }
      return true;
    case Expect::kPsync:
      break;
  }
  if (line.starts_with("+FULLRESYNC")) return StartFullSync(line);
  if (line.starts_with("+CONTINUE")) {
    const std::string id = line.size() > 10 ? line.substr(10) : std::string();
    if (!id.empty() && id != replid_) {
      Log(server_.log_level(), LogLevel::kNotice, "Master replication ID changed to %s",
          id.c_str());
      replid_ = id;
    }
    state_ = State::kConnected;
    ++partial_syncs_;
    Log(server_.log_level(), LogLevel::kNotice,
        "Successful partial resynchronization with master: continuing from offset %lld.", offset_);
    return true;
  }
  Drop("the master refused PSYNC: " + line.substr(1));
  return false;
}

bool ReplicaLink::StartFullSync(const std::string& line) {
  // "+FULLRESYNC <replid> <offset>"
  const std::string_view rest = std::string_view(line).substr(12);
  const std::size_t space = rest.find(' ');
  long long offset = 0;
  if (space != 40 || !ParseLongLong(rest.substr(space + 1), &offset)) {
    Drop("bad +FULLRESYNC reply from the master: " + line);
    return false;
  }
  replid_.assign(rest.substr(0, space));
  offset_ = read_offset_ = offset;
  synced_ = false;
  saved().Clear();  // the data is about to be replaced: a restart meanwhile syncs in full
  resume_skip_ = 0;
  state_ = State::kTransfer;
  sync_start_ms_ = uv_now(server_.loop());
  ++full_syncs_;
  Log(server_.log_level(), LogLevel::kNotice, "Full resync from master: %s:%lld", replid_.c_str(),
      offset);
  if (Clustered()) return StartClusterFullSync();
  // The node's data goes first, as a Redis replica empties its dataset before loading: through
  // the master client, so it is logged and watched keys hear of it.
  EnsureMasterClient();
  std::string scratch;
  resp::ReplyWriter reply(&scratch);
  server_.commands().Dispatch(server_, *master_client_, {"FLUSHALL"}, reply, CallOrigin::kMaster);
  if (scratch.starts_with("-")) {
    Drop("cannot flush the old data before the full sync: " + scratch.substr(1));
    return false;
  }
  load_ = std::make_unique<ReplicaLoad>(server_);
  return true;
}

bool ReplicaLink::FeedPayload(std::string_view bytes) {
  const SyncPayload::Status status = load_->Feed(bytes);
  if (status == SyncPayload::Status::kFailed) {
    Drop("MASTER <-> REPLICA sync failed: " + load_->error());
    return false;
  }
  if (status == SyncPayload::Status::kNeedMore) return true;
  const double seconds = static_cast<double>(uv_now(server_.loop()) - sync_start_ms_) / 1000.0;
  sync_keys_ = load_->keys();
  Log(server_.log_level(), LogLevel::kNotice,
      "MASTER <-> REPLICA sync: Finished with success in %.3f seconds (%llu keys loaded, %llu "
      "already expired, %llu stream/module keys skipped)",
      seconds, static_cast<unsigned long long>(load_->keys()),
      static_cast<unsigned long long>(load_->expired_keys()),
      static_cast<unsigned long long>(load_->skipped_keys()));
  std::string rest = load_->TakeRest();
  load_.reset();
  synced_ = true;
  state_ = State::kConnected;
  stream_ = std::move(rest);
  read_offset_ = offset_ + static_cast<long long>(stream_.size());
  // The first ACK at once: after a diskless sync a Redis master starts streaming commands to a
  // replica only once it acknowledged the RDB (replicationSendAck right after loading, as Redis's
  // replica does). The log holds the loaded keys first.
  if (const storage::Status status = server_.engine().FlushLog(); !status.ok()) {
    Drop("the commit log refuses writes: " + status.ToString());
    return false;
  }
  SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
  if (!connection_) return false;
  return ApplyStream();
}

bool ReplicaLink::ApplyStream() {
  std::size_t pos = 0;
  std::vector<std::string_view> argv;
  std::string scratch;
  resp::ReplyWriter reply(&scratch);
  const long long base = read_offset_ - static_cast<long long>(stream_.size());
  while (pos < stream_.size()) {
    std::size_t consumed = 0;
    const resp::ParseStatus status =
        parser_.Parse(std::string_view(stream_).substr(pos), &consumed, &argv);
    if (status == resp::ParseStatus::kNeedMore) break;
    if (status == resp::ParseStatus::kError) {
      Drop("protocol error in the master's stream: " + parser_.error());
      return false;
    }
    if (!argv.empty()) {
      if (argv.size() >= 2 && EqualsIgnoreCase(argv[0], "replconf") &&
          EqualsIgnoreCase(argv[1], "getack")) {
        // The offset before this command, as Redis's replica acknowledges, once the log holds
        // what it covers.
        if (const storage::Status status = server_.engine().FlushLog(); !status.ok()) {
          Drop("the commit log refuses writes: " + status.ToString());
          return false;
        }
        SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
        if (!connection_) return false;
      } else {
        scratch.clear();
        server_.commands().Dispatch(server_, *master_client_, argv, reply, CallOrigin::kMaster);
        if (scratch.starts_with("-")) {
          const std::string error = scratch.substr(1, scratch.find("\r\n") - 1);
          if (!server_.engine().LogStatus().ok()) {
            // Not applied, and the offset stays before it: the master sends it again.
            Drop("the commit log refuses writes: " + error);
            return false;
          }
          // As Redis 7.0 logs an error its master's command got, and goes on (at most one
          // line a second, with the count of the others).
          ++command_errors_;
          const std::uint64_t now = uv_now(server_.loop());
          if (now >= last_error_log_ms_ + 1000) {
            Log(server_.log_level(), LogLevel::kWarning,
                "== CRITICAL == This replica got an error running the master's command '%s': %s "
                "(%llu such errors so far)",
                std::string(argv[0]).c_str(), error.c_str(),
                static_cast<unsigned long long>(command_errors_));
            last_error_log_ms_ = now;
          }
        }
      }
    }
    pos += consumed;
    // Inside MULTI the offset stays before it until EXEC ran, as Redis's reploff does.
    if (!master_client_->transaction().active()) offset_ = base + static_cast<long long>(pos);
  }
  stream_.erase(0, pos);
  return true;
}

}  // namespace dynakv::server
