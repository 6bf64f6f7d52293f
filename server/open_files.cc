#include "open_files.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dynakv::server {

OpenFilesFit AdjustOpenFilesLimit(int maxclients, int reserved, LogLevel level) {
  const rlim_t wanted = static_cast<rlim_t>(maxclients) + static_cast<rlim_t>(reserved);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    Log(level, LogLevel::kWarning,
        "Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the max "
        "clients configuration accordingly.",
        std::strerror(errno));
    return {std::min(maxclients, 1024 - reserved), 1024};
  }
  const rlim_t old_limit = limit.rlim_cur;
  if (old_limit >= wanted) return {maxclients, old_limit};

  // Unprivileged, the soft limit may go up to the hard one; with CAP_SYS_RESOURCE both may rise.
  // Redis tries lower and lower values of both; asking for the hard limit gets the same.
  int error = 0;
  rlim_t best = old_limit;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    const rlimit raised{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      best = wanted;
    } else {
      error = errno;
      const rlimit to_hard{limit.rlim_max, limit.rlim_max};
      if (limit.rlim_max > old_limit && setrlimit(RLIMIT_NOFILE, &to_hard) == 0) {
        best = limit.rlim_max;
      }
    }
  } else {
    const rlimit raised{wanted, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      best = wanted;
    } else {
      error = errno;
    }
  }

  if (best >= wanted) {
    Log(level, LogLevel::kNotice,
        "Increased maximum number of open files to %llu (it was originally set to %llu).",
        static_cast<unsigned long long>(wanted), static_cast<unsigned long long>(old_limit));
    return {maxclients, wanted};
  }
  const int fits = best <= static_cast<rlim_t>(reserved)
                       ? 0
                       : static_cast<int>(std::min<rlim_t>(best - reserved, maxclients));
  if (fits <= 0) {
    Log(level, LogLevel::kWarning,
        "Your current 'ulimit -n' of %llu is not enough for the server to start. Please increase "
        "your open file limit to at least %llu. Exiting.",
        static_cast<unsigned long long>(old_limit), static_cast<unsigned long long>(wanted));
    return {fits, best};
  }
  Log(level, LogLevel::kWarning,
      "You requested maxclients of %d requiring at least %llu max file descriptors.", maxclients,
      static_cast<unsigned long long>(wanted));
  Log(level, LogLevel::kWarning,
      "Server can't set maximum open files to %llu because of OS error: %s.",
      static_cast<unsigned long long>(wanted), std::strerror(error));
  Log(level, LogLevel::kWarning,
      "Current maximum open files is %llu. maxclients has been reduced to %d to compensate for "
      "low ulimit. If you need higher maxclients increase 'ulimit -n'.",
      static_cast<unsigned long long>(best), fits);
  return {fits, best};
}

}  // namespace dynakv::server
