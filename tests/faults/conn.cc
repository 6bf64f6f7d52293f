#include "conn.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace dynakv::faults {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

std::string Reply::Describe() const {
  switch (type) {
    case Type::kString:
      return "\"" + str + "\"";
    case Type::kStatus:
      return str;
    case Type::kInteger:
      return "(integer) " + std::to_string(integer);
    case Type::kNil:
      return "nil";
    case Type::kArray:
      return "(array)";
    case Type::kError:
      return "(error) " + str;
    case Type::kIo:
      return "(io) " + str;
  }
  return "?";
}

Conn::Conn(const std::string& host, int port, std::chrono::milliseconds timeout)
    : ctx_(redisConnectWithTimeout(host.c_str(), port, ToTimeval(timeout)), redisFree) {
  if (ctx_ != nullptr && ctx_->err == 0) {
    const timeval tv = ToTimeval(timeout);
    redisSetTimeout(ctx_.get(), tv);
  }
}

bool Conn::ok() const { return ctx_ != nullptr && ctx_->err == 0; }

Reply Conn::Command(const std::vector<std::string>& argv) {
  Reply out;
  if (!ok()) {
    out.str = ctx_ == nullptr ? "no context" : ctx_->errstr;
    return out;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), args.data(), lens.data()));
  if (r == nullptr) {
    out.str = ctx_->errstr;
    return out;
  }
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      break;
    case REDIS_REPLY_NIL:
      out.type = Reply::Type::kNil;
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      break;
    default:
      out.type = Reply::Type::kArray;
      break;
  }
  if (out.type == Reply::Type::kArray) {
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      out.elements.emplace_back(e != nullptr && e->str != nullptr ? std::string(e->str, e->len)
                                                                  : std::string());
    }
  }
  if (r->str != nullptr) out.str.assign(r->str, r->len);
  out.integer = r->integer;
  freeReplyObject(r);
  return out;
}

bool ParseAddress(const std::string& address, std::string* host, int* port) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = address.substr(0, colon);
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  const auto [end, ec] = std::from_chars(first, last, *port);
  return ec == std::errc() && end == last && *port > 0 && *port < 65536;
}

}  // namespace dynakv::faults
