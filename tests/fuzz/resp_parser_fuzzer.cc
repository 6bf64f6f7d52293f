// Fuzzes the RESP request parser (resp/request_parser.h) the way a client connection drives it.
// Input: [flags byte][chunk byte] then the bytes a client sends.
//   flags bit 0: unauthenticated limits; bit 1: tiny limits, so every limit check is reachable.
//   chunk: the stream is also fed in pieces of (chunk % 17) + 1 bytes.
// Invariants: the results do not depend on how the stream is split (the parser's contract); a
// request consumes bytes and respects every limit; a multibulk request re-encodes to exactly the
// bytes it consumed; inline arguments survive re-quoting through SplitInlineArgs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "resp/request_parser.h"

namespace {

using dynakv::resp::ParserLimits;
using dynakv::resp::ParseStatus;
using dynakv::resp::RequestParser;

struct Outcome {
  ParseStatus status;
  std::size_t consumed;
  std::vector<std::string> argv;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

// Feeds `stream` to a parser `chunk` bytes at a time (all of it at once when chunk is 0) and
// records every request and the final state. Each call gets a fresh copy of the unconsumed bytes,
// as a caller that moved its buffer would pass, so a parser keeping a stale pointer is caught.
std::vector<Outcome> Run(const ParserLimits& limits, std::string_view stream, std::size_t chunk) {
  RequestParser parser(limits);
  std::vector<Outcome> outcomes;
  std::size_t start = 0;  // first unconsumed byte
  std::size_t received = chunk == 0 ? stream.size() : 0;
  std::vector<std::string_view> argv;
  while (true) {
    const std::string input(stream.substr(start, received - start));
    std::size_t consumed = 99;
    const ParseStatus status = parser.Parse(input, &consumed, &argv);
    if (status == ParseStatus::kNeedMore) {
      FUZZ_CHECK(consumed == 0);
      if (received < stream.size()) {
        received = std::min(stream.size(), received + chunk);
        continue;
      }
      outcomes.push_back({status, 0, {}, {}});
      return outcomes;
    }
    if (status == ParseStatus::kError) {
      FUZZ_CHECK(!parser.error().empty());
      outcomes.push_back({status, 0, {}, parser.error()});
      // The error is final.
      FUZZ_CHECK(parser.Parse(input, &consumed, &argv) == ParseStatus::kError);
      return outcomes;
    }
    FUZZ_CHECK(status == ParseStatus::kRequest);
    FUZZ_CHECK(consumed > 0 && consumed <= input.size());
    Outcome request{status, consumed, {}, {}};
    for (std::string_view arg : argv) request.argv.emplace_back(arg);
    outcomes.push_back(std::move(request));
    start += consumed;
  }
}

std::string EncodeMultibulk(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv)
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

std::string QuoteInline(const std::vector<std::string>& argv) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::string& arg : argv) {
    out += out.empty() ? "\"" : " \"";
    for (unsigned char c : arg) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    out += '"';
  }
  return out;
}

void CheckRequest(const ParserLimits& limits, std::string_view consumed_bytes,
                  const std::vector<std::string>& argv) {
  if (consumed_bytes.front() == '*') {
    if (argv.empty()) return;  // `*0` or `*-N`: skipped, nothing to re-encode
    FUZZ_CHECK(static_cast<long long>(argv.size()) <= limits.max_multibulk_len);
    for (const std::string& arg : argv) {
      FUZZ_CHECK(static_cast<long long>(arg.size()) <= limits.max_bulk_len);
      if (limits.unauthenticated) FUZZ_CHECK(arg.size() <= 16384);
    }
    if (limits.unauthenticated) FUZZ_CHECK(argv.size() <= 10);
    FUZZ_CHECK(EncodeMultibulk(argv) == consumed_bytes);
    return;
  }
  // Inline: one line within the limit, ending in "\n".
  FUZZ_CHECK(consumed_bytes.back() == '\n');
  FUZZ_CHECK(consumed_bytes.size() - 1 <= limits.max_inline_len);
  std::vector<std::string> again;
  FUZZ_CHECK(dynakv::resp::SplitInlineArgs(QuoteInline(argv), &again));
  FUZZ_CHECK(again == argv);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dynakv::fuzz::InputReader in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::size_t chunk = in.Byte() % 17 + 1;
  const std::string_view stream = in.Rest();

  ParserLimits limits;
  limits.unauthenticated = (flags & 1) != 0;
  if (flags & 2) {
    limits.max_bulk_len = 16;
    limits.max_multibulk_len = 4;
    limits.max_inline_len = 24;
  }

  const std::vector<Outcome> whole = Run(limits, stream, 0);
  std::size_t offset = 0;
  for (const Outcome& o : whole) {
    if (o.status != ParseStatus::kRequest) break;
    CheckRequest(limits, stream.substr(offset, o.consumed), o.argv);
    offset += o.consumed;
  }
  FUZZ_CHECK(Run(limits, stream, chunk) == whole);
  return 0;
}
