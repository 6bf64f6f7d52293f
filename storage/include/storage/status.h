// Result of an operation that can fail, in the LevelDB style: cheap when ok, a message otherwise.
#pragma once

#include <string>
#include <utility>

namespace dynakv::storage {

class Status {
 public:
  enum class Code { kOk, kIoError, kCorruption, kOutOfMemory, kInvalidArgument };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  // An I/O error the OS reported as `os_errno`: callers that must quote the OS's own words (Redis
  // replies `MISCONF ... No space left on device`) read it back with os_errno().
  static Status IoError(std::string msg, int os_errno) {
    Status s(Code::kIoError, std::move(msg));
    s.os_errno_ = os_errno;
    return s;
  }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status OutOfMemory(std::string msg) { return Status(Code::kOutOfMemory, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsOutOfMemory() const { return code_ == Code::kOutOfMemory; }
  const std::string& message() const { return message_; }
  int os_errno() const { return os_errno_; }  // 0 when the error did not come from the OS
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
  int os_errno_ = 0;
};

}  // namespace dynakv::storage
