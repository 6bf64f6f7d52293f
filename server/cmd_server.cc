// Server commands: INFO, CONFIG, SHUTDOWN, SAVE / BGSAVE / BGREWRITEAOF, LASTSAVE and TIME,
// with the replies and error texts of Redis 7 (COMMAND is in cmd_command.cc).

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "clock.h"
#include "cluster_secret.h"
#include "command_util.h"
#include "config.h"
#include "config_rewrite.h"
#include "glob.h"
#include "info.h"
#include "log.h"
#include "open_files.h"
#include "rdb_save.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

void InfoCommand(CommandContext& ctx) {
  const std::span<const std::string_view> sections(ctx.argv.data() + 1, ctx.argv.size() - 1);
  ctx.reply.Verbatim(GenerateInfo(ctx.server, sections));
}

// ---- CONFIG ---------------------------------------------------------------------------------

void ConfigGet(CommandContext& ctx) {
  std::vector<const ConfigParam*> matches;
  auto add = [&](const ConfigParam* param) {
    if (std::find(matches.begin(), matches.end(), param) == matches.end()) {
      matches.push_back(param);
    }
  };
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    const std::string_view pattern = ctx.argv[i];
    if (pattern.find_first_of("*?[") == std::string_view::npos) {
      if (const ConfigParam* param = FindConfigParam(pattern)) add(param);
      continue;
    }
    for (const ConfigParam& param : ConfigParams()) {
      if (GlobMatch(pattern, param.name, /*nocase=*/true)) add(&param);
    }
  }
  ctx.reply.MapHeader(matches.size());
  for (const ConfigParam* param : matches) {
    ctx.reply.Bulk(param->name);
    ctx.reply.Bulk(param->format(ctx.server.config()));
  }
}

// All or nothing, as in Redis 7: every pair is checked on a copy before any takes effect, and the
// apply functions that ran are undone when a later one fails (Server::ApplyConfig).
void ConfigSet(CommandContext& ctx) {
  const auto& argv = ctx.argv;
  if (argv.size() % 2 != 0) {  // the arity check has seen to at least one pair
    ctx.reply.Error(kErrSyntax);
    return;
  }
  auto failed = [&](std::string_view name, std::string_view reason) {
    ctx.reply.Error("ERR CONFIG SET failed (possibly related to argument '" + std::string(name) +
                    "') - " + std::string(reason));
  };
  const Config& current = ctx.server.config();
  std::vector<const ConfigParam*> params;
  for (std::size_t i = 2; i < argv.size(); i += 2) {
    const ConfigParam* param = FindConfigParam(argv[i]);
    if (param == nullptr) {
      ctx.reply.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                      std::string(argv[i]) + "'");
      return;
    }
    // By name: an alias and its parameter may both be given, the last one wins (Redis 7.0).
    if (std::find(params.begin(), params.end(), param) != params.end()) {
      failed(argv[i], "duplicate parameter");
      return;
    }
    params.push_back(param);
  }
  Config updated = current;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ConfigParam& param = *params[i];
    const std::string_view value = argv[2 + 2 * i + 1];
    std::string reason;
    if (param.runtime()) {
      if (!param.parse(value, &updated, &reason)) {
        failed(argv[2 + 2 * i], reason);
        return;
      }
      continue;
    }
    // A parameter fixed at start may be "set" to the value it has, so that a saved CONFIG GET
    // can be replayed; any other value is refused as Redis refuses immutable ones. The cluster
    // secret, which CONFIG GET shows as "", takes "" or itself.
    Config scratch = current;
    const bool same = param.parse(value, &scratch, &reason) &&
                      (param.parse == ParseClusterSecret
                           ? value.empty() || scratch.cluster_secret == current.cluster_secret
                           : param.format(scratch) == param.format(current));
    if (!same) {
      failed(argv[2 + 2 * i], "can't set immutable config");
      return;
    }
  }
  std::string reason;
  if (!ValidateConfig(updated, &reason)) {
    ctx.reply.Error("ERR CONFIG SET failed - " + reason);
    return;
  }
  const ConfigParam* failed_param = nullptr;
  if (!ctx.server.ApplyConfig(updated, params, &failed_param, &reason)) {
    // Redis names the argument as the client wrote it.
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i] == failed_param) {
        failed(argv[2 + 2 * i], reason);
        return;
      }
    }
    failed(failed_param->name, reason);
    return;
  }
  ctx.reply.Ok();
}

void ConfigResetStat(CommandContext& ctx) {
  ctx.server.ResetStats();
  ctx.reply.Ok();
}

// Writes the running config back into the file it was loaded from, keeping its comments and
// order (config_rewrite.h), via a temporary file with the same mode and a rename, so a crash never
// leaves half a config (Redis's rewriteConfigOverwriteFile).
void ConfigRewrite(CommandContext& ctx) {
  const std::string& path = ctx.server.config().config_file;
  if (path.empty()) {
    ctx.reply.Error("ERR The server is running without a config file");
    return;
  }
  auto fail = [&](const std::string& why) {
    Log(ctx.server.log_level(), LogLevel::kWarning, "CONFIG REWRITE failed: %s", why.c_str());
    ctx.reply.Error("ERR Rewriting config file: " + why);
  };
  // A file that is gone is written afresh, as Redis does.
  std::string original;
  mode_t mode = 0644;
  if (std::FILE* in = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof(buf), in)) > 0) original.append(buf, got);
    const bool bad = std::ferror(in) != 0;
    struct stat st;
    if (fstat(fileno(in), &st) == 0) mode = st.st_mode & 07777;
    std::fclose(in);
    if (bad) return fail(std::strerror(EIO));
  } else if (errno != ENOENT) {
    return fail(std::strerror(errno));
  }
  std::string text;
  std::string error;
  if (!RewriteConfigToml(original, ctx.server.config(), &text, &error)) return fail(error);
  AtomicWriteFailure failure;
  if (!WriteFileAtomically(path, text, mode, &failure)) return fail(std::strerror(failure.error));
  Log(ctx.server.log_level(), LogLevel::kNotice, "CONFIG REWRITE executed with success.");
  ctx.reply.Ok();
}

// Redis 7.0's text word for word (its SET line names one pair, though it takes several).
void ConfigHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.Simple(line);
}

// clang-format off
const CommandSpec kConfigSubcommands[] = {
    {.name = "get", .arity = -3, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = ConfigGet},
    {.name = "set", .arity = -4, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .tips = "request_policy:all_nodes response_policy:all_succeeded", .handler = ConfigSet},
    {.name = "resetstat", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = ConfigResetStat},
    {.name = "rewrite", .arity = 2, .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale,
     .handler = ConfigRewrite},
    {.name = "help", .arity = 2, .flags = kCmdLoading | kCmdStale, .handler = ConfigHelp},
};
// clang-format on

// ---- persistence and lifecycle ---------------------------------------------------------------

// SAVE, BGSAVE and BGREWRITEAOF all mean "checkpoint": the memtable goes to a segment and the
// commit log restarts, which is what a snapshot and an AOF rewrite achieve in Redis.
bool Checkpoint(CommandContext& ctx) {
  const storage::Status status = ctx.engine().Checkpoint();
  if (!status.ok()) {
    Log(ctx.server.log_level(), LogLevel::kWarning, "Checkpoint failed: %s",
        status.ToString().c_str());
    ctx.reply.Error("ERR " + status.ToString());
    return false;
  }
  ctx.server.set_last_save_unix(NowMs() / 1000);
  return true;
}

// SAVE also writes the Redis RDB file dir/dbfilename (rdb_save.h), after the checkpoint.
void SaveCommand(CommandContext& ctx) {
  if (!Checkpoint(ctx)) return;
  std::string error;
  if (!ctx.server.rdb_saver().Save(&error)) {
    ctx.reply.Error(error);
    return;
  }
  ctx.reply.Ok();
}

// BGSAVE: the RDB is built from this moment's data, then written off the loop (rdb_save.h).
// BGSAVE [SCHEDULE | CLUSTER]: CLUSTER (ours, cluster mode) writes the whole cluster's keys
// through this node (rdb_cluster_export.h) instead of its own replica.
void BgsaveCommand(CommandContext& ctx) {
  const bool cluster = ctx.argv.size() == 2 && EqualsIgnoreCase(ctx.argv[1], "cluster");
  if (ctx.argv.size() > 2 ||
      (ctx.argv.size() == 2 && !cluster && !EqualsIgnoreCase(ctx.argv[1], "schedule"))) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (cluster) {
    std::string error;
    if (ctx.server.cluster_node() == nullptr) {
      ctx.reply.Error("ERR BGSAVE CLUSTER needs cluster mode");
    } else if (!ctx.server.rdb_saver().StartClusterBgsave(&error)) {
      ctx.reply.Error(error);
    } else {
      ctx.reply.Simple("Background saving started");
    }
    return;
  }
  if (!Checkpoint(ctx)) return;
  std::string error;
  if (!ctx.server.rdb_saver().StartBgsave(&error)) {
    ctx.reply.Error(error);
    return;
  }
  ctx.reply.Simple("Background saving started");
}

void BgrewriteaofCommand(CommandContext& ctx) {
  if (Checkpoint(ctx)) ctx.reply.Simple("Background append only file rewriting started");
}

void LastsaveCommand(CommandContext& ctx) {
  ctx.reply.Integer(std::max(ctx.server.last_save_unix(), ctx.server.rdb_saver().last_save_unix()));
}

void TimeCommand(CommandContext& ctx) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(tv.tv_sec));
  ctx.reply.Bulk(std::to_string(tv.tv_usec));
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. The commit log makes every write durable, so
// NOSAVE only skips the final checkpoint; on success the connection closes without a reply.
void ShutdownCommand(CommandContext& ctx) {
  bool save = false;
  bool nosave = false;
  bool abort = false;
  for (std::size_t i = 1; i < ctx.argv.size(); ++i) {
    const std::string_view arg = ctx.argv[i];
    if (EqualsIgnoreCase(arg, "nosave")) {
      nosave = true;
    } else if (EqualsIgnoreCase(arg, "save")) {
      save = true;
    } else if (EqualsIgnoreCase(arg, "abort")) {
      abort = true;
    } else if (!EqualsIgnoreCase(arg, "now") && !EqualsIgnoreCase(arg, "force")) {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  if ((save && nosave) || (abort && ctx.argv.size() > 2)) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  if (abort) {
    ctx.reply.Error("ERR No shutdown in progress.");
    return;
  }
  Log(ctx.server.log_level(), LogLevel::kWarning, "User requested shutdown...");
  if (save && !ctx.engine().Checkpoint().ok()) {
    ctx.reply.Error("ERR Errors trying to SHUTDOWN. Check logs.");
    return;
  }
  ctx.server.RequestShutdown();
}

// clang-format off
const CommandSpec kServerCommands[] = {
    {.name = "info", .arity = -1, .flags = kCmdLoading | kCmdStale, .acl = kAclDangerous,
     .tips = "nondeterministic_output request_policy:all_shards response_policy:special",
     .handler = InfoCommand},
    {.name = "config", .arity = -2, .subcommands = kConfigSubcommands},
    {.name = "shutdown", .arity = -1,
     .flags = kCmdAdmin | kCmdNoScript | kCmdLoading | kCmdStale | kCmdNoMulti | kCmdAllowBusy,
     .handler = ShutdownCommand},
    {.name = "save", .arity = 1,
     .flags = kCmdAdmin | kCmdNoScript | kCmdNoAsyncLoading | kCmdNoMulti, .handler = SaveCommand},
    {.name = "bgsave", .arity = -1, .flags = kCmdAdmin | kCmdNoScript | kCmdNoAsyncLoading,
     .handler = BgsaveCommand},
    {.name = "bgrewriteaof", .arity = 1, .flags = kCmdAdmin | kCmdNoScript | kCmdNoAsyncLoading,
     .handler = BgrewriteaofCommand},
    {.name = "lastsave", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .acl = kAclAdmin | kAclDangerous, .tips = "nondeterministic_output",
     .handler = LastsaveCommand},
    {.name = "time", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .tips = "nondeterministic_output", .handler = TimeCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ServerCommands() { return kServerCommands; }

}  // namespace dynakv::server
