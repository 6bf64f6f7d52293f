// RequestParser fed the way a connection feeds it: pipelined requests, split at arbitrary points,
// arriving byte by byte, in buffers that move. Whatever the split, the outcome must be the same;
// random and mutated input must end in a clean kNeedMore or kError, never a crash or a hang.

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_writer.h"
#include "resp/request_parser.h"

namespace dynakv::resp {
namespace {

using namespace std::string_literals;
using Requests = std::vector<std::vector<std::string>>;

struct Outcome {
  Requests requests;
  ParseStatus status = ParseStatus::kNeedMore;  // how the stream ended: kNeedMore or kError
  std::string error;
  std::size_t leftover = 0;  // bytes no request consumed
  std::string violation;     // a broken contract (bad `consumed`, status/error mismatch)
  bool operator==(const Outcome&) const = default;
};

// What a stream that ends cleanly, or in a protocol error, should produce.
Outcome Clean(Requests requests, std::size_t leftover = 0) {
  Outcome out;
  out.requests = std::move(requests);
  out.leftover = leftover;
  return out;
}

Outcome Failed(Requests requests, std::string error) {
  Outcome out;
  out.requests = std::move(requests);
  out.status = ParseStatus::kError;
  out.error = std::move(error);
  return out;
}

// `read_size(fed)` says how many bytes the next read brings once `fed` bytes have arrived.
using ReadSize = std::function<std::size_t(std::size_t fed)>;

// Plays `stream` into a fresh parser like a connection: each read is appended to the buffer,
// requests are parsed until none is complete, consumed bytes are dropped from the front. With
// `relocate`, every call sees the unconsumed bytes at a new address, as after a realloc.
Outcome Play(std::string_view stream, const ReadSize& read_size, const ParserLimits& limits = {},
             bool relocate = true) {
  RequestParser parser(limits);
  Outcome out;
  std::string buffer;
  std::string moved;
  std::vector<std::string_view> argv;
  std::size_t fed = 0;
  std::size_t calls = 0;
  for (;;) {
    for (;;) {
      std::string_view input = buffer;
      if (relocate) {
        const std::size_t pad = 1 + calls % 5;
        moved.assign(pad, '~');
        moved += buffer;
        input = std::string_view(moved).substr(pad);
      }
      ++calls;
      std::size_t consumed = 777;
      const ParseStatus status = parser.Parse(input, &consumed, &argv);
      if (status == ParseStatus::kRequest) {
        if (consumed == 0 || consumed > input.size()) {
          out.violation = "kRequest consumed " + std::to_string(consumed);
          return out;
        }
        out.requests.emplace_back(argv.begin(), argv.end());
        buffer.erase(0, consumed);
        continue;
      }
      if (consumed != 0) out.violation = "consumed set without a request";
      if (status == ParseStatus::kError) {
        if (parser.error().rfind("Protocol error: ", 0) != 0) out.violation = "bad error text";
        out.status = ParseStatus::kError;
        out.error = parser.error();
        return out;
      }
      if (!parser.error().empty()) out.violation = "error text without kError";
      break;
    }
    if (fed == stream.size()) {
      out.leftover = buffer.size();
      return out;
    }
    const std::size_t n = std::min(std::max<std::size_t>(read_size(fed), 1), stream.size() - fed);
    buffer.append(stream.substr(fed, n));
    fed += n;
  }
}

Outcome PlayWhole(std::string_view stream, const ParserLimits& limits = {}) {
  return Play(
      stream, [&](std::size_t) { return stream.size(); }, limits);
}

Outcome PlayBytewise(std::string_view stream, const ParserLimits& limits = {},
                     bool relocate = true) {
  return Play(
      stream, [](std::size_t) { return std::size_t{1}; }, limits, relocate);
}

// Reads end exactly at each of the ascending offsets in `cuts`.
Outcome PlayCut(std::string_view stream, std::vector<std::size_t> cuts) {
  cuts.push_back(stream.size());
  return Play(stream, [cuts](std::size_t fed) {
    for (std::size_t cut : cuts) {
      if (cut > fed) return cut - fed;
    }
    return std::size_t{1};
  });
}

std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 32 || c > 126) {
      out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Lets doctest show what differed.
std::ostream& operator<<(std::ostream& os, const Outcome& outcome) {
  os << "[";
  for (const auto& request : outcome.requests) {
    os << "(";
    for (const std::string& arg : request) os << '"' << Printable(arg) << "\" ";
    os << ")";
  }
  os << "] status=" << static_cast<int>(outcome.status) << " error=\"" << outcome.error
     << "\" leftover=" << outcome.leftover << " violation=\"" << outcome.violation << '"';
  return os;
}

// A pipeline mixing every frame type, including the awkward ones.
const std::string kPipeline =
    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$8\r\nva\r\nl\0ue\r\n"s  // binary payload
    "PING\r\n"                                                // inline
    "*0\r\n"                                                  // skipped
    "\r\n"                                                    // blank inline line
    "*1\r\n$0\r\n\r\n"                                        // empty argument
    "SET \"a b\" 'c\\'d' \"\\x41\\n\"\n"                      // quotes, escapes, bare LF
    "*-1\r\n"                                                 // skipped
    "*2\r\n$4\r\nECHO\r\n$12\r\n*1\r\n$4\r\nPING\r\n"         // payload that looks like a frame
    "   \n"                                                   // spaces-only line
    "GET k\n";

const Requests kPipelineRequests = {{"SET", "key", "va\r\nl\0ue"s},
                                    {"PING"},
                                    {},
                                    {},
                                    {""},
                                    {"SET", "a b", "c'd", "A\n"},
                                    {},
                                    {"ECHO", "*1\r\n$4\r\nPING"},
                                    {},
                                    {"GET", "k"}};

TEST_CASE("a pipeline parses the same whatever the read boundaries") {
  const Outcome expected = Clean(kPipelineRequests);
  REQUIRE(PlayWhole(kPipeline) == expected);
  CHECK(PlayBytewise(kPipeline) == expected);
  for (std::size_t cut = 0; cut <= kPipeline.size(); ++cut) {
    CAPTURE(cut);
    CHECK(PlayCut(kPipeline, {cut}) == expected);
  }
  for (std::size_t a = 1; a < kPipeline.size(); ++a) {
    for (std::size_t b = a + 1; b < kPipeline.size(); ++b) {
      const Outcome got = PlayCut(kPipeline, {a, b});
      if (!(got == expected)) {
        CAPTURE(a);
        CAPTURE(b);
        FAIL_CHECK("split pipeline parsed differently");
      }
    }
  }
}

TEST_CASE("an unfinished request is left unconsumed") {
  const std::string stream = kPipeline + "*2\r\n$3\r\nGET\r\n$1\r\n";
  const Outcome expected = Clean(kPipelineRequests, 17);
  CHECK(PlayWhole(stream) == expected);
  CHECK(PlayBytewise(stream) == expected);
}

TEST_CASE("errors surface at the same request whatever the read boundaries") {
  const std::pair<std::string, std::string> cases[] = {
      {"*1\r\n$2\r\nabc\r\n", "Protocol error: expected CRLF after bulk"},
      {"SET \"a\r\n", "Protocol error: unbalanced quotes in request"},
      {"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-3\r\n", "Protocol error: invalid bulk length"},
      {"*1x\r\n", "Protocol error: invalid multibulk length"},
      {std::string(70000, 'a'), "Protocol error: too big inline request"},
  };
  for (const auto& [tail, message] : cases) {
    const std::string stream = kPipeline + tail + "PING\r\n";
    CAPTURE(Printable(tail.substr(0, 20)));
    const Outcome expected = Failed(kPipelineRequests, message);
    CHECK(PlayWhole(stream) == expected);
    CHECK(PlayBytewise(stream, {}, /*relocate=*/tail.size() < 100) == expected);
    for (std::size_t cut = kPipeline.size(); cut <= stream.size(); cut += 1 + cut / 64) {
      CHECK(PlayCut(stream, {cut}) == expected);
    }
  }
}

TEST_CASE("large requests fed one byte at a time") {
  // Thousands of arguments plus a payload far larger than any line, each read one byte long.
  // Every call only looks at the new byte, so this stays linear.
  std::vector<std::string> args = {"RPUSH", "list"};
  for (int i = 0; i < 3000; ++i) args.push_back(std::to_string(i));
  args.push_back(std::string(200000, 'v'));
  std::vector<std::string_view> views(args.begin(), args.end());
  const std::string stream = EncodeCommand(views) + "PING\r\n";
  const Outcome expected = Clean({args, {"PING"}});
  CHECK(PlayBytewise(stream, {}, /*relocate=*/false) == expected);
}

TEST_CASE("encoded commands round-trip through the parser") {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    Requests sent;
    std::string stream;
    const int commands = 1 + static_cast<int>(rng() % 20);
    for (int c = 0; c < commands; ++c) {
      std::vector<std::string> args(1 + rng() % 8);
      for (std::string& arg : args) {
        arg.resize(rng() % 40);
        for (char& ch : arg) ch = static_cast<char>(rng() % 256);
      }
      stream += EncodeCommand(std::vector<std::string_view>(args.begin(), args.end()));
      sent.push_back(std::move(args));
    }
    const Outcome got = Play(stream, [&](std::size_t) { return 1 + rng() % 64; });
    CHECK(got == Clean(sent));
  }
}

// Bytes that steer the parser into its interesting states.
char ProtocolishByte(std::mt19937& rng) {
  static constexpr std::string_view kPool = "*$\r\n\r\n0123456789-+ \t\"'\\xaF:";
  if (rng() % 10 == 0) return static_cast<char>(rng() % 256);
  return kPool[rng() % kPool.size()];
}

std::string RandomSoup(std::mt19937& rng) {
  std::string s(rng() % 80, ' ');
  for (char& c : s) c = ProtocolishByte(rng);
  if (!s.empty() && rng() % 2 == 0) s[0] = '*';
  return s;
}

std::string MutatedPipeline(std::mt19937& rng) {
  std::string s;
  const int commands = 1 + static_cast<int>(rng() % 3);
  for (int c = 0; c < commands; ++c) {
    if (rng() % 4 == 0) {
      s += "SET \"k\\x41\" 'v w'\r\n";
      continue;
    }
    std::vector<std::string> args(1 + rng() % 4);
    for (std::string& arg : args)
      arg = std::string(rng() % 12, 'a' + static_cast<char>(rng() % 26));
    s += EncodeCommand(std::vector<std::string_view>(args.begin(), args.end()));
  }
  const int mutations = 1 + static_cast<int>(rng() % 3);
  for (int m = 0; m < mutations && !s.empty(); ++m) {
    const std::size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s[at] = ProtocolishByte(rng);
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), ProtocolishByte(rng));
        break;
      case 2:
        s.erase(at, 1);
        break;
      default:
        s.resize(at);
        break;
    }
  }
  return s;
}

TEST_CASE("random and mutated input ends cleanly and independently of read boundaries") {
  std::mt19937 rng(0xd1a4);
  int ended_in_error = 0;
  int ended_needing_more = 0;
  std::size_t requests = 0;
  for (int i = 0; i < 20000; ++i) {
    ParserLimits limits;
    if (rng() % 2 == 0) {
      limits.max_inline_len = 1 + rng() % 24;
      limits.max_bulk_len = rng() % 16;
      limits.max_multibulk_len = rng() % 8;
    }
    limits.unauthenticated = rng() % 4 == 0;
    const std::string input = i % 2 == 0 ? RandomSoup(rng) : MutatedPipeline(rng);

    const Outcome whole = PlayWhole(input, limits);
    const Outcome chunked = Play(
        input, [&](std::size_t) { return 1 + rng() % 8; }, limits);
    const Outcome bytewise = PlayBytewise(input, limits, /*relocate=*/false);
    if (!whole.violation.empty() || !(whole == chunked) || !(whole == bytewise)) {
      INFO("input: ", Printable(input));
      INFO("violation: ", whole.violation, chunked.violation, bytewise.violation);
      FAIL_CHECK("outcome depends on read boundaries or breaks the contract");
      continue;
    }
    (whole.status == ParseStatus::kError ? ended_in_error : ended_needing_more)++;
    requests += whole.requests.size();
  }
  // The generator must actually reach all three outcomes for this test to mean anything.
  CHECK(ended_in_error > 2000);
  CHECK(ended_needing_more > 2000);
  CHECK(requests > 2000);
}

}  // namespace
}  // namespace dynakv::resp
