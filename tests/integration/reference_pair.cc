#include "reference_pair.h"

#include <doctest/doctest.h>

namespace dynakv::itest {

bool ReferenceAvailable() {
  if (ReferenceRedis().empty() || TestingRealRedis()) {
    MESSAGE("skipped: needs redis-server installed and a different server under test");
    return false;
  }
  return true;
}

ReferencePair::ReferencePair(const Flags& ours_flags, const Flags& reference_flags)
    : ours(ours_flags), reference(reference_flags, ReferenceRedis()) {
  ours.Start();
  reference.Start();
}

}  // namespace dynakv::itest
