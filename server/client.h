// One client connection: reads requests into its query buffer, runs every complete one in order,
// and accumulates the replies until the server flushes them (once per loop iteration, after the
// commit log is written).
//
// The socket, plain or TLS, is a net::Connection; the Client is its handler.
//
// Lifetime: the Server owns every Client. A Client is destroyed only once every libuv handle of
// its connection is closed (a CloseBarrier), so code running when Close() is called may go on
// using the Client until it returns to the loop.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/consistency_level.h"
#include "command.h"
#include "net/connection.h"
#include "resp/reply_writer.h"
#include "resp/request_parser.h"
#include "transaction.h"

namespace dynakv::server {

class Server;
class AclUser;

class Client : private net::ConnectionHandler {
 public:
  Client(Server& server, std::uint64_t id);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Adopts an accepted socket (plain, or TLS with `tls`). On failure the connection is closed
  // already and the Client may be dropped directly; after success it must go through Close().
  // Once the transport is up (at once when plain, after the TLS handshake) the server's
  // ClientReady decides whether to Start or refuse it.
  int Accept(int fd, std::shared_ptr<net::TlsContext> tls, net::TlsPeerAuth peer_auth,
             std::uint64_t handshake_timeout_ms);
  int fd() const { return connection_.fd(); }
  bool is_tls() const { return connection_.is_tls(); }
  // Starts serving an accepted connection.
  void Start();
  // Sends `reply` if the socket takes it right away, then closes (maxclients reached, protected
  // mode) once the peer has closed too, never running what it sends.
  void RejectAndClose(std::string_view reply);
  bool rejected() const { return rejected_; }
  std::uint64_t created_ms() const { return created_ms_; }
  // Closes now, dropping unsent output; safe to call more than once.
  void Close();
  // Stops reading and running requests; closes once the pending replies are written (QUIT,
  // protocol errors).
  void CloseAfterReply();
  // Closes now, with Redis's log line, a client whose reply passed
  // client-output-buffer-hard-limit (a reply cut short must never reach it).
  void CloseForOutputLimit();

  // While a script runs past busy-reply-threshold (the loop is not running): reads what the
  // socket holds and answers its complete requests through ScriptRunner::AnswerWhileBusy (-BUSY,
  // or SCRIPT KILL), sending the answers at once when nothing else waits to be sent. Plain TCP
  // only: a TLS client's bytes are behind its TLS layer and wait for the script to end.
  void ServeWhileBusy();
  // Writes pending replies; the server calls it from its once-per-iteration flush.
  void Flush();
  // At shutdown: one non-blocking attempt to send what is pending.
  void FlushBestEffort();
  bool flush_scheduled() const { return flush_scheduled_; }
  void set_flush_scheduled(bool scheduled) { flush_scheduled_ = scheduled; }
  // The commit-log position (Engine::LogEnd) its pending replies need to be durable before they
  // may leave: the end of the log after its latest write.
  std::uint64_t log_mark() const { return log_mark_; }
  void NoteLogWrite(std::uint64_t log_end) {
    if (log_end > log_mark_) log_mark_ = log_end;
  }
  bool held() const { return held_; }  // waiting in the server's list for the log
  void set_held(bool held) { held_ = held; }
  // Frees the query and reply buffers of a connection that has been quiet for a while.
  void ReleaseIdleBuffers();
  // Redis 7.0's clientsCronResizeQueryBuffer, called by the cron: a query buffer grown by a big
  // request (over 32 KB) and now over twice what the client used since the last call (its
  // peak: unread bytes plus one read's room) is cut back to that peak.
  void ResizeQueryBuffer();

  // --- cluster mode: a command waiting for replicas -----------------------------------------
  // Until FinishAsyncCommand, no further request of this client runs (replies stay in order).
  void BeginAsyncCommand() { command_in_flight_ = true; }
  // The command's reply has been appended: flush it and run the requests that queued up (or,
  // for a client without a connection that set one, call its async-done hook instead).
  void FinishAsyncCommand();
  // A client without a connection (a replica's master client, replica_link.h) hears here that
  // its command completed; its reply is in reply().
  void set_async_done(std::function<void()> done) { async_done_ = std::move(done); }
  bool command_in_flight() const { return command_in_flight_; }
  // The peer closed its side: once its requests are answered, the client closes.
  bool peer_closed() const { return peer_closed_; }
  // CONSISTENCY's choice for this connection; unset: the configured default.
  const std::optional<cluster::ConsistencyLevel>& read_level() const { return read_level_; }
  const std::optional<cluster::ConsistencyLevel>& write_level() const { return write_level_; }
  void set_levels(std::optional<cluster::ConsistencyLevel> read,
                  std::optional<cluster::ConsistencyLevel> write) {
    read_level_ = read;
    write_level_ = write;
  }
  // KEYSCOPE LOCAL: KEYS/SCAN/DBSIZE/RANDOMKEY/FLUSHALL/FLUSHDB see this node's replica only.
  bool local_keyscope() const { return local_keyscope_; }
  void set_local_keyscope(bool local) { local_keyscope_ = local; }

  // --- state commands read and change -----------------------------------------------------
  std::uint64_t id() const { return id_; }
  bool closing() const { return closing_; }
  resp::ReplyWriter& reply() { return writer_; }
  int protocol() const { return writer_.protocol(); }
  void set_protocol(int protocol) { writer_.set_protocol(protocol); }
  bool authenticated() const { return authenticated_; }
  // The ACL user its commands run as (the default one until AUTH), and whether it authenticated.
  const AclUser* user() const { return user_; }
  void set_user(const AclUser* user, bool authenticated) {
    user_ = user;
    authenticated_ = authenticated;
  }
  // As a new connection: the default user, authenticated when that needs no password.
  void SetDefaultUser();
  // The database its commands run in (SELECT); always 0 in cluster mode.
  std::uint32_t db() const { return db_; }
  void set_db(std::uint32_t db) { db_ = db; }
  const std::string& name() const { return name_; }
  void set_name(std::string_view name) { name_.assign(name); }
  void set_lib_name(std::string_view name) { lib_name_.assign(name); }
  void set_lib_version(std::string_view version) { lib_version_.assign(version); }
  // CLIENT LIST's cmd=: `spec`, a subcommand of `parent` when that is set.
  void set_last_command(const CommandSpec* spec, const CommandSpec* parent = nullptr) {
    last_command_ = spec;
    last_command_parent_ = parent;
  }
  // MULTI's queue and WATCH's keys (transaction.h).
  Transaction& transaction() { return transaction_; }
  const Transaction& transaction() const { return transaction_; }
  // While EXEC runs its queue (Redis's CLIENT_DENY_BLOCKING): a blocking command that would wait
  // answers as if it timed out at once (BlockedLists::Block).
  bool deny_blocking() const { return deny_blocking_; }
  void set_deny_blocking(bool deny) { deny_blocking_ = deny; }
  const std::string& address() const { return address_; }
  const std::string& local_address() const { return local_address_; }
  // Milliseconds of the loop's monotonic clock (uv_now).
  std::uint64_t last_interaction_ms() const { return last_interaction_ms_; }
  std::size_t PendingOutput() const { return out_.size() + out_shared_.bytes + InflightBytes(); }
  // The query buffer's size (CLIENT LIST's qbuf + qbuf-free) and the replies being sent (its
  // omem): what Redis's client_recent_max_input/output_buffer track.
  std::size_t QueryBufferBytes() const { return input_.size(); }
  std::size_t OutputBufferBytes() const { return InflightBytes(); }

  // --- pub/sub --------------------------------------------------------------------------------
  // Redis's CLIENT_PUBSUB: set by a subscribe, cleared once it listens to nothing. It makes the
  // client a "pubsub" one for client-output-buffer-limit and CLIENT LIST (flags=P), and limits
  // what a RESP2 connection may run.
  bool pubsub_mode() const { return pubsub_mode_; }
  void set_pubsub_mode(bool on) { pubsub_mode_ = on; }
  // Appends an out-of-band message of `elements` (2..9) bulks, `head` and `tail` already encoded
  // (">n" in RESP3, "*n" in RESP2 is put before them), and schedules the flush. A client over its
  // client-output-buffer-limit class is closed (it still counts as a receiver, as in Redis).
  void DeliverPush(std::size_t elements, std::string_view head, std::string_view tail);
  // CLIENT REPLY ON|OFF|SKIP: OFF drops every reply, SKIP the next command's (Redis's
  // CLIENT_REPLY_OFF / CLIENT_REPLY_SKIP_NEXT).
  void set_reply_off(bool off) {
    reply_off_ = off;
    if (!off) reply_skip_ = reply_skip_next_ = false;
  }
  void SkipNextReply() {
    if (!reply_off_) reply_skip_next_ = true;
  }
  // CLIENT NO-EVICT: shown as flag e (dynakv never evicts clients).
  bool no_evict() const { return no_evict_; }
  void set_no_evict(bool on) { no_evict_ = on; }
  // CLIENT PAUSE: the request waiting (unrun, still in the query buffer) for the pause to end;
  // the server runs it on unpause.
  bool postponed() const { return postponed_; }
  void ResumeAfterPause();
  // MONITOR: the client only receives the monitor lines (and replies to what it sends); it is a
  // replica-class client for client-output-buffer-limit, as in Redis, and shows flag O.
  bool monitor() const { return monitor_; }
  void set_monitor(bool on) { monitor_ = on; }
  // Appends bytes already encoded (a monitor line) and schedules the flush; a client over its
  // class's output limit is closed.
  void DeliverRaw(std::string_view bytes);
  // Redis's checkClientOutputBufferLimits for the client's class (normal or pubsub): past the
  // hard limit, or past the soft limit for longer than its seconds, it is closed. True then (or
  // when it was closing already).
  bool CloseIfOverClassLimit();

  // The memory its buffers take (CLIENT LIST's tot-mem, MEMORY STATS).
  std::size_t MemoryBytes() const;
  // The client's line in CLIENT LIST / CLIENT INFO, with Redis's fields, ending in '\n'.
  std::string Describe(std::uint64_t now_ms) const;

 private:
  // net::ConnectionHandler
  std::span<char> ReadBuffer() override;
  void OnRead(std::size_t n) override;
  void OnEof() override;
  void OnReady() override;
  void OnFailure(const net::ConnectionFailure& failure) override;
  void OnWriteDone() override;

  // Bytes handed to the connection and not yet taken by the kernel.
  std::size_t InflightBytes() const {
    return connection_.writing() ? connection_.unsent_bytes() : 0;
  }

  // Runs every complete request in the query buffer, unless output backpressure pauses it.
  void ProcessInput();
  void RefreshParserLimits();
  void StartReading();
  void StopReading();
  // Called when pending output shrank: closes after a final reply, or resumes a paused client.
  void OnOutputProgress();
  // After the peer's EOF: closes once every request it sent has been answered.
  void CloseWhenAnswered();
  // Keeps the reply writer from taking the pending output past client-output-buffer-hard-limit:
  // called whenever the bytes in flight change, and before running requests.
  void LimitOutput();
  // Past the hard limit (or once a reply was dropped for it) the client is closed at once, as
  // Redis closes a client "ASAP" for overcoming its output buffer limits; true then, or when it
  // was closing already.
  bool CloseIfOverOutputLimit();

  Server& server_;
  const std::uint64_t id_;
  net::Connection connection_;

  // Query buffer: bytes [input_start_, input_end_) are received but not yet run. Its size is the
  // capacity, so reads land in it without zero-filling each time.
  std::string input_;
  std::size_t input_start_ = 0;
  std::size_t input_end_ = 0;
  std::size_t input_peak_ = 0;  // the most the buffer had to hold since the last resize check
  resp::RequestParser parser_;
  std::uint64_t log_mark_ = 0;
  bool held_ = false;
  std::vector<std::string_view> argv_;  // reused for every request

  // Replies accumulate in out_, large values among them by reference in out_shared_ (resp's
  // SharedChunks: bytes a memtable entry or a decompression owns, interleaved with out_ when
  // written). A flush swaps both into inflight_ / inflight_shared_ and writes them in one writev:
  // when the write cannot finish at once, they stay untouched until OnWriteDone while new
  // replies go to out_. The references keep the values' bytes alive and unchanged meanwhile,
  // whatever happens to their keys.
  std::string out_;
  resp::SharedChunks out_shared_;
  std::string inflight_;
  resp::SharedChunks inflight_shared_;
  std::vector<uv_buf_t> iov_;  // reused: the write's pieces
  resp::ReplyWriter writer_;
  // Writes inflight_ (and inflight_shared_): what Connection::Write returns.
  net::Connection::WriteResult WriteInflight();
  // Drops what was written (kept buffers are reused), counting its bytes as sent.
  void ReleaseInflight();

  bool paused_ = false;            // output backpressure: not reading, not running requests
  bool close_after_reply_ = false;
  bool closing_ = false;
  bool flush_scheduled_ = false;
  bool authenticated_ = false;
  const AclUser* user_ = nullptr;
  bool command_in_flight_ = false;
  std::function<void()> async_done_;
  bool pubsub_mode_ = false;
  bool monitor_ = false;
  bool reply_off_ = false;
  bool reply_skip_ = false;
  bool reply_skip_next_ = false;
  bool no_evict_ = false;
  bool postponed_ = false;
  // Whether the output is over its class's soft limit, and since when (uv_now ms).
  bool over_soft_limit_ = false;
  std::uint64_t soft_limit_since_ms_ = 0;
  bool peer_closed_ = false;  // EOF read: run what was received, reply, then close
  bool rejected_ = false;     // RejectAndClose: waiting for the peer's EOF
  std::optional<cluster::ConsistencyLevel> read_level_;
  std::optional<cluster::ConsistencyLevel> write_level_;
  bool local_keyscope_ = false;

  std::string name_;
  std::uint32_t db_ = 0;
  std::string lib_name_;
  std::string lib_version_;
  std::string address_;
  std::string local_address_;
  Transaction transaction_;
  bool deny_blocking_ = false;
  const CommandSpec* last_command_ = nullptr;
  const CommandSpec* last_command_parent_ = nullptr;
  std::uint64_t created_ms_ = 0;
  std::uint64_t last_interaction_ms_ = 0;
};

}  // namespace dynakv::server
