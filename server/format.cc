#include "format.h"

#include <cstdarg>
#include <cstdio>

namespace dynakv::server {

void AppendPrintf(std::string* out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int needed = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (needed > 0) {
    const std::size_t old_size = out->size();
    out->resize(old_size + static_cast<std::size_t>(needed) + 1);
    std::vsnprintf(out->data() + old_size, static_cast<std::size_t>(needed) + 1, format, again);
    out->resize(old_size + static_cast<std::size_t>(needed));
  }
  va_end(again);
}

}  // namespace dynakv::server
