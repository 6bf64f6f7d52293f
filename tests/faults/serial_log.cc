#include "serial_log.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace dynakv::faults {

std::string LockName(int key) { return "lock:" + std::to_string(key); }
std::string RegisterName(int key) { return "reg:" + std::to_string(key); }

bool WriteSerialOps(const std::string& path, const std::vector<SerialOp>& ops) {
  std::ofstream out(path);
  for (const SerialOp& op : ops) {
    out << static_cast<char>(op.kind) << ' ' << op.key << ' ' << op.value << ' ' << op.nil << ' '
        << op.start_us << ' ' << op.end_us << ' ' << static_cast<char>(op.outcome) << ' '
        << op.px_ms << ' ' << op.node << ' ' << op.client << ' '
        << (op.error.empty() ? "-" : op.error) << '\n';
  }
  out.flush();
  return out.good();
}

bool ReadSerialOps(const std::string& path, std::vector<SerialOp>* ops) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read the serial op log " << path << "\n";
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    SerialOp op;
    char kind = 0;
    char outcome = 0;
    fields >> kind >> op.key >> op.value >> op.nil >> op.start_us >> op.end_us >> outcome >>
        op.px_ms >> op.node >> op.client >> op.error;
    const std::string kinds = "ARGSI";
    const std::string outcomes = "on?";
    if (!fields || kinds.find(kind) == std::string::npos ||
        outcomes.find(outcome) == std::string::npos) {
      std::cerr << path << ":" << n << ": malformed serial op: " << line << "\n";
      return false;
    }
    op.kind = static_cast<SerialOp::Kind>(kind);
    op.outcome = static_cast<SerialOp::Outcome>(outcome);
    if (op.error == "-") op.error.clear();
    ops->push_back(std::move(op));
  }
  return true;
}

}  // namespace dynakv::faults
