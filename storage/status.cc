#include "storage/status.h"

namespace dynakv::storage {

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kIoError:
      return "IO error: " + message_;
    case Code::kCorruption:
      return "Corruption: " + message_;
    case Code::kOutOfMemory:
      return "Out of memory: " + message_;
    case Code::kInvalidArgument:
      return "Invalid argument: " + message_;
  }
  return "Unknown status: " + message_;
}

}  // namespace dynakv::storage
