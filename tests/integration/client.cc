#include "client.h"

#include <hiredis/hiredis.h>

namespace dynakv::itest {
namespace {

using std::chrono::milliseconds;

timeval ToTimeval(milliseconds ms) {
  timeval tv;
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

}  // namespace

Client::Client(int port, milliseconds timeout)
    : ctx_(redisConnectWithTimeout("127.0.0.1", port, ToTimeval(timeout)), redisFree) {
  if (ok()) redisSetTimeout(ctx_.get(), ToTimeval(timeout));
}

bool Client::ok() const { return ctx_ != nullptr && ctx_->err == 0; }

std::string Client::error() const {
  if (ctx_ == nullptr) return "no context";
  return ctx_->err == 0 ? std::string() : std::string(ctx_->errstr);
}

void Client::Append(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const std::string& arg : argv) {
    ptrs.push_back(arg.data());
    lens.push_back(arg.size());
  }
  if (ctx_ != nullptr) redisAppendCommandArgv(ctx_.get(), argv.size(), ptrs.data(), lens.data());
}

Reply Client::GetReply() {
  Reply out;
  out.type = Reply::Type::kIoError;
  if (ctx_ == nullptr || ctx_->err != 0) {
    out.str = error();
    return out;
  }
  void* raw = nullptr;
  if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
    out.str = error();
    return out;
  }
  auto* reply = static_cast<redisReply*>(raw);
  out = Reply::FromHiredis(reply);
  freeReplyObject(reply);
  return out;
}

Reply Client::Command(const std::vector<std::string>& argv) {
  Append(argv);
  return GetReply();
}

Reply Client::Command(std::initializer_list<std::string_view> argv) {
  return Command(std::vector<std::string>(argv.begin(), argv.end()));
}

}  // namespace dynakv::itest
