// dynakv-faults: the client side of the fault-injection harness (tests/faults/run.sh runs it
// inside the client network namespace).
//
//   dynakv-faults workload --nodes h:p,h:p,h:p --seconds S --seed N --log ops.log
//                          [--keys K] [--counters C] [--collections C] [--clients-per-node C]
//                          [--rate OPS]
//                          [--timeout-ms MS]
//                          [--serial-log serial.log [--serial-level SERIAL|QUORUM]]
//   dynakv-faults check --nodes h:p,... --log ops.log [--faults faults.log] [--keys K]
//                       [--counters C] [--collections C] [--serial-log serial.log]
//
// --serial-log: the SERIAL lock and register clients run alongside (serial_workload.h), and
// `check` runs CheckLocks and the linearizability check over their log.
//
// `workload` writes and reads through every node and logs every operation; `check` (after
// run.sh healed the faults) settles the cluster, reads its final state, runs every checker and
// prints one summary line. Exit status: 0 all properties hold, 1 a violation, 2 usage or setup.
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "checks.h"
#include "serial_workload.h"
#include "settle.h"
#include "workload.h"

namespace dynakv::faults {
namespace {

int Usage(const std::string& why) {
  std::cerr << "dynakv-faults: " << why << "\n"
            << "usage: dynakv-faults workload|check --nodes h:p,... --log FILE [options]\n";
  return 2;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int Workload(std::map<std::string, std::string>& flags) {
  WorkloadOptions options;
  options.nodes = Split(flags["nodes"]);
  options.seconds = std::atof(flags["seconds"].c_str());
  options.seed = std::strtoull(flags["seed"].c_str(), nullptr, 10);
  if (!flags["keys"].empty()) options.keys = std::atoi(flags["keys"].c_str());
  if (!flags["counters"].empty()) options.counters = std::atoi(flags["counters"].c_str());
  if (!flags["collections"].empty()) options.collections = std::atoi(flags["collections"].c_str());
  if (!flags["clients-per-node"].empty())
    options.clients_per_node = std::atoi(flags["clients-per-node"].c_str());
  if (!flags["rate"].empty()) options.ops_per_second = std::atoi(flags["rate"].c_str());
  if (!flags["timeout-ms"].empty()) options.timeout_ms = std::atoi(flags["timeout-ms"].c_str());
  if (options.nodes.empty() || options.seconds <= 0 || flags["log"].empty() || options.keys <= 0) {
    return Usage("workload needs --nodes, --seconds > 0, --log and --keys > 0");
  }
  std::vector<SerialOp> serial_ops;
  std::jthread serial;
  if (!flags["serial-log"].empty()) {
    SerialWorkloadOptions serial_options;
    serial_options.nodes = options.nodes;
    serial_options.seconds = options.seconds;
    serial_options.seed = options.seed;
    serial_options.timeout_ms = options.timeout_ms;
    if (!flags["serial-level"].empty()) serial_options.level = flags["serial-level"];
    serial = std::jthread(
        [serial_options, &serial_ops] { serial_ops = RunSerialWorkload(serial_options); });
  }
  const std::vector<Op> ops = RunWorkload(options);
  if (serial.joinable()) {
    serial.join();
    if (!WriteSerialOps(flags["serial-log"], serial_ops)) {
      std::cerr << "cannot write " << flags["serial-log"] << "\n";
      return 2;
    }
    std::map<std::string, long long> outcome;
    for (const SerialOp& op : serial_ops) {
      ++outcome[std::string(1, static_cast<char>(op.kind)) + (op.ok() ? "-ok" : "-" + op.error)];
    }
    std::cerr << "serial workload: " << serial_ops.size() << " ops";
    for (const auto& [what, n] : outcome) std::cerr << ", " << n << " " << what;
    std::cerr << "\n";
  }
  if (!WriteOps(flags["log"], ops)) {
    std::cerr << "cannot write " << flags["log"] << "\n";
    return 2;
  }
  long long acked = 0;
  std::map<std::string, long long> errors;
  for (const Op& op : ops) {
    acked += op.ok() ? 1 : 0;
    if (!op.ok()) ++errors[op.error];
  }
  std::cerr << "workload: " << ops.size() << " ops, " << acked << " ok";
  for (const auto& [error, n] : errors) std::cerr << ", " << n << " " << error;
  std::cerr << "\n";
  return ops.empty() ? 2 : 0;
}

void Report(const std::vector<Violation>& violations, const std::vector<Fault>& faults) {
  std::map<std::string, int> shown;
  for (const Violation& v : violations) {
    if (++shown[v.property] > 10) continue;
    std::cout << v.property << ": " << v.what;
    if (v.to_us != 0)
      std::cout << "; faults meanwhile: " << FaultsDuring(faults, v.from_us, v.to_us);
    std::cout << "\n";
  }
  for (const auto& [property, n] : shown) {
    if (n > 10) std::cout << "(" << n - 10 << " more " << property << ")\n";
  }
}

int Check(std::map<std::string, std::string>& flags) {
  const std::vector<std::string> nodes = Split(flags["nodes"]);
  const int keys =
      flags["keys"].empty() ? WorkloadOptions{}.keys : std::atoi(flags["keys"].c_str());
  const int counters =
      flags["counters"].empty() ? WorkloadOptions{}.counters : std::atoi(flags["counters"].c_str());
  const int collections = flags["collections"].empty() ? WorkloadOptions{}.collections
                                                       : std::atoi(flags["collections"].c_str());
  if (nodes.empty() || flags["log"].empty() || keys <= 0 || counters < 0 || collections < 0)
    return Usage("check needs --nodes and --log");
  std::vector<Op> ops;
  std::vector<Fault> faults;
  if (!ReadOps(flags["log"], &ops) || !ReadFaults(flags["faults"], &faults)) return 2;
  FinalState final;
  std::vector<std::string> others;  // the SERIAL keys' replicas must agree too
  if (!flags["serial-log"].empty()) {
    for (int k = 0; k < SerialWorkloadOptions{}.locks; ++k) others.push_back(LockName(k));
    for (int k = 0; k < SerialWorkloadOptions{}.registers; ++k) others.push_back(RegisterName(k));
  }
  if (!Settle({nodes, keys, counters, collections, others, 120}, &final)) return 1;

  const History history(ops, keys);
  std::vector<Violation> violations;
  const int lost = CheckDurable(history, final, &violations);
  const int reads = CheckReads(history, ops, &violations);
  const int divergent = CheckConverged(final, &violations);
  const int counter_violations = CheckCounters(ops, final, &violations);
  const int collection_violations = CheckCollections(ops, final, &violations);
  int serial = 0;
  std::string serial_summary;
  if (!flags["serial-log"].empty()) {
    std::vector<SerialOp> serial_ops;
    if (!ReadSerialOps(flags["serial-log"], &serial_ops)) return 2;
    long long acquired = 0;
    for (const SerialOp& op : serial_ops)
      acquired += op.kind == SerialOp::Kind::kAcquire && op.ok() ? 1 : 0;
    serial += CheckLocks(serial_ops, &violations);
    serial += CheckRegisters(serial_ops, &violations);
    serial_summary = " serial_ops=" + std::to_string(serial_ops.size()) +
                     " locks_acquired=" + std::to_string(acquired);
  }
  std::map<std::string, int> count;
  for (const Violation& v : violations) ++count[v.property];
  long long acks = 0;
  long long collection_adds = 0;
  long long zincrbys = 0;
  for (const Op& op : ops) {
    acks += op.ok() ? 1 : 0;
    collection_adds += op.ok() && op.kind == Op::Kind::kAdd ? 1 : 0;
    zincrbys += op.ok() && op.kind == Op::Kind::kBump ? 1 : 0;
  }
  Report(violations, faults);
  std::cout << "faults-check: ops=" << ops.size() << " acks=" << acks << " faults=" << faults.size()
            << " lost=" << count["lost"] << " stale=" << count["stale"]
            << " divergent=" << count["divergent"] << " bogus=" << count["bogus"]
            << " unreadable=" << count["unreadable"] << " phantom=" << count["phantom"]
            << " collection_adds=" << collection_adds << " zincrbys=" << zincrbys
            << " resurrected=" << count["resurrected"] << serial_summary
            << (serial_summary.empty()
                    ? ""
                    : " two-holders=" + std::to_string(count["two-holders"]) +
                          " not-linearizable=" + std::to_string(count["not-linearizable"]) +
                          " undecided=" + std::to_string(count["undecided"]))
            << "\n";
  return lost + reads + divergent + serial + counter_violations + collection_violations == 0 ? 0
                                                                                             : 1;
}

}  // namespace
}  // namespace dynakv::faults

int main(int argc, char** argv) {
  using dynakv::faults::Usage;
  if (argc < 2) return Usage("no subcommand");
  const std::string command = argv[1];
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; i += 2) {
    const std::string name = argv[i];
    if (!name.starts_with("--") || i + 1 >= argc) return Usage("bad option " + name);
    flags[name.substr(2)] = argv[i + 1];
  }
  if (command == "workload") return dynakv::faults::Workload(flags);
  if (command == "check") return dynakv::faults::Check(flags);
  return Usage("unknown subcommand " + command);
}
