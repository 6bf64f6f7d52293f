// The server under test and the installed redis-server 7 side by side, for the tests that
// compare their replies (the *_differential tests, test_glob_patterns, test_acl, ...).
#pragma once

#include "server_process.h"

namespace dynakv::itest {

// Whether there is a reference to compare against: redis-server is installed and is not itself
// the server under test. Says why not (a doctest MESSAGE) when not: the caller skips.
bool ReferenceAvailable();

// Both servers, started (ours first) with their own flags. Construct only when
// ReferenceAvailable(). `auto& [ours, reference] = servers;` names them.
struct ReferencePair {
  ReferencePair(const Flags& ours_flags, const Flags& reference_flags);
  ServerProcess ours;
  ServerProcess reference;
};

}  // namespace dynakv::itest
