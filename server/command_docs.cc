#include "command_docs.h"

#include <algorithm>
#include <charconv>
#include <cstddef>

namespace dynakv::server {
namespace {

// Reads one RESP3 line's payload after its type byte.
std::string_view TakeLine(std::string_view* in) {
  const std::size_t end = in->find("\r\n");
  const std::string_view line = in->substr(0, end);
  in->remove_prefix(end == std::string_view::npos ? in->size() : end + 2);
  return line;
}

long long ToNumber(std::string_view text) {
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Writes one value from the front of `*in` (the generated table holds only well-formed RESP3
// of these types: + $ : * % ~).
void WriteValue(resp::ReplyWriter& reply, std::string_view* in) {
  if (in->empty()) return;
  const char type = in->front();
  in->remove_prefix(1);
  const std::string_view line = TakeLine(in);
  switch (type) {
    case '+':
      reply.Simple(line);
      return;
    case ':':
      reply.Integer(ToNumber(line));
      return;
    case '$': {
      const auto length = static_cast<std::size_t>(ToNumber(line));
      reply.Bulk(in->substr(0, length));
      in->remove_prefix(std::min(in->size(), length + 2));
      return;
    }
    default:
      break;
  }
  const auto count = static_cast<std::size_t>(ToNumber(line));
  std::size_t values = count;
  if (type == '%') {
    reply.MapHeader(count);
    values = 2 * count;
  } else if (type == '~') {
    reply.SetHeader(count);
  } else {
    reply.ArrayHeader(count);
  }
  for (std::size_t i = 0; i < values; ++i) WriteValue(reply, in);
}

}  // namespace

const CommandDoc* FindCommandDoc(std::string_view fullname) {
  const std::span<const CommandDoc> docs = CommandDocTable();
  const auto it = std::lower_bound(
      docs.begin(), docs.end(), fullname,
      [](const CommandDoc& doc, std::string_view name) { return doc.name < name; });
  return it != docs.end() && it->name == fullname ? &*it : nullptr;
}

void WriteDocFields(resp::ReplyWriter& reply, std::string_view resp3) {
  while (!resp3.empty()) WriteValue(reply, &resp3);
}

}  // namespace dynakv::server
