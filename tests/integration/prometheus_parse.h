// A checker of the Prometheus text exposition format 0.0.4, line by line, as Prometheus's own
// parser reads it (expfmt): what the metrics endpoint serves must pass it. Header-only, shared
// by the unit test of the INFO conversion and the integration test of the endpoint.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::prom {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter | gauge | summary | ...
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  std::vector<std::string> errors;  // empty when the text is valid

  // The value of the sample `name` with exactly `labels`, if there is one.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const Sample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
};

inline bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline bool ValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Go's strconv.ParseFloat as expfmt uses it: decimal or exponent form, NaN, +Inf, -Inf.
inline bool ParseValue(std::string_view text, double* value) {
  if (text == "NaN") return (*value = NAN, true);
  if (text == "+Inf" || text == "Inf") return (*value = INFINITY, true);
  if (text == "-Inf") return (*value = -INFINITY, true);
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  const std::string s(text);
  char* end = nullptr;
  *value = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The family a sample belongs to: a summary's or histogram's _sum/_count/_bucket belong to it.
inline std::string FamilyOf(const std::string& name,
                            const std::map<std::string, std::string>& types) {
  for (std::string_view suffix : {"_sum", "_count", "_bucket"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      const std::string base = name.substr(0, name.size() - suffix.size());
      const auto it = types.find(base);
      if (it != types.end() && (it->second == "summary" || it->second == "histogram")) {
        return base;
      }
    }
  }
  return name;
}

inline Exposition Parse(std::string_view text) {
  Exposition out;
  std::set<std::string> finished;  // families whose samples ended: they may not come back
  std::set<std::string> sample_keys;
  std::string current;  // the family of the previous sample
  int line_no = 0;
  auto error = [&](const std::string& what, std::string_view line) {
    out.errors.push_back("line " + std::to_string(line_no) + ": " + what + ": " +
                         std::string(line));
  };
  if (!text.empty() && !text.ends_with('\n')) out.errors.push_back("no final newline");
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (line.empty()) continue;
    if (line.starts_with('#')) {
      // "# HELP name text" / "# TYPE name type"; any other comment is ignored.
      std::string_view rest = line.substr(1);
      while (rest.starts_with(' ')) rest.remove_prefix(1);
      const bool is_help = rest.starts_with("HELP ");
      const bool is_type = rest.starts_with("TYPE ");
      if (!is_help && !is_type) continue;
      rest.remove_prefix(5);
      const std::size_t sp = rest.find(' ');
      const std::string name(rest.substr(0, sp));
      const std::string_view arg = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
      if (!ValidMetricName(name)) error("bad metric name in HELP/TYPE", line);
      if (is_type) {
        if (out.types.count(name) != 0) error("second TYPE for a family", line);
        static const std::set<std::string_view> kTypes = {"counter", "gauge", "summary",
                                                          "histogram", "untyped"};
        if (kTypes.count(arg) == 0) error("unknown type", line);
        for (const Sample& s : out.samples) {
          if (FamilyOf(s.name, out.types) == name || s.name == name) {
            error("TYPE after the family's samples", line);
            break;
          }
        }
        out.types[name] = std::string(arg);
      } else {
        if (out.help.count(name) != 0) error("second HELP for a family", line);
        out.help[name] = std::string(arg);
      }
      continue;
    }
    // name{label="value",...} value [timestamp]
    Sample sample;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = std::string(line.substr(0, i));
    if (!ValidMetricName(sample.name)) {
      error("bad metric name", line);
      continue;
    }
    bool bad = false;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (!bad && i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) {
          bad = true;
          break;
        }
        const std::string label(line.substr(i, eq - i));
        if (!ValidLabelName(label) || eq + 1 >= line.size() || line[eq + 1] != '"') {
          bad = true;
          break;
        }
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) break;
            const char e = line[++j];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              bad = true;
            }
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) {
          bad = true;
          break;
        }
        if (!sample.labels.emplace(label, value).second) bad = true;  // a repeated label
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (bad || i >= line.size()) {
        error("bad labels", line);
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      error("no value", line);
      continue;
    }
    std::string_view rest = line.substr(i + 1);
    const std::size_t sp = rest.find(' ');
    if (!ParseValue(rest.substr(0, sp), &sample.value)) {
      error("value is not a number", line);
      continue;
    }
    if (sp != std::string_view::npos) {
      const std::string_view ts = rest.substr(sp + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
        error("bad timestamp", line);
      }
    }
    const std::string family = FamilyOf(sample.name, out.types);
    if (out.types.count(family) == 0) error("sample without a preceding TYPE", line);
    if (family != current) {
      if (!current.empty()) finished.insert(current);
      if (finished.count(family) != 0) error("family's samples are not together", line);
      current = family;
    }
    const auto type = out.types.find(family);
    if (type != out.types.end()) {
      if (type->second == "summary" && sample.name == family &&
          sample.labels.count("quantile") == 0) {
        error("summary sample without a quantile", line);
      }
      if (type->second == "counter" && !family.ends_with("_total")) {
        error("counter not named *_total", line);
      }
    }
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) key += "\x01" + k + "\x02" + v;
    if (!sample_keys.insert(key).second) error("duplicate sample", line);
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace dynakv::prom
