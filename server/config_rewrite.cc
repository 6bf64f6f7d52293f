// CONFIG REWRITE's line editor (config_rewrite.h). toml++ reads TOML but writes it back without
// comments, so the file is edited as text: each key's value is located by a small scanner that
// knows TOML's strings, arrays and comments, and only values that changed are replaced.

#include "config_rewrite.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "cluster_secret.h"
#include "number_parse.h"

namespace dynakv::server {
namespace {

// `text` (valid UTF-8: the parsers see to it) as a TOML basic string. Not toml++'s writer, which
// picks a multi-line literal string for text with newlines even when the text holds "'''", and
// then writes a file that does not parse.
std::string TomlBasicString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04X", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

// What the file holds for `param`: its CONFIG GET value, except the cluster secret, which
// CONFIG GET hides and the file keeps.
std::string FileValue(const ConfigParam& param, const Config& config) {
  return param.parse == ParseClusterSecret ? config.cluster_secret : param.format(config);
}

bool StartsWith(std::string_view text, std::size_t at, std::string_view prefix) {
  return text.substr(at, prefix.size()) == prefix;
}

// Where the value starting at `i` ends: before the comment or line end that follows it, past
// any strings, arrays and inline tables that span lines.
std::size_t ScanValueEnd(std::string_view text, std::size_t i) {
  const std::size_t n = text.size();
  int depth = 0;
  while (i < n) {
    const char c = text[i];
    if (StartsWith(text, i, "\"\"\"") || StartsWith(text, i, "'''")) {
      const std::string_view quote = text.substr(i, 3);
      i += 3;
      while (i < n && !StartsWith(text, i, quote))
        i += (quote[0] == '"' && text[i] == '\\') ? 2 : 1;
      i = std::min(n, i + 3);
      while (i < n && text[i] == quote[0]) ++i;  // """a"""" ends with a quote in the string
    } else if (c == '"' || c == '\'') {
      ++i;
      while (i < n && text[i] != c && text[i] != '\n') i += (c == '"' && text[i] == '\\') ? 2 : 1;
      if (i < n && text[i] == c) ++i;
    } else if (c == '[' || c == '{') {
      ++depth;
      ++i;
    } else if (c == ']' || c == '}') {
      --depth;
      ++i;
    } else if (c == '#' && depth > 0) {
      while (i < n && text[i] != '\n') ++i;  // a comment inside a multi-line array
    } else if ((c == '#' || c == '\n') && depth <= 0) {
      break;
    } else {
      ++i;
    }
  }
  return std::min(i, n);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The parameter a key of [section] names, as ApplyConfigToml finds it.
const ConfigParam* ParamForKey(std::string_view section, std::string_view key) {
  for (const ConfigParam& param : ConfigParams()) {
    if (param.section == section && !section.empty() && TomlKey(param) == key) return &param;
  }
  return nullptr;
}

struct Edit {
  std::size_t begin;
  std::size_t end;
  std::string text;
};

}  // namespace

std::string TomlValueOf(const ConfigParam& param, const Config& config) {
  const std::string value = FileValue(param, config);
  if (param.type == ConfigType::kBool && (value == "yes" || value == "no")) {
    return value == "yes" ? "true" : "false";
  }
  long long ignored;
  return ParseLongLong(value, &ignored) ? value : TomlBasicString(value);
}

bool RewriteConfigToml(std::string_view original, const Config& config, std::string* out,
                       std::string* error) {
  std::vector<Edit> edits;
  std::set<const ConfigParam*> seen;
  std::map<std::string, std::size_t, std::less<>> section_end;  // where a new key would go
  std::vector<std::string> section_order;
  std::string section;
  const std::size_t n = original.size();
  std::size_t pos = 0;
  while (pos < n) {
    std::size_t line_end = original.find('\n', pos);
    line_end = line_end == std::string_view::npos ? n : line_end + 1;
    const std::string_view line = Trim(original.substr(pos, line_end - pos));
    if (line.empty() || line.front() == '#') {
      pos = line_end;
      continue;
    }
    if (line.front() == '[') {
      const std::size_t close = line.find(']');
      section = std::string(Trim(line.substr(1, close == std::string_view::npos ? 0 : close - 1)));
      if (section_end.emplace(section, line_end).second) section_order.push_back(section);
      pos = line_end;
      continue;
    }
    const std::size_t eq = original.find('=', pos);
    if (eq == std::string_view::npos || eq >= line_end) {
      *error = "a line that is neither a key, a table nor a comment";
      return false;
    }
    std::string_view key = Trim(original.substr(pos, eq - pos));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') &&
        key.back() == key.front()) {
      key = key.substr(1, key.size() - 2);
    }
    std::size_t value_begin = eq + 1;
    while (value_begin < n && (original[value_begin] == ' ' || original[value_begin] == '\t')) {
      ++value_begin;
    }
    const std::size_t stop = ScanValueEnd(original, value_begin);
    std::size_t value_end = stop;
    while (value_end > value_begin &&
           (original[value_end - 1] == ' ' || original[value_end - 1] == '\t' ||
            original[value_end - 1] == '\r')) {
      --value_end;
    }
    std::size_t next = original.find('\n', stop);
    next = next == std::string_view::npos ? n : next + 1;
    if (const ConfigParam* param = ParamForKey(section, key)) {
      seen.insert(param);
      std::string text;
      Config scratch = config;
      std::string reason;
      const bool same =
          TomlValueToText(original.substr(value_begin, value_end - value_begin), &text) &&
          param->parse(text, &scratch, &reason) &&
          FileValue(*param, scratch) == FileValue(*param, config);
      if (!same) edits.push_back({value_begin, value_end, TomlValueOf(*param, config)});
    }
    section_end[section] = next;
    pos = next;
  }

  // Parameters the file does not name go to their section when they are not at their default.
  const Config defaults;
  std::map<std::string, std::string, std::less<>> added;  // by section
  std::vector<std::string> all_sections;
  for (const ConfigParam& param : ConfigParams()) {
    if (param.section.empty()) continue;
    const std::string name(param.section);
    if (std::find(all_sections.begin(), all_sections.end(), name) == all_sections.end()) {
      all_sections.push_back(name);
    }
    if (seen.count(&param) != 0 || FileValue(param, config) == FileValue(param, defaults)) {
      continue;
    }
    added[name] += std::string(TomlKey(param)) + " = " + TomlValueOf(param, config) + "\n";
  }
  std::string appended;
  for (const std::string& name : all_sections) {
    auto lines = added.find(name);
    if (lines == added.end()) continue;
    auto at = section_end.find(name);
    if (at == section_end.end()) {
      appended += "\n[" + name + "]\n" + lines->second;
      continue;
    }
    std::string text = lines->second;
    if (at->second == n && n > 0 && original.back() != '\n') text.insert(0, "\n");
    edits.push_back({at->second, at->second, std::move(text)});
  }

  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string result;
  std::size_t copied = 0;
  for (const Edit& edit : edits) {
    result.append(original.substr(copied, edit.begin - copied));
    result += edit.text;
    copied = edit.end;
  }
  result.append(original.substr(copied));
  if (!appended.empty()) {
    if (!result.empty() && result.back() != '\n') result += '\n';
    if (result.empty()) appended.erase(0, 1);
    result += appended;
  }

  // The rewritten file must give back the running config, or it is not written.
  Config reloaded;
  std::string load_error;
  if (!ApplyConfigToml(result, "the rewritten config", &reloaded, &load_error)) {
    *error = load_error;
    return false;
  }
  for (const ConfigParam& param : ConfigParams()) {
    if (param.section.empty()) continue;
    if (FileValue(param, reloaded) != FileValue(param, config)) {
      *error = "the rewritten file would not hold the running value of '" +
               std::string(param.name) + "'";
      return false;
    }
  }
  *out = std::move(result);
  return true;
}

}  // namespace dynakv::server
