// COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP): the
// command table rows as Redis 7.0 shows its own, so client libraries (cluster clients reading
// key positions, redis-cli's hints) work unchanged. Redis lists commands in its hash table's
// order, which changes with every start; here they come in name order.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command_docs.h"
#include "command_table.h"
#include "command_util.h"
#include "glob.h"
#include "server.h"

namespace dynakv::server {
namespace {

// A key spec's or a command's flags as a set of status replies, in Redis's order. The
// movablekeys flag of a command derives from its key specs and goes before allow_busy.
void ReplyCommandFlags(resp::ReplyWriter& reply, const CommandSpec& spec) {
  std::vector<std::string_view> names;
  for (std::uint32_t bit = 1; bit & kRedisCommandFlags; bit <<= 1) {
    if (bit == kCmdAllowBusy && spec.keys.movable) names.push_back("movablekeys");
    if (spec.flags & bit) names.push_back(CommandFlagName(bit));
  }
  reply.SetHeader(names.size());
  for (std::string_view name : names) reply.Simple(name);
}

void ReplyKeyFlags(resp::ReplyWriter& reply, std::uint16_t flags) {
  std::vector<std::string_view> names;
  for (int i = 0; i < kKeySpecFlagCount; ++i) {
    if (flags & (1u << i)) names.push_back(KeySpecFlagName(static_cast<std::uint16_t>(1u << i)));
  }
  reply.SetHeader(names.size());
  for (std::string_view name : names) reply.Simple(name);
}

// Redis's addReplyCommandKeySpecs.
void ReplyKeySpec(resp::ReplyWriter& reply, const KeySpec& spec) {
  reply.MapHeader(spec.notes.empty() ? 3 : 4);
  if (!spec.notes.empty()) {
    reply.Bulk("notes");
    reply.Bulk(spec.notes);
  }
  reply.Bulk("flags");
  ReplyKeyFlags(reply, spec.flags);
  auto field = [&](std::string_view name, long long value) {
    reply.Bulk(name);
    reply.Integer(value);
  };
  reply.Bulk("begin_search");
  reply.MapHeader(2);
  reply.Bulk("type");
  switch (spec.begin) {
    case KeySpec::Begin::kIndex:
      reply.Bulk("index");
      reply.Bulk("spec");
      reply.MapHeader(1);
      field("index", spec.index);
      break;
    case KeySpec::Begin::kKeyword:
      reply.Bulk("keyword");
      reply.Bulk("spec");
      reply.MapHeader(2);
      reply.Bulk("keyword");
      reply.Bulk(spec.keyword);
      field("startfrom", spec.index);
      break;
    default:
      reply.Bulk("unknown");
      reply.Bulk("spec");
      reply.MapHeader(0);
      break;
  }
  reply.Bulk("find_keys");
  reply.MapHeader(2);
  reply.Bulk("type");
  switch (spec.find) {
    case KeySpec::Find::kRange:
      reply.Bulk("range");
      reply.Bulk("spec");
      reply.MapHeader(3);
      field("lastkey", spec.a);
      field("keystep", spec.b);
      field("limit", spec.c);
      break;
    case KeySpec::Find::kKeynum:
      reply.Bulk("keynum");
      reply.Bulk("spec");
      reply.MapHeader(3);
      field("keynumidx", spec.a);
      field("firstkey", spec.b);
      field("keystep", spec.c);
      break;
    default:
      reply.Bulk("unknown");
      reply.Bulk("spec");
      reply.MapHeader(0);
      break;
  }
}

std::vector<std::string_view> SplitTips(std::string_view tips) {
  std::vector<std::string_view> out;
  while (!tips.empty()) {
    const std::size_t space = tips.find(' ');
    if (space != 0) out.push_back(tips.substr(0, space));
    if (space == std::string_view::npos) break;
    tips.remove_prefix(space + 1);
  }
  return out;
}

// One entry of COMMAND / COMMAND INFO in Redis 7's ten-field shape (addReplyCommandInfo); a
// container's subcommands nest as entries of their own ("client|kill").
void ReplyCommandInfo(resp::ReplyWriter& reply, const CommandSpec& spec,
                      const CommandSpec* parent = nullptr) {
  reply.ArrayHeader(10);
  reply.Bulk(FullName(spec, parent));
  reply.Integer(spec.arity);
  ReplyCommandFlags(reply, spec);
  reply.Integer(spec.keys.first);
  reply.Integer(spec.keys.last);
  reply.Integer(spec.keys.step);
  const std::uint32_t categories = AclCategories(spec);
  int count = 0;
  for (int i = 0; i < kAclCategoryCount; ++i) count += (categories >> i) & 1;
  reply.SetHeader(static_cast<std::size_t>(count));
  for (int i = 0; i < kAclCategoryCount; ++i) {
    if (categories & (1u << i)) reply.Simple("@" + std::string(AclCategoryName(1u << i)));
  }
  const std::vector<std::string_view> tips = SplitTips(spec.tips);
  reply.SetHeader(tips.size());
  for (std::string_view tip : tips) reply.Bulk(tip);
  reply.SetHeader(spec.keys.specs().size());
  for (const KeySpec& key_spec : spec.keys.specs()) ReplyKeySpec(reply, key_spec);
  if (spec.subcommands.empty()) {
    reply.SetHeader(0);
    return;
  }
  reply.ArrayHeader(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) ReplyCommandInfo(reply, sub, &spec);
}

// Redis's lookupCommandBySds: "get", or "client|kill" for a subcommand.
const CommandTable::Entry* FindEntry(const CommandTable& table, std::string_view fullname) {
  const int id = table.FindId(fullname);
  return id < 0 ? nullptr : &table.entries()[static_cast<std::size_t>(id)];
}

void CommandAll(CommandContext& ctx) {
  const auto& specs = ctx.server.commands().sorted();
  ctx.reply.ArrayHeader(specs.size());
  for (const CommandSpec* spec : specs) ReplyCommandInfo(ctx.reply, *spec);
}

void CommandCount(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<long long>(ctx.server.commands().sorted().size()));
}

void CommandInfo(CommandContext& ctx) {
  if (ctx.argv.size() == 2) {
    CommandAll(ctx);
    return;
  }
  ctx.reply.ArrayHeader(ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    if (const CommandTable::Entry* entry = FindEntry(ctx.server.commands(), ctx.argv[i])) {
      ReplyCommandInfo(ctx.reply, *entry->spec, entry->parent);
    } else {
      ctx.reply.Null();
    }
  }
}

// Redis's addReplyCommandDocs: the documentation's fields, then a container's subcommands.
void ReplyCommandDocs(resp::ReplyWriter& reply, const CommandTable& table,
                      const CommandTable::Entry& entry) {
  const CommandDoc* doc = entry.doc;
  const bool has_subcommands = !entry.spec->subcommands.empty();
  reply.MapHeader((doc != nullptr ? doc->fields : 0) + (has_subcommands ? 1 : 0));
  if (doc != nullptr) WriteDocFields(reply, doc->resp3);
  if (!has_subcommands) return;
  reply.Bulk("subcommands");
  reply.MapHeader(entry.spec->subcommands.size());
  for (const CommandSpec& sub : entry.spec->subcommands) {
    const CommandTable::Entry& sub_entry = table.entries()[table.IdOf(&sub)];
    reply.Bulk(sub_entry.fullname);
    ReplyCommandDocs(reply, table, sub_entry);
  }
}

// COMMAND DOCS [name ...]: unknown names are left out.
void CommandDocs(CommandContext& ctx) {
  const CommandTable& table = ctx.server.commands();
  std::vector<const CommandTable::Entry*> found;
  if (ctx.argv.size() == 2) {
    for (const CommandSpec* spec : table.sorted())
      found.push_back(&table.entries()[table.IdOf(spec)]);
  } else {
    for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
      if (const CommandTable::Entry* entry = FindEntry(table, ctx.argv[i])) found.push_back(entry);
    }
  }
  ctx.reply.MapHeader(found.size());
  for (const CommandTable::Entry* entry : found) {
    ctx.reply.Bulk(entry->fullname);
    ReplyCommandDocs(ctx.reply, table, *entry);
  }
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: commands and
// subcommands by full name.
void CommandList(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  enum class Filter { kNone, kModule, kAclCat, kPattern } filter = Filter::kNone;
  if (argv.size() == 5 && EqualsIgnoreCase(argv[2], "filterby")) {
    if (EqualsIgnoreCase(argv[3], "module")) {
      filter = Filter::kModule;
    } else if (EqualsIgnoreCase(argv[3], "aclcat")) {
      filter = Filter::kAclCat;
    } else if (EqualsIgnoreCase(argv[3], "pattern")) {
      filter = Filter::kPattern;
    }
  }
  if (argv.size() != 2 && filter == Filter::kNone) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const std::uint32_t category = filter == Filter::kAclCat ? AclCategoryByName(argv[4]) : 0;
  std::vector<std::string_view> names;
  for (const CommandTable::Entry& entry : ctx.server.commands().entries()) {
    bool listed = true;
    switch (filter) {
      case Filter::kNone:
        break;
      case Filter::kModule:  // no modules
        listed = false;
        break;
      case Filter::kAclCat:
        listed = category != 0 && (AclCategories(*entry.spec) & category);
        break;
      case Filter::kPattern:
        listed = GlobMatch(argv[4], entry.fullname, /*nocase=*/true);
        break;
    }
    if (listed) names.push_back(entry.fullname);
  }
  ctx.reply.ArrayHeader(names.size());
  for (std::string_view name : names) ctx.reply.Bulk(name);
}

// COMMAND GETKEYS / GETKEYSANDFLAGS <full command> (Redis's getKeysSubcommandImpl).
void GetKeysReply(CommandContext& ctx, bool with_flags) {
  const std::vector<std::string_view> command(ctx.argv.begin() + 2, ctx.argv.end());
  const CommandTable& table = ctx.server.commands();
  const CommandSpec* spec = table.Find(command[0]);
  if (spec != nullptr && !spec->subcommands.empty() && command.size() >= 2) {
    spec = CommandTable::FindSubcommand(*spec, command[1]);
  }
  if (spec == nullptr) {
    ctx.reply.Error("ERR Invalid command specified");
    return;
  }
  if (!HasKeys(*spec)) {
    ctx.reply.Error("ERR The command has no key arguments");
    return;
  }
  if (!ArityMatches(*spec, command.size())) {
    ctx.reply.Error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<KeyRef> keys;
  if (GetKeys(*spec, command, &keys) == 0) {
    if (spec->flags & kCmdNoMandatoryKeys) {
      ctx.reply.ArrayHeader(0);
    } else {
      ctx.reply.Error("ERR Invalid arguments specified for command");
    }
    return;
  }
  ctx.reply.ArrayHeader(keys.size());
  for (const KeyRef& key : keys) {
    const std::string_view name = command[static_cast<std::size_t>(key.pos)];
    if (!with_flags) {
      ctx.reply.Bulk(name);
      continue;
    }
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(name);
    ReplyKeyFlags(ctx.reply, key.flags);
  }
}

void CommandGetKeys(CommandContext& ctx) { GetKeysReply(ctx, false); }
void CommandGetKeysAndFlags(CommandContext& ctx) { GetKeysReply(ctx, true); }

void CommandHelp(CommandContext& ctx) {
  // Redis 7.0's text.
  static constexpr std::string_view kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full Redis command.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// COMMAND alone; COMMAND <subcommand> runs the subcommand's row.
void CommandCommand(CommandContext& ctx) { CommandAll(ctx); }

// clang-format off
const CommandSpec kCommandSubcommands[] = {
    {.name = "count", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .handler = CommandCount},
    {.name = "info", .arity = -2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .tips = "nondeterministic_output_order", .handler = CommandInfo},
    {.name = "list", .arity = -2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .tips = "nondeterministic_output_order", .handler = CommandList},
    {.name = "docs", .arity = -2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .tips = "nondeterministic_output_order", .handler = CommandDocs},
    {.name = "getkeys", .arity = -4, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .handler = CommandGetKeys},
    {.name = "getkeysandflags", .arity = -4, .flags = kCmdLoading | kCmdStale,
     .acl = kAclConnection, .handler = CommandGetKeysAndFlags},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .handler = CommandHelp},
};

const CommandSpec kCommandCommands[] = {
    {.name = "command", .arity = -1, .flags = kCmdLoading | kCmdStale, .acl = kAclConnection,
     .tips = "nondeterministic_output_order", .handler = CommandCommand,
     .subcommands = kCommandSubcommands},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> CommandCommands() { return kCommandCommands; }

}  // namespace dynakv::server
