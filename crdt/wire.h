// The byte-level pieces every crdt encoding is built from. Decoders read untrusted bytes (peers,
// disk), so each Get* checks bounds first and rejects non-canonical forms (an overlong varint,
// say): a value then has exactly one encoding, which is what lets replicas that saw the same
// operations hold, and compare, identical bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::crdt::wire {

void PutVarint(std::string* dst, std::uint64_t value);
// Zigzag, so timestamps near zero or negative stay short.
void PutSignedVarint(std::string* dst, std::int64_t value);
void PutBytes(std::string* dst, std::string_view bytes);  // varint length, then the bytes
void PutDouble(std::string* dst, double value);           // 8 bytes, IEEE 754 little endian

// Each Get* consumes its encoding from the front of *in; false on truncated, overlong or
// overflowing input (*in is then unspecified).
bool GetVarint(std::string_view* in, std::uint64_t* value);
bool GetSignedVarint(std::string_view* in, std::int64_t* value);
// `bytes` points into the input; a length over `max_len` is rejected before anything is read.
bool GetBytes(std::string_view* in, std::string_view* bytes, std::uint64_t max_len);
// NaN is rejected: no operation stores one, and NaN != NaN would break byte-equality checks.
bool GetDouble(std::string_view* in, double* value);

}  // namespace dynakv::crdt::wire
