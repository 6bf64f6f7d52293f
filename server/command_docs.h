// The documentation COMMAND DOCS answers with: Redis 7.0's own for the commands dynakv shares
// with it, ours for the rest. It is a generated table (command_docs_table.cc, written by
// scripts/gen_command_docs.py from a real redis-server's COMMAND DOCS and
// scripts/command_docs_dynakv.json), joined to the command table rows by full name in one place
// (CommandTable's constructor).
//
// Why not on the rows: it is Redis's prose (summaries, complexity, argument trees, history),
// nothing dynakv acts on, and several times the size of everything else a row holds; on the rows
// it would bury their facts and push the family files far past their size. Generated from the
// server it must match, it is byte-identical with Redis by construction, and a row without an
// entry is caught by the command table's unit test (run the script after adding a command).
#pragma once

#include <span>
#include <string_view>

#include "resp/reply_writer.h"

namespace dynakv::server {

struct CommandDoc {
  std::string_view name;  // full name, lower case: "get", "client|kill"
  int fields;             // entries of the documentation map in `resp3`
  // The map's entries (summary, since, group, complexity, doc_flags, deprecated_since,
  // replaced_by, history, arguments), RESP3-encoded as Redis 7.0 sends them. A container's
  // "subcommands" entry is not here: it is built from the rows.
  std::string_view resp3;
};

// Every entry, sorted by name (command_docs_table.cc, generated).
std::span<const CommandDoc> CommandDocTable();
// The entry of `fullname` (lower case); nullptr when there is none.
const CommandDoc* FindCommandDoc(std::string_view fullname);
// Writes `resp3` (a sequence of complete RESP3 values) in `reply`'s protocol: maps and sets
// become arrays in RESP2.
void WriteDocFields(resp::ReplyWriter& reply, std::string_view resp3);

}  // namespace dynakv::server
