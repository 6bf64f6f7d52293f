// An owned copy of one server reply, comparable with == so a failed CHECK prints both sides.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace dynakv::itest {

struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError, kIoError };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError; for kIoError the transport error
  long long integer = 0;
  std::vector<Reply> elements;

  static Reply Bulk(std::string_view s);
  static Reply Status(std::string_view s);
  static Reply Error(std::string_view s);
  static Reply Int(long long n);
  static Reply Nil();
  static Reply Array(std::vector<Reply> elements);
  // An array of bulk strings, the most common multi-value reply.
  static Reply Bulks(std::initializer_list<std::string_view> items);
  static Reply FromHiredis(const redisReply* r);

  bool IsError() const { return type == Type::kError; }
  bool operator==(const Reply& other) const;
};
std::ostream& operator<<(std::ostream& os, const Reply& reply);

}  // namespace dynakv::itest
