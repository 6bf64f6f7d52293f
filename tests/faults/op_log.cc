#include "op_log.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace dynakv::faults {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string KeyName(int key) { return "f:" + std::to_string(key); }

std::string CounterName(int counter) { return "fc:" + std::to_string(counter); }

std::string Value(int key, long long seq) { return KeyName(key) + "#" + std::to_string(seq); }

long long SeqOf(int key, const std::string& value) {
  const std::string prefix = KeyName(key) + "#";
  if (!value.starts_with(prefix) || value.size() == prefix.size()) return -1;
  long long seq = 0;
  for (std::size_t i = prefix.size(); i < value.size(); ++i) {
    const char c = value[i];
    if (c < '0' || c > '9' || seq > (1ll << 50)) return -1;
    seq = seq * 10 + (c - '0');
  }
  return seq > 0 ? seq : -1;
}

bool WriteOps(const std::string& path, const std::vector<Op>& ops) {
  std::ofstream out(path);
  for (const Op& op : ops) {
    out << static_cast<char>(op.kind) << ' ' << op.key << ' ' << op.seq << ' ' << op.start_us << ' '
        << op.end_us << ' ' << static_cast<char>(op.outcome) << ' ' << op.node << ' ' << op.client
        << ' ' << (op.error.empty() ? "-" : op.error) << '\n';
  }
  out.flush();
  return out.good();
}

bool ReadOps(const std::string& path, std::vector<Op>* ops) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read the op log " << path << "\n";
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    Op op;
    char kind = 0;
    char outcome = 0;
    fields >> kind >> op.key >> op.seq >> op.start_us >> op.end_us >> outcome >> op.node >>
        op.client >> op.error;
    const bool kind_ok = kind == 'S' || kind == 'D' || kind == 'G' || kind == 'd' || kind == 'I' ||
                         kind == 'A' || kind == 'R' || kind == 'r' || kind == 'B';
    if (!fields || !kind_ok || (outcome != 'o' && outcome != '?')) {
      std::cerr << path << ":" << n << ": malformed op: " << line << "\n";
      return false;
    }
    op.kind = static_cast<Op::Kind>(kind);
    op.outcome = static_cast<Op::Outcome>(outcome);
    if (op.error == "-") op.error.clear();
    ops->push_back(std::move(op));
  }
  return true;
}

bool ReadFaults(const std::string& path, std::vector<Fault>* faults) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; in && std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Fault fault;
    fields >> fault.start_us >> fault.end_us >> fault.kind >> fault.node;
    if (!fields) {
      std::cerr << path << ":" << n << ": malformed fault: " << line << "\n";
      return false;
    }
    std::getline(fields >> std::ws, fault.detail);
    faults->push_back(std::move(fault));
  }
  return true;
}

std::string FaultsDuring(const std::vector<Fault>& faults, std::int64_t start_us,
                         std::int64_t end_us) {
  std::string out;
  for (const Fault& f : faults) {
    if (f.start_us > end_us || f.end_us < start_us) continue;
    if (!out.empty()) out += ", ";
    out += f.kind + " n" + std::to_string(f.node);
    if (!f.detail.empty()) out += " (" + f.detail + ")";
  }
  return out.empty() ? "no fault" : out;
}

}  // namespace dynakv::faults
