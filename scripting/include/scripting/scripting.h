// Lua scripting as Redis 7.0 has it (EVAL, EVALSHA, SCRIPT), on Debian's Lua 5.1: the Lua state
// and its sandbox, the script cache keyed by SHA1, the `redis` library scripts call and the
// conversions between RESP replies and Lua values both ways.
//
// The library knows nothing of the server: a script's commands go through a ScriptHost the
// caller implements, which runs them and answers with the reply bytes; the library parses them.
// Everything runs on the caller's thread; one Engine runs one script at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_writer.h"

namespace dynakv::scripting {

// Redis 7's script flags, from the `#!lua flags=...` shebang.
enum ScriptFlag : std::uint32_t {
  kFlagNoWrites = 1u << 0,
  kFlagAllowOom = 1u << 1,
  kFlagAllowStale = 1u << 2,
  kFlagNoCluster = 1u << 3,
  kFlagAllowCrossSlot = 1u << 4,
  // No shebang: the EVAL of Redis 6 (may write, checked command by command).
  kFlagEvalCompat = 1u << 5,
};

// Reads the flags of a script body. Without a shebang: kFlagEvalCompat, *shebang_len 0. With
// one: its flags and the length of the line without its newline (the newline stays so that line
// numbers in errors are the user's). False with Redis's error text (without "ERR ") otherwise.
bool ParseShebang(std::string_view body, std::uint32_t* flags, std::size_t* shebang_len,
                  std::string* error);

// The lower-case hex SHA1 of `data` (redis.sha1hex, script names).
std::string Sha1Hex(std::string_view data);

// What a running script reaches the server through.
class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // Runs argv (argv[0] the command name) as a command of the script, appending its reply in RESP
  // `protocol` (2, or 3 after redis.setresp(3)) to *reply. A command the script may not run is
  // refused with an error reply too, in Redis's words ("-ERR Unknown Redis command called from
  // script").
  virtual void Call(const std::vector<std::string_view>& argv, int protocol,
                    std::string* reply) = 0;
  // redis.log: level 0 (debug), 1 (verbose), 2 (notice), 3 (warning).
  virtual void Log(int level, std::string_view message) = 0;
  // Called every 100000 Lua instructions or so while a script runs: true stops the script
  // with Redis's "Script killed by user with SCRIPT KILL..." error.
  virtual bool Interrupt() { return false; }
};

struct Script {
  std::string sha;  // lower-case hex SHA1 of the body
  std::uint32_t flags = 0;
  std::size_t body_bytes = 0;
  int function_ref = 0;  // the compiled function, in the Lua registry
};

// A function of a FUNCTION LOAD library.
struct Function {
  std::string name;
  std::string library;
  std::string description;  // meaningful when has_description
  bool has_description = false;
  std::uint32_t flags = 0;  // ScriptFlag bits (never kFlagEvalCompat)
  int function_ref = 0;     // the callback, in the Lua registry
};

struct Library {
  std::string name;
  std::string code;
  std::vector<std::string> functions;  // in the order they were registered
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Compiles `body` into the cache (EVAL, SCRIPT LOAD), or finds it there. nullptr on a bad
  // shebang or a compile error, with the error reply text in *error ("ERR Error compiling
  // script (new function): user_script:1: ...").
  const Script* Load(std::string_view body, std::string* error);
  // By SHA1, in either case; nullptr when not cached.
  const Script* Find(std::string_view sha) const;
  // SCRIPT FLUSH: forgets every script and starts a new Lua state, as Redis does.
  void Flush();
  std::size_t script_count() const;
  // The Lua heap (used_memory_lua) and the cached bodies (used_memory_scripts).
  std::size_t lua_memory_bytes() const;
  std::size_t scripts_memory_bytes() const;

  // Runs `script` with KEYS and ARGV, writing its reply (or error) to `reply`. The script's
  // redis.call goes through `host`. Not reentrant: a script's command cannot run a script.
  void Run(const Script& script, const std::vector<std::string_view>& keys,
           const std::vector<std::string_view>& args, ScriptHost& host, resp::ReplyWriter& reply);
  bool running() const;

  // --- functions (FUNCTION LOAD, FCALL) -------------------------------------------------------
  // Loads a library: `code` starts with "#!lua name=<library>" and registers its functions with
  // redis.register_function. On success *name is the library's; else *error is Redis's reply
  // text ("ERR Library 'x' already exists", "ERR Error registering functions: ...").
  bool LoadLibrary(std::string_view code, bool replace, std::string* name, std::string* error);
  bool DeleteLibrary(std::string_view name);  // false when there is none
  void FlushLibraries();
  const Function* FindFunction(std::string_view name) const;
  std::vector<const Library*> Libraries() const;  // by name
  const Function* FunctionOf(const Library& library, std::string_view name) const;
  std::size_t function_count() const;
  // FCALL: runs the function with its KEYS and ARGV tables as its two arguments.
  void RunFunction(const Function& function, const std::vector<std::string_view>& keys,
                   const std::vector<std::string_view>& args, ScriptHost& host,
                   resp::ReplyWriter& reply);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dynakv::scripting
