// One hiredis connection to a node of the fault cluster, with a connect and a per-command
// timeout so a paused or partitioned node costs the caller a bounded wait, never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace dynakv::faults {

// What a command got back. kIo covers a timeout and a dropped connection alike: the command may
// or may not have run (indeterminate), and the connection is unusable afterwards.
struct Reply {
  enum class Type { kString, kStatus, kInteger, kNil, kArray, kError, kIo };
  Type type = Type::kIo;
  std::string str;  // kString, kStatus, kError, kIo (the transport error)
  long long integer = 0;
  // kArray: its elements' strings (a nested array or nil element reads as "").
  std::vector<std::string> elements;

  bool IsError() const { return type == Type::kError; }
  // A readable rendering for reports: "nil", "\"value\"", "(error) ...".
  std::string Describe() const;
};

class Conn {
 public:
  Conn(const std::string& host, int port, std::chrono::milliseconds timeout);
  bool ok() const;  // connected, and no transport error since
  Reply Command(const std::vector<std::string>& argv);

 private:
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx_;
};

// "host:port" split; false when malformed.
bool ParseAddress(const std::string& address, std::string* host, int* port);

}  // namespace dynakv::faults
