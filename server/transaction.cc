#include "transaction.h"

namespace dynakv::server {

void Transaction::Queue(const ResolvedCommand& cmd, const std::vector<std::string_view>& argv) {
  Queued& q = queued_.emplace_back();
  q.cmd = cmd;
  q.argv.assign(argv.begin(), argv.end());
  queued_flags_ |= cmd.spec->flags;
  for (const std::string& arg : q.argv) queued_bytes_ += arg.size() + sizeof(std::string);
}

std::vector<Transaction::Queued> Transaction::TakeQueued() {
  std::vector<Queued> queued = std::move(queued_);
  Clear();
  return queued;
}

void Transaction::Clear() {
  active_ = false;
  aborted_ = false;
  queued_.clear();
  queued_.shrink_to_fit();
  queued_flags_ = 0;
  queued_bytes_ = 0;
}

}  // namespace dynakv::server
