#include "reply.h"

#include <hiredis/hiredis.h>

#include <cstdio>

namespace dynakv::itest {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  std::size_t shown = s.size() > 300 ? 300 : s.size();
  for (std::size_t i = 0; i < shown; ++i) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c >= 32 && c < 127) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (shown < s.size()) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

Reply Reply::Bulk(std::string_view s) {
  Reply r;
  r.type = Type::kString;
  r.str = s;
  return r;
}
Reply Reply::Status(std::string_view s) {
  Reply r;
  r.type = Type::kStatus;
  r.str = s;
  return r;
}
Reply Reply::Error(std::string_view s) {
  Reply r;
  r.type = Type::kError;
  r.str = s;
  return r;
}
Reply Reply::Int(long long n) {
  Reply r;
  r.type = Type::kInteger;
  r.integer = n;
  return r;
}
Reply Reply::Nil() { return Reply(); }
Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.type = Type::kArray;
  r.elements = std::move(elements);
  return r;
}
Reply Reply::Bulks(std::initializer_list<std::string_view> items) {
  std::vector<Reply> elements;
  for (std::string_view item : items) elements.push_back(Bulk(item));
  return Array(std::move(elements));
}

Reply Reply::FromHiredis(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(FromHiredis(r->element[i]));
      }
      break;
    default:
      out.type = Type::kNil;
  }
  return out;
}

bool Reply::operator==(const Reply& other) const {
  if (type != other.type) return false;
  switch (type) {
    case Type::kInteger:
      return integer == other.integer;
    case Type::kArray:
      return elements == other.elements;
    case Type::kNil:
      return true;
    default:
      return str == other.str;
  }
}

std::ostream& operator<<(std::ostream& os, const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kString:
      return os << '"' << Escape(reply.str) << '"';
    case Reply::Type::kStatus:
      return os << "+" << Escape(reply.str);
    case Reply::Type::kError:
      return os << "-" << Escape(reply.str);
    case Reply::Type::kIoError:
      return os << "<io error: " << reply.str << ">";
    case Reply::Type::kInteger:
      return os << "(integer) " << reply.integer;
    case Reply::Type::kNil:
      return os << "(nil)";
    case Reply::Type::kArray:
      os << "[";
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i == 8) return os << ", ...(" << reply.elements.size() << " elements)]";
        os << (i ? ", " : "") << reply.elements[i];
      }
      return os << "]";
  }
  return os;
}

}  // namespace dynakv::itest
