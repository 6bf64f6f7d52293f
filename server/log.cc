#include "log.h"

#include <sys/time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace dynakv::server {

bool ParseLogLevel(std::string_view name, LogLevel* level) {
  if (name == "debug") {
    *level = LogLevel::kDebug;
  } else if (name == "verbose") {
    *level = LogLevel::kVerbose;
  } else if (name == "notice") {
    *level = LogLevel::kNotice;
  } else if (name == "warning") {
    *level = LogLevel::kWarning;
  } else {
    return false;
  }
  return true;
}

void Log(LogLevel threshold, LogLevel level, const char* format, ...) {
  if (level < threshold) return;
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);

  timeval tv;
  gettimeofday(&tv, nullptr);
  std::tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char date[64];
  std::size_t n = std::strftime(date, sizeof(date), "%d %b %Y %H:%M:%S", &tm);
  std::snprintf(date + n, sizeof(date) - n, ".%03d", static_cast<int>(tv.tv_usec / 1000));
  // Redis marks levels with . - * # (debug, verbose, notice, warning).
  static constexpr char kMarks[] = {'.', '-', '*', '#'};
  std::fprintf(stderr, "%d:M %s %c %s\n", static_cast<int>(getpid()), date,
               kMarks[static_cast<int>(level)], message);
}

}  // namespace dynakv::server
