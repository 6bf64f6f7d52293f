// WAIT in cluster mode, on the node that ran a command for another one (a list or sorted-set
// write on its key's primary, an increment on a replica: FORWARD): the counts of the replicas
// holding what such commands wrote, kept for the sender's WAIT (cluster_wait.h).
//
// A forward that asks for it carries a token, unique among its sender's forwards. Every write
// the command makes here is recorded under (sender, token) with its WriteProgress, which the
// coordinator keeps counting after it answered; the FORWARD's reply says whether the command
// wrote and how many replicas held it then (ForwardReply). WRITE_ACKS asks later: it is answered
// as soon as more replicas hold every write of the command than the asker knows of, or when its
// wait is up, with the count (the least over the command's writes). The newest kMaxCommands
// commands are kept; a token forgotten (or never written under) is answered as not known.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_node.h"
#include "net/uv_handle.h"

namespace dynakv::server {

class ForwardedWrites {
 public:
  static constexpr std::size_t kMaxCommands = 16384;
  using Respond = std::function<void(std::string payload)>;

  explicit ForwardedWrites(uv_loop_t* loop) : loop_(loop) {}
  ~ForwardedWrites();
  ForwardedWrites(const ForwardedWrites&) = delete;
  ForwardedWrites& operator=(const ForwardedWrites&) = delete;

  // `progress` is one of the writes of the command `from` forwarded under `token`.
  void Record(std::string_view from, std::uint64_t token,
              std::shared_ptr<cluster::WriteProgress> progress);
  // The ForwardReply (key_messages.h) of that command, whose RESP reply is `reply`.
  std::string Reply(std::string_view from, std::uint64_t token, std::string reply) const;
  // A WRITE_ACKS from `from`: `respond` gets the WriteAcksReply once (maybe now).
  void Serve(std::string_view from, std::string_view payload, Respond respond);

  std::size_t commands() const { return commands_.size(); }

 private:
  using Key = std::pair<std::string, std::uint64_t>;
  struct Query {
    ForwardedWrites* owner = nullptr;
    Key key;
    std::uint32_t above = 0;  // answered once the count passes it
    Respond respond;
    net::UvHandle<uv_timer_t> timer;
  };
  struct Command {
    std::vector<std::shared_ptr<cluster::WriteProgress>> writes;
    std::vector<std::unique_ptr<Query>> queries;
  };
  static int Acked(const Command& command);
  void OnAck(const Key& key);
  static void OnTimeout(uv_timer_t* timer);
  // Answers `query` of `command` with its count now and drops it.
  void Answer(Command& command, const Query* query);

  uv_loop_t* loop_;
  std::map<Key, Command> commands_;
  std::deque<Key> order_;  // oldest first: the one forgotten to make room
  // Acks arriving after this is gone do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::server
