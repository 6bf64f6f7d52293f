// CONFIG REWRITE: the running configuration written back into the TOML file it came from, as
// Redis rewrites redis.conf. The file stays the user's: comments, blank lines, key order and the
// way unchanged values are written (512mb, true) are kept. Only the value of a parameter whose
// running value differs from what its line says is replaced (its comment at the end of the line
// stays); a parameter the file does not name is added to its section only when it is not at its
// default.
#pragma once

#include <string>
#include <string_view>

#include "config.h"

namespace dynakv::server {

// The new text of a config file whose current text is `original` ("" when there is none) for a
// node running `config`. False with *error when `original` is not TOML this node can read, or
// when the result would not load back to `config` (a check made on every rewrite).
bool RewriteConfigToml(std::string_view original, const Config& config, std::string* out,
                       std::string* error);

// A TOML value, as written after "key = " (possibly several lines), as the text the parameter
// parsers take (config.cc); false when it is not a value a parameter can have.
bool TomlValueToText(std::string_view toml_value, std::string* text);
// A parameter's value as CONFIG REWRITE writes it: a TOML integer, boolean or basic string.
std::string TomlValueOf(const ConfigParam& param, const Config& config);

}  // namespace dynakv::server
