// Inline command splitting, a line-for-line port of Redis's sdssplitargs so that `redis-cli`-style
// inline requests (and telnet sessions) are tokenized exactly as Redis tokenizes them.

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "resp/request_parser.h"

namespace dynakv::resp {

namespace {

// isspace() in the C locale, which is what sdssplitargs runs under.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char UnescapeDoubleQuoted(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args) {
  // sdssplitargs walks a C string: a NUL ends the line, and reading one past the end yields NUL.
  // at() reproduces both, which keeps the port faithful without copying the line.
  if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
    line = line.substr(0, static_cast<const char*>(nul) - line.data());
  }
  const std::size_t n = line.size();
  auto at = [&](std::size_t i) { return i < n ? line[i] : '\0'; };

  std::size_t count = 0;
  std::size_t p = 0;
  for (;;) {
    while (p < n && IsSpace(line[p])) ++p;
    if (p >= n) break;

    if (count == args->size()) args->emplace_back();
    std::string& current = (*args)[count++];
    current.clear();
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      const char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && IsHexDigit(at(p + 2)) && IsHexDigit(at(p + 3))) {
          current.push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          current.push_back(UnescapeDoubleQuoted(at(p)));
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end of the line.
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) {
            args->resize(count);
            return false;
          }
          done = true;
        } else if (c == '\0') {
          args->resize(count);
          return false;  // unterminated quotes
        } else {
          current.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          current.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) {
            args->resize(count);
            return false;
          }
          done = true;
        } else if (c == '\0') {
          args->resize(count);
          return false;
        } else {
          current.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            current.push_back(c);
            break;
        }
      }
      if (at(p) != '\0') ++p;
    }
  }
  args->resize(count);
  return true;
}

}  // namespace dynakv::resp
