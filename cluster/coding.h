// Byte encodings shared by the cluster's serialized types (vector clocks, versions, sibling
// sets, context tokens). Every decoder reads untrusted bytes (peers, clients, disk), so each one
// checks bounds before it reads and rejects non-canonical forms: a value has exactly one
// encoding, which keeps equal data byte-identical on every replica (Merkle trees compare bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::cluster::coding {

void PutVarint64(std::string* dst, std::uint64_t value);
// Zigzag so small negative numbers stay short (timestamps are signed).
void PutVarsint64(std::string* dst, std::int64_t value);
void PutLengthPrefixed(std::string* dst, std::string_view bytes);

// Each Get* consumes its encoding from the front of `input` and returns false on truncated,
// overlong or overflowing input (leaving `input` unspecified).
bool GetVarint64(std::string_view* input, std::uint64_t* value);
bool GetVarsint64(std::string_view* input, std::int64_t* value);
// `bytes` points into the input buffer.
bool GetLengthPrefixed(std::string_view* input, std::string_view* bytes);

// URL-safe base64 without padding: printable and free of spaces and quotes, so a token can be
// passed as one redis-cli argument untouched.
std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string* bytes);

}  // namespace dynakv::cluster::coding
