// The building blocks of Redis's RDB format (rdb.c): lengths, strings and doubles. A value
// (value.h) and the file around it (opcodes, aux fields) are made of these.
//
// Readers take a view of the remaining input and advance it past what they read; on malformed
// input they return false and leave no guarantee about the view. They never trust a length
// further than the bytes that are there (payloads are untrusted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::rdb {

// A length: 6 bits (00), 14 bits (01, big-endian), 32 or 64 bits (0x80 / 0x81, big-endian).
void PutLength(std::string* out, std::uint64_t len);

// A string as rdbSaveRawString writes it: a canonical integer of at most 11 characters that fits
// 32 bits as an integer encoding (0xC0-0xC2); with `compress` (Redis's rdbcompression, default
// yes) a string over 20 bytes as LZF (0xC3) when that saves more than 4 bytes; else length and
// bytes.
void PutString(std::string* out, std::string_view s, bool compress = true);

// A double as RDB_TYPE_ZSET_2 holds it: 8 bytes, little-endian IEEE 754.
void PutBinaryDouble(std::string* out, double value);

// A length (a string encoding byte, 11xxxxxx, is malformed where a plain length is due).
bool GetLength(std::string_view* in, std::uint64_t* len);
// The same, where a string may be due: `*encoded` says the byte announces a string encoding
// instead (*len is then the encoding, 0-3).
bool GetLength(std::string_view* in, std::uint64_t* len, bool* encoded);
// A string in any of the encodings PutString writes (an integer comes back as its decimal text).
bool GetString(std::string_view* in, std::string* out);
bool GetBinaryDouble(std::string_view* in, double* value);
// The old RDB_TYPE_ZSET double: a length byte and the text, 253/254/255 for nan/+inf/-inf.
bool GetStringDouble(std::string_view* in, double* value);

}  // namespace dynakv::rdb
