#include "client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "cluster_blocking.h"
#include "cluster_executor.h"
#include "command_table.h"
#include "format.h"
#include "log.h"
#include "script_runner.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// Reads are offered at least this much free buffer (Redis's PROTO_IOBUF_LEN). The buffer
// doubles when a large request needs more, so a big bulk is read in few system calls.
constexpr std::size_t kReadChunk = 16 * 1024;
// Buffers grown beyond this by one large request or reply are released once empty; smaller ones
// are kept while the client is busy (ReleaseIdleBuffers frees them once it goes quiet). A
// pipeline of 16 replies of 16 KB is 256 KB: releasing and regrowing that per batch cost a page
// fault per 4 KB of reply and cut such GETs to a sixth on a VM where faults are slow.
constexpr std::size_t kKeepBufferBytes = 1024 * 1024;

// True when it did.
bool ReleaseIfLarge(std::string* buffer) {
  if (!buffer->empty() || buffer->capacity() <= kKeepBufferBytes) return false;
  std::string().swap(*buffer);
  return true;
}

// "ip:port", with IPv6 addresses in brackets as Redis formats them.
std::string FormatAddress(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(in, ip, sizeof(ip));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(in6, ip, sizeof(ip));
    port = ntohs(in6->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace

Client::Client(Server& server, std::uint64_t id)
    : server_(server), id_(id), connection_(server.loop(), this), writer_(&out_) {
  writer_.set_shared(&out_shared_);
}

int Client::Accept(int fd, std::shared_ptr<net::TlsContext> tls, net::TlsPeerAuth peer_auth,
                   std::uint64_t handshake_timeout_ms) {
  created_ms_ = last_interaction_ms_ = uv_now(server_.loop());
  if (tls) connection_.set_handshake_timeout(handshake_timeout_ms);
  sockaddr_storage addr{};
  // Known before the handshake, for CLIENT LIST and the log lines of a failed one.
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    address_ = FormatAddress(addr);
  }
  len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    local_address_ = FormatAddress(addr);
  }
  return connection_.Accept(fd, std::move(tls), peer_auth);
}

void Client::OnReady() { server_.ClientReady(this); }

void Client::OnFailure(const net::ConnectionFailure& failure) {
  if (!connection_.ready()) {
    // As Redis logs a client whose TLS handshake failed.
    Log(server_.log_level(), LogLevel::kWarning, "Error accepting a client connection: %s",
        failure.detail.c_str());
  }
  Close();
}

void Client::Start() {
  created_ms_ = last_interaction_ms_ = uv_now(server_.loop());
  SetDefaultUser();
  StartReading();
}

void Client::SetDefaultUser() {
  const AclUser& user = server_.acl().default_user();
  set_user(&user, user.nopass() && user.enabled());
}

void Client::RejectAndClose(std::string_view reply) {
  connection_.WriteBestEffort(reply);
  // Closing now, with the peer's first request unread, would answer it with a RST, and a RST makes
  // the peer's kernel drop the refusal before the client reads it. So: half-close, read and drop
  // whatever it sends, and close at its EOF (the server's cron closes one that lingers).
  rejected_ = true;
  created_ms_ = last_interaction_ms_ = uv_now(server_.loop());
  if (connection_.ShutdownWrite() != 0) {
    Close();
    return;
  }
  StartReading();
}

void Client::Close() {
  if (closing_) return;
  closing_ = true;
  // The Server destroys the client once the connection's handles are all closed.
  connection_.Close(std::make_shared<net::CloseBarrier>([this] { server_.ClientClosed(this); }));
}

void Client::CloseAfterReply() {
  close_after_reply_ = true;
  StopReading();
}

void Client::StartReading() {
  if (connection_.reading() || closing_ || peer_closed_) return;
  if (connection_.ReadStart() != 0) Close();
}

void Client::StopReading() { connection_.ReadStop(); }

std::span<char> Client::ReadBuffer() {
  std::string& in = input_;
  if (in.size() - input_end_ < kReadChunk) {
    // Reclaim the space of requests already run before growing. The parser keeps offsets
    // relative to the request it is in, so moving the unread bytes is safe.
    if (input_start_ > 0) {
      std::memmove(in.data(), in.data() + input_start_, input_end_ - input_start_);
      input_end_ -= input_start_;
      input_start_ = 0;
    }
    if (in.size() - input_end_ < kReadChunk) {
      in.resize(std::max(in.size() * 2, input_end_ + kReadChunk));
    }
  }
  input_peak_ = std::max(input_peak_, input_end_ - input_start_ + kReadChunk);
  return {in.data() + input_end_, in.size() - input_end_};
}

void Client::OnEof() {
  if (rejected_) {  // RejectAndClose: the peer read the refusal and closed
    Close();
    return;
  }
  // A peer that half-closed after its last request still gets the replies (the EOF often
  // arrives in the same read pass as the requests).
  peer_closed_ = true;
  CloseWhenAnswered();
}

void Client::OnRead(std::size_t n) {
  if (rejected_) return;  // RejectAndClose: its input is dropped (never kept in input_)
  input_end_ += n;
  server_.stats().total_net_input_bytes += n;
  ++server_.stats().total_reads_processed;
  last_interaction_ms_ = uv_now(server_.loop());
  if (input_end_ - input_start_ > server_.config().client_query_buffer_limit) {
    Log(server_.log_level(), LogLevel::kWarning,
        "Closing client that reached max query buffer length: id=%llu addr=%s",
        static_cast<unsigned long long>(id_), address_.c_str());
    Close();
    return;
  }
  ProcessInput();
}

void Client::RefreshParserLimits() {
  const Config& config = server_.config();
  resp::ParserLimits limits;
  limits.max_bulk_len = config.proto_max_bulk_len;
  limits.max_multibulk_len = config.proto_max_multibulk_len;
  limits.unauthenticated = server_.AuthRequired(*this);
  parser_.set_limits(limits);
}

void Client::ProcessInput() {
  const Config& config = server_.config();
  const std::uint64_t soft_limit = config.client_output_buffer_soft_limit;
  RefreshParserLimits();
  LimitOutput();  // CONFIG SET may have changed the hard limit
  while (!closing_ && !close_after_reply_ && !command_in_flight_) {
    if (soft_limit != 0 && PendingOutput() > soft_limit) {
      // Backpressure: neither read nor run more until the peer takes what it was sent.
      paused_ = true;
      StopReading();
      break;
    }
    std::size_t consumed = 0;
    const std::string_view pending(input_.data() + input_start_, input_end_ - input_start_);
    const resp::ParseStatus status = parser_.Parse(pending, &consumed, &argv_);
    if (status == resp::ParseStatus::kNeedMore) break;
    if (status == resp::ParseStatus::kError) {
      Log(server_.log_level(), LogLevel::kVerbose, "Protocol error (%s) from client: id=%llu addr=%s",
          parser_.error().c_str(), static_cast<unsigned long long>(id_), address_.c_str());
      writer_.Error("ERR " + parser_.error());
      input_start_ = input_end_ = 0;
      CloseAfterReply();
      break;
    }
    if (!argv_.empty() && server_.Postpone(*this, argv_)) {
      // CLIENT PAUSE: the request stays in the buffer, parsed again on unpause.
      postponed_ = true;
      break;
    }
    const std::size_t reply_start = out_.size();
    if (!argv_.empty()) server_.commands().Dispatch(server_, *this, argv_, writer_);
    input_start_ += consumed;
    if (reply_off_ || reply_skip_) writer_.Truncate(std::min(out_.size(), reply_start));
    reply_skip_ = reply_skip_next_;  // CLIENT REPLY SKIP drops the command after it
    reply_skip_next_ = false;
    if (CloseIfOverOutputLimit() || CloseIfOverClassLimit()) return;
    // AUTH, HELLO AUTH and RESET change which request sizes are acceptable.
    if (parser_.limits().unauthenticated != server_.AuthRequired(*this)) RefreshParserLimits();
  }
  if (input_start_ == input_end_) input_start_ = input_end_ = 0;
  if (closing_) return;
  if (!out_.empty()) {
    server_.ScheduleFlush(*this);
  } else if (close_after_reply_ && PendingOutput() == 0) {
    Close();
  }
}

void Client::ServeWhileBusy() {
  if (closing_ || rejected_ || paused_ || close_after_reply_ || command_in_flight_ ||
      connection_.is_tls() || !connection_.ready()) {
    return;
  }
  // Replies already waiting (for the log, or for the iteration's flush) must leave first and in
  // order: then the answers wait for the script to end too.
  const bool send_now = out_.empty() && !flush_scheduled_ && !held_ && !connection_.writing();
  for (;;) {
    const std::span<char> buffer = ReadBuffer();
    const ssize_t n = ::recv(fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0) break;  // nothing more, EOF or an error: the loop sees those afterwards
    input_end_ += static_cast<std::size_t>(n);
    server_.stats().total_net_input_bytes += static_cast<std::size_t>(n);
    ++server_.stats().total_reads_processed;
    if (static_cast<std::size_t>(n) < buffer.size()) break;
  }
  bool answered = false;
  while (input_end_ - input_start_ <= server_.config().client_query_buffer_limit) {
    std::size_t consumed = 0;
    const std::string_view pending(input_.data() + input_start_, input_end_ - input_start_);
    if (parser_.Parse(pending, &consumed, &argv_) != resp::ParseStatus::kRequest) break;
    if (!argv_.empty()) server_.scripts().AnswerWhileBusy(*this, argv_, writer_);
    input_start_ += consumed;
    answered = true;
  }
  if (!answered) return;
  last_interaction_ms_ = uv_now(server_.loop());
  if (send_now) {
    Flush();
  } else {
    server_.ScheduleFlush(*this);
  }
}

void Client::LimitOutput() {
  const std::uint64_t hard_limit = server_.config().client_output_buffer_hard_limit;
  const std::size_t inflight = InflightBytes();
  std::size_t limit = 0;
  if (hard_limit != 0) limit = hard_limit > inflight ? hard_limit - inflight : 1;
  writer_.set_limit(limit);
}

bool Client::CloseIfOverOutputLimit() {
  if (closing_) return true;
  const std::uint64_t hard_limit = server_.config().client_output_buffer_hard_limit;
  // over_limit(): the writer dropped a reply, so the stream is cut short whatever the total.
  if (!writer_.over_limit() && (hard_limit == 0 || PendingOutput() <= hard_limit)) return false;
  CloseForOutputLimit();
  return true;
}

void Client::CloseForOutputLimit() {
  if (closing_) return;
  std::string info = Describe(uv_now(server_.loop()));
  if (!info.empty() && info.back() == '\n') info.pop_back();
  Log(server_.log_level(), LogLevel::kWarning,
      "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
      info.c_str());
  Close();
}

void Client::DeliverPush(std::size_t elements, std::string_view head, std::string_view tail) {
  if (closing_) return;
  // Pub/sub messages have 3 or 4 elements: a one-digit header, built without printf (it
  // showed in profiles of PUBLISH fan-out).
  const char header[4] = {writer_.protocol() >= 3 ? '>' : '*', static_cast<char>('0' + elements),
                          '\r', '\n'};
  out_.append(header, sizeof(header));
  out_.append(head);
  out_.append(tail);
  server_.ScheduleFlush(*this);
  CloseIfOverClassLimit();
}

void Client::DeliverRaw(std::string_view bytes) {
  if (closing_) return;
  out_.append(bytes);
  server_.ScheduleFlush(*this);
  CloseIfOverClassLimit();
}

bool Client::CloseIfOverClassLimit() {
  if (closing_) return true;
  const ClientClass cls = monitor_        ? ClientClass::kReplica
                          : pubsub_mode_ ? ClientClass::kPubSub
                                         : ClientClass::kNormal;
  const OutputBufferLimit& limit =
      server_.config().client_output_buffer_limits[static_cast<int>(cls)];
  const std::size_t used = PendingOutput();
  bool over = limit.hard != 0 && used >= limit.hard;
  if (limit.soft != 0 && used >= limit.soft) {
    // Redis's checkClientOutputBufferLimits: the soft limit counts once it has held for longer
    // than its seconds.
    const std::uint64_t now = uv_now(server_.loop());
    if (!over_soft_limit_) {
      over_soft_limit_ = true;
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > static_cast<std::uint64_t>(limit.soft_seconds) * 1000) {
      over = true;
    }
  } else {
    over_soft_limit_ = false;
  }
  if (!over) return false;
  CloseForOutputLimit();
  return true;
}

void Client::CloseWhenAnswered() {
  // A client blocked in BLPOP & co. (or WAIT) waits for no one but itself: it goes at once (as
  // Redis unblocks a client that disconnects), so its wait cannot take an element no one reads.
  const bool blocked =
      server_.blocked_lists().IsBlocked(id_) ||
      (server_.cluster_blocking() != nullptr && server_.cluster_blocking()->IsBlocked(id_)) ||
      (server_.cluster_executor() != nullptr && server_.cluster_executor()->waits().IsBlocked(id_));
  if (!closing_ && command_in_flight_ && blocked) {
    Close();
    return;
  }
  // Requests still queued behind a command in flight run when it finishes.
  if (closing_ || command_in_flight_) return;
  if (PendingOutput() > 0) {
    CloseAfterReply();
  } else {
    Close();
  }
}

void Client::FinishAsyncCommand() {
  command_in_flight_ = false;
  if (async_done_) {
    async_done_();  // may destroy this client: nothing of it is touched after
    return;
  }
  // The local replica's part of the write is in the log buffer: the reply waits for it.
  if (last_command_ != nullptr && (last_command_->flags & kCmdWrite)) {
    NoteLogWrite(server_.engine().LogEnd());
  }
  if (closing_ || CloseIfOverOutputLimit()) return;
  last_interaction_ms_ = uv_now(server_.loop());
  if (!paused_) ProcessInput();
  if (!out_.empty()) server_.ScheduleFlush(*this);
  if (peer_closed_) CloseWhenAnswered();
}

void Client::Flush() {
  if (closing_ || connection_.writing()) return;
  if (out_.empty()) {
    OnOutputProgress();
    return;
  }
  // inflight_ is written, not out_: if the socket cannot take it all, libuv keeps pointers into
  // it until OnWriteDone, and new replies must not move it (a short string lives inside the
  // object itself, so even a swap would).
  inflight_.swap(out_);
  out_.clear();
  std::swap(inflight_shared_, out_shared_);
  switch (WriteInflight()) {
    case net::Connection::WriteResult::kFailed:
      Close();
      return;
    case net::Connection::WriteResult::kPending:
      LimitOutput();
      return;
    case net::Connection::WriteResult::kDone:
      break;
  }
  ReleaseInflight();
  last_interaction_ms_ = uv_now(server_.loop());
  OnOutputProgress();
}

net::Connection::WriteResult Client::WriteInflight() {
  ++server_.stats().total_writes_processed;
  if (inflight_shared_.empty()) return connection_.Write(inflight_);
  // The buffer's bytes up to each chunk, the chunk, ..., the buffer's rest: one writev.
  iov_.clear();
  std::size_t from = 0;
  auto text = [&](std::size_t to) {
    if (to > from) {
      iov_.push_back(uv_buf_init(inflight_.data() + from, static_cast<unsigned>(to - from)));
    }
    from = to;
  };
  for (const resp::SharedChunk& chunk : inflight_shared_.list) {
    text(chunk.at);
    iov_.push_back(uv_buf_init(const_cast<char*>(chunk.bytes.data()),
                               static_cast<unsigned>(chunk.bytes.size())));
  }
  text(inflight_.size());
  return connection_.Write(iov_.data(), iov_.size());
}

void Client::ReleaseInflight() {
  ServerStats& stats = server_.stats();
  stats.total_net_output_bytes += inflight_.size() + inflight_shared_.bytes;
  // A reply buffer that had to grow past what a client keeps (Redis's reply_buffer_expands), and
  // is given back now that it is sent (reply_buffer_shrinks).
  if (inflight_.capacity() > kKeepBufferBytes) ++stats.reply_buffer_expands;
  inflight_.clear();
  if (ReleaseIfLarge(&inflight_)) ++stats.reply_buffer_shrinks;
  inflight_shared_.clear();  // the values' references go
}

void Client::OnWriteDone() {
  ReleaseInflight();
  LimitOutput();
  last_interaction_ms_ = uv_now(server_.loop());
  if (!out_.empty()) server_.ScheduleFlush(*this);
  OnOutputProgress();
}

void Client::OnOutputProgress() {
  if (closing_) return;
  if (close_after_reply_) {
    if (PendingOutput() == 0) Close();
    return;
  }
  const std::uint64_t soft_limit = server_.config().client_output_buffer_soft_limit;
  if (paused_ && (soft_limit == 0 || PendingOutput() <= soft_limit)) {
    paused_ = false;
    ProcessInput();
    if (!paused_) StartReading();
  }
}

void Client::ResumeAfterPause() {
  if (!postponed_ || closing_) return;
  postponed_ = false;
  if (!paused_ && !command_in_flight_) ProcessInput();
  if (!out_.empty()) server_.ScheduleFlush(*this);
  if (peer_closed_) CloseWhenAnswered();
}

void Client::FlushBestEffort() {
  if (closing_ || connection_.writing() || out_.empty()) return;
  if (out_shared_.empty()) {
    connection_.WriteBestEffort(out_);
    return;
  }
  // At shutdown only: the referenced values are copied in rather than teach WriteBestEffort
  // about pieces.
  std::string whole;
  std::size_t from = 0;
  for (const resp::SharedChunk& chunk : out_shared_.list) {
    whole.append(out_, from, chunk.at - from);
    whole.append(chunk.bytes);
    from = chunk.at;
  }
  whole.append(out_, from);
  connection_.WriteBestEffort(whole);
}

void Client::ReleaseIdleBuffers() {
  if (input_start_ == input_end_ && input_.size() > 0) {
    std::string().swap(input_);
    input_start_ = input_end_ = 0;
  }
  if (out_.empty() && out_.capacity() > 0) {
    std::string().swap(out_);
    ++server_.stats().reply_buffer_shrinks;
  }
  if (!connection_.writing() && inflight_.capacity() > 0) {
    std::string().swap(inflight_);
    ++server_.stats().reply_buffer_shrinks;
  }
  if (!connection_.writing() && iov_.capacity() > 0) std::vector<uv_buf_t>().swap(iov_);
}

void Client::ResizeQueryBuffer() {
  constexpr std::size_t kResizeThreshold = 32 * 1024;  // Redis's PROTO_RESIZE_THRESHOLD
  const std::size_t used = input_end_ - input_start_;
  const std::size_t size = input_.size();
  // Not while a request is being run or waits (its arguments may point into the buffer).
  if (!command_in_flight_ && !postponed_ && size - used > 4096 && size > kResizeThreshold &&
      size / 2 > input_peak_) {
    if (input_start_ > 0) {
      std::memmove(input_.data(), input_.data() + input_start_, used);
      input_end_ = used;
      input_start_ = 0;
    }
    input_.resize(std::max(used, input_peak_));
    input_.shrink_to_fit();
  }
  input_peak_ = used;
}

std::size_t Client::MemoryBytes() const {
  // Values referenced by pending replies count as the copies they replace would.
  return sizeof(Client) + input_.capacity() + out_.capacity() + inflight_.capacity() +
         out_shared_.bytes + (connection_.writing() ? inflight_shared_.bytes : 0) +
         argv_.capacity() * sizeof(std::string_view);
}

std::string Client::Describe(std::uint64_t now_ms) const {
  const std::uint64_t age = (now_ms - created_ms_) / 1000;
  const std::uint64_t idle = (now_ms - last_interaction_ms_) / 1000;
  const int fd = connection_.fd();
  const std::size_t query = input_end_ - input_start_;
  const std::size_t total_memory = MemoryBytes();
  const std::string command =
      last_command_ != nullptr ? FullName(*last_command_, last_command_parent_) : "NULL";
  // Redis's flag letters, in its order: O monitor, P has subscriptions, x in MULTI, b blocked (here also a
  // command waiting for replicas), t tracking (R its redirect broken, B in BCAST mode), d a
  // watched key changed, e no-evict; N for none.
  const Tracking::Options* tracking = server_.tracking().Of(*this);
  std::string flags;
  if (monitor_) flags += 'O';
  if (pubsub_mode_) flags += 'P';
  if (transaction_.active()) flags += 'x';
  if (command_in_flight_) flags += 'b';
  if (tracking != nullptr) flags += 't';
  if (tracking != nullptr && tracking->broken_redirect) flags += 'R';
  if (tracking != nullptr && tracking->bcast) flags += 'B';
  if (transaction_.dirty()) flags += 'd';
  if (no_evict_) flags += 'e';
  if (flags.empty()) flags = "N";
  const PubSub& pubsub = server_.pubsub();
  const PubSub::Subscriptions* subs = pubsub.Of(*this);
  const long long multi =
      transaction_.active() ? static_cast<long long>(transaction_.queued().size()) : -1;
  std::string events;
  if (connection_.reading()) events += 'r';
  if (connection_.writing() || !out_.empty()) events += 'w';
  std::string line;
  AppendPrintf(
      &line,
      "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=%u sub=%zu psub=%zu "
      "ssub=%zu multi=%lld qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu rbp=%zu "
      "obl=%zu "
      "oll=%d omem=%zu tot-mem=%zu events=%s cmd=%.*s user=%s redir=%lld resp=%d "
      "lib-name=%s lib-ver=%s\n",
      static_cast<unsigned long long>(id_), address_.c_str(), local_address_.c_str(),
      static_cast<int>(fd), name_.c_str(), static_cast<unsigned long long>(age),
      static_cast<unsigned long long>(idle), flags.c_str(), db_, subs ? subs->channels.size() : 0,
      subs ? subs->patterns.size() : 0, subs ? subs->shard_channels.size() : 0, multi, query,
      input_.size() - input_end_, argv_.size() * sizeof(std::string_view),
      transaction_.queued_bytes(), input_.size(), input_.size(), out_.size() + out_shared_.bytes,
      connection_.writing() ? 1 : 0, InflightBytes(), total_memory, events.c_str(),
      static_cast<int>(command.size()), command.data(),
      user_ != nullptr ? user_->name().c_str() : "default",
      tracking != nullptr ? static_cast<long long>(tracking->redirect) : -1LL, writer_.protocol(),
      lib_name_.c_str(), lib_version_.c_str());
  return line;
}

}  // namespace dynakv::server
