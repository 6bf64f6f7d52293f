// Glob-style matching as Redis does it for KEYS, SCAN MATCH and CONFIG GET (stringmatchlen).
#pragma once

#include <string_view>

namespace dynakv::server {

// Binary safe. Supports `*` (any run), `?` (one byte), `[abc]`, `[^abc]`, `[a-z]` (reversed
// ranges too) and `\` to take the next byte literally, also inside brackets. An unterminated
// `[` matches the bytes listed so far, as in Redis. `nocase` folds ASCII letters.
// Exactly like stringmatchlen, the empty text matches no non-empty pattern, not even "*": KEYS and
// SCAN treat a lone "*" as "everything" before calling this. Its other quirks are kept too: range
// ends compare as signed chars, and a match that needs more than 1000 `*` runs (the pattern's
// last run aside) fails, as Redis 7 caps its recursion there.
// Iterative and allocation-free: O(|pattern| + |text| * longest part between two `*`) steps,
// however many `*` the pattern has.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace dynakv::server
