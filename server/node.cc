// RunNode: configuration, the storage engine, the cluster node (cluster mode), the server and the
// signals that stop it, set up and torn down in dependency order (the engine outlives the cluster
// node, which outlives the server that uses it).

#include "server/node.h"

#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cluster/cluster_node.h"
#include "cluster/stored_siblings.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "metrics_server.h"
#include "open_files.h"
#include "rdb_export_tool.h"
#include "rdb_import.h"
#include "rdb_import_marker.h"
#include "rdb_reload.h"
#include "server.h"
#include "service_notifier.h"
#include "storage/engine.h"
#include "types/codec.h"
#include "net/uv_handle.h"

namespace dynakv::server {
namespace {

// What the signal handlers act on.
struct SignalTargets {
  Server* server;
  ServiceNotifier* notifier;
};

void OnSignal(uv_signal_t* handle, int signum) {
  auto* targets = static_cast<SignalTargets*>(handle->data);
  if (targets == nullptr) return;
  Server* server = targets->server;
  if (signum == SIGHUP) {
    // logrotate's postrotate: the file was moved away, so open a fresh one by its name.
    const std::string& logfile = server->config().logfile;
    if (logfile.empty()) return;
    std::string error;
    if (!RedirectStderr(logfile, &error)) {
      Log(server->log_level(), LogLevel::kWarning, "SIGHUP: %s", error.c_str());
      return;
    }
    Log(server->log_level(), LogLevel::kNotice, "Received SIGHUP, log file reopened");
    return;
  }
  Log(server->log_level(), LogLevel::kWarning, "Received %s scheduling shutdown...",
      signum == SIGINT ? "SIGINT" : "SIGTERM");
  targets->notifier->Stopping();
  server->RequestShutdown();
}

// Watches `signum` without keeping the loop alive: the loop ends when the server has closed its
// handles, whether or not a signal ever came.
bool WatchSignal(uv_loop_t* loop, SignalTargets* targets, int signum,
                 net::UvHandle<uv_signal_t>* handle) {
  if (handle->Init([&](uv_signal_t* s) { return uv_signal_init(loop, s); }, targets) != 0) {
    return false;
  }
  if (uv_signal_start(handle->get(), OnSignal, signum) != 0) return false;
  uv_unref(handle->base());
  return true;
}

// Cluster mode: the node's membership, bus and coordinator; nullptr with *error on failure.
std::unique_ptr<cluster::ClusterNode> CreateClusterNode(uv_loop_t* loop, const Config& config,
                                                        storage::Engine& engine, LogLevel level,
                                                        std::string* error) {
  cluster::ClusterOptions options = ToClusterOptions(config);
  if (options.secret.empty()) {
    if (!config.cluster_insecure) {
      // The config passed validation, so the secret file changed since it was read.
      std::string reason = "cluster mode needs a cluster secret";
      LoadClusterSecret(config, &options.secret, &reason);
      *error = reason;
      return nullptr;
    }
    Log(level, LogLevel::kWarning,
        "WARNING: cluster-insecure yes and no cluster secret: the cluster bus (port %d) accepts "
        "anyone who can reach it, who can then join, read and overwrite data and evict members",
        config.port + config.cluster_port_offset);
  }
  options.log_warning = [level](const std::string& message) {
    Log(level, LogLevel::kWarning, "Cluster: %s", message.c_str());
  };
  std::unique_ptr<cluster::ClusterNode> node;
  if (!cluster::ClusterNode::Create(loop, engine, std::move(options), &node, error)) {
    return nullptr;
  }
  return node;
}

// Serves until shutdown; returns the exit code.
int Serve(uv_loop_t* loop, const Config& config, storage::Engine& engine,
          types::TypesCodec* codec, cluster::ClusterNode* cluster, LogLevel level) {
  Server server(loop, config, engine, cluster, codec);
  std::string error;
  if (!server.LoadAclFile(&error)) {
    Log(level, LogLevel::kWarning, "Aborting dynakv startup because of ACL errors: %s",
        error.c_str());
    return 1;
  }
  // An import at start that a crash interrupted left part of its file here (rdb_import_marker.h).
  if (!CheckRdbImportMarker(config.dir, config.import_rdb, cluster != nullptr, &error)) {
    Log(level, LogLevel::kWarning, "Aborting dynakv startup: %s", error.c_str());
    return 1;
  }
  // --import-rdb: the Redis RDB file is loaded before any client is served, as Redis loads its
  // dump at start; a failed import stops the node (the keys read before the error stay).
  // In cluster mode the keys go to the other members too, so it runs once the node serves
  // (below), in the background as IMPORT-RDB does.
  if (!config.import_rdb.empty() && cluster == nullptr) {
    if (!server.rdb_import().RunToEnd(config.import_rdb, &error)) {
      Log(level, LogLevel::kWarning, "Aborting dynakv startup: %s", error.c_str());
      return 1;
    }
  }
  if (!server.Start(&error)) {
    Log(level, LogLevel::kWarning, "Warning: %s", error.c_str());
    Log(level, LogLevel::kWarning,
        "Failed listening on port %d (tcp) or its cluster bus, aborting.", config.port);
    return 1;
  }
  bool import_failed = false;
  if (!config.import_rdb.empty() && cluster != nullptr &&
      !server.rdb_import().StartWhenClusterReady(config.import_rdb, &error)) {
    Log(level, LogLevel::kWarning, "Aborting dynakv startup: %s", error.c_str());
    import_failed = true;
    server.RequestShutdown();
  }
  // The Prometheus endpoint closes with the server's own listeners (Server::Shutdown), and
  // systemd hears STOPPING=1 then, whether a signal or the SHUTDOWN command stopped the node.
  ServiceNotifier notifier(loop);
  MetricsServer metrics(loop, server);
  bool metrics_failed = false;
  if (config.metrics_port != 0 && !metrics.Start(config.bind, config.metrics_port, &error)) {
    metrics_failed = true;
    Log(level, LogLevel::kWarning, "Warning: %s", error.c_str());
    Log(level, LogLevel::kWarning, "Failed listening on metrics port %d (tcp), aborting.",
        config.metrics_port);
    server.RequestShutdown();
  }
  server.set_shutdown_hook([&] {
    metrics.Close();
    notifier.Stopping();
  });
  server.set_bind_hook(
      [&](const std::string& bind, std::string* error) { return metrics.Rebind(bind, error); });
  SignalTargets targets{&server, &notifier};
  net::UvHandle<uv_signal_t> sigterm;
  net::UvHandle<uv_signal_t> sigint;
  net::UvHandle<uv_signal_t> sighup;
  if (!WatchSignal(loop, &targets, SIGTERM, &sigterm) ||
      !WatchSignal(loop, &targets, SIGINT, &sigint) ||
      !WatchSignal(loop, &targets, SIGHUP, &sighup)) {
    Log(level, LogLevel::kWarning, "Cannot install the SIGTERM/SIGINT/SIGHUP handlers, aborting.");
    server.RequestShutdown();
  }
  if (cluster != nullptr) {
    Log(level, LogLevel::kNotice,
        "Running mode=cluster, node=%s, port=%d, cluster bus port=%d, members=%zu, N=%d.",
        cluster->self_id().c_str(), server.port(), cluster->bus_port(), cluster->ring().size(),
        config.cluster_replication_factor);
  } else {
    Log(level, LogLevel::kNotice, "Running mode=standalone, port=%d.", server.port());
  }
  if (metrics.port() != 0) {
    Log(level, LogLevel::kNotice, "Serving Prometheus metrics on port %d (GET /metrics).",
        metrics.port());
  }
  Log(level, LogLevel::kNotice, "Ready to accept connections tcp");
  if (!server.shutdown_requested()) {
    notifier.Ready("Ready to accept connections on port " + std::to_string(server.port()));
  }
  uv_run(loop, UV_RUN_DEFAULT);
  server.set_shutdown_hook(nullptr);  // the server may outlive `metrics` and `notifier`
  server.set_bind_hook(nullptr);
  return metrics_failed || import_failed ? 1 : 0;
}

}  // namespace

int RunNode(int argc, char** argv) {
  // A client that disconnects mid-write must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  Config config;
  std::string message;
  switch (LoadConfig(argc, argv, &config, &message)) {
    case ConfigLoadResult::kExitSuccess:
      std::printf("%s\n", message.c_str());
      return 0;
    case ConfigLoadResult::kError:
      std::fprintf(stderr, "\n*** FATAL CONFIG ERROR ***\n%s\n", message.c_str());
      return 1;
    case ConfigLoadResult::kRun:
      break;
  }
  // --export-rdb: a tool run on a stopped node's directory, not a node (rdb_export_tool.h).
  if (!config.export_rdb.empty()) return ExportRdbOffline(config);
  // The log file first, so that everything after it (a failed fork included) is in it; then
  // into the background, before any thread starts; then the pid file, with the final pid.
  if (!config.logfile.empty()) {
    std::string error;
    if (!RedirectStderr(config.logfile, &error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
  }
  if (config.daemonize) {
    std::string error;
    if (!Daemonize(!config.logfile.empty(), &error)) {
      std::fprintf(stderr, "Can't daemonize: %s\n", error.c_str());
      return 1;
    }
  }
  LogLevel level = LogLevel::kNotice;
  ParseLogLevel(config.loglevel, &level);
  const PidFile pidfile(PidFilePath(config.pidfile, config.daemonize, config.port));
  Log(level, LogLevel::kNotice, "oO0OoO0OoO0Oo dynakv is starting oO0OoO0OoO0Oo");
  Log(level, LogLevel::kNotice, "dynakv version=%s, bits=%d, pid=%d, just started",
      DYNAKV_VERSION, static_cast<int>(sizeof(void*) * 8), static_cast<int>(getpid()));
  if (config.config_file.empty()) {
    Log(level, LogLevel::kWarning,
        "Warning: no config file specified, using the default config. In order to specify a "
        "config file use %s /path/to/node.toml",
        argc > 0 ? argv[0] : "dynakv-server");
  } else {
    Log(level, LogLevel::kNotice, "Configuration loaded from %s", config.config_file.c_str());
  }

  if (!pidfile.path().empty() && !pidfile.written()) {
    Log(level, LogLevel::kWarning, "Failed to write PID file: %s", pidfile.path().c_str());
  }

  // As Redis does at start: room for maxclients connections beside the node's own descriptors,
  // or fewer clients (warned about) when the open-file limit cannot be raised.
  const OpenFilesFit fit =
      AdjustOpenFilesLimit(config.maxclients, ReservedFds(config.cluster_enabled), level);
  if (fit.maxclients <= 0) return 1;
  config.maxclients = fit.maxclients;

  const auto open_start = std::chrono::steady_clock::now();
  // The codec of typed values outlives the engine that calls it.
  types::TypesCodec codec;
  codec.mutable_limits() = ToTypeLimits(config);
  // Cluster mode's replica stores collections' version sets as objects of its own, logged as
  // joins (cluster/stored_siblings.h); the typed values' codec serves the rest.
  const cluster::StoredSiblingsCodec cluster_codec(&codec);
  storage::Options storage_options = ToStorageOptions(config);
  storage_options.object_codec =
      config.cluster_enabled ? static_cast<const storage::ObjectCodec*>(&cluster_codec) : &codec;
  // An import at start that completed unsaved before the node stopped: its file is reloaded
  // under the writes made after it (rdb_import_marker.h).
  RdbImportMarker marker;
  bool reload = false;
  if (!config.cluster_enabled && ReadRdbImportMarker(config.dir, &marker) && marker.unsaved) {
    std::string error;
    if (!CheckRdbImportSource(config.dir, marker, &error)) {
      Log(level, LogLevel::kWarning, "Aborting dynakv startup: %s", error.c_str());
      return 1;
    }
    reload = true;
    Log(level, LogLevel::kNotice,
        "The RDB import of %s completed but no checkpoint holds it: reloading it from %s",
        marker.path.c_str(), RdbImportSourcePath(config.dir).c_str());
    storage_options.reload_before_log = marker.reload_before_log;
    storage_options.reload = [&](storage::Engine& opening) {
      return ReloadRdbImport(opening, RdbImportSourcePath(config.dir), codec.limits(),
                             static_cast<std::uint32_t>(config.databases));
    };
  }
  std::unique_ptr<storage::Engine> engine;
  const storage::Status status = storage::Engine::Open(storage_options, &engine);
  if (reload && status.ok()) {
    std::string error;
    if (!engine->bulk_load_saved() || !RemoveRdbImportMarker(config.dir, &error)) {
      Log(level, LogLevel::kWarning,
          "Aborting dynakv startup: the reloaded RDB import could not be saved by a "
          "checkpoint%s%s",
          error.empty() ? "" : ": ", error.c_str());
      return 1;
    }
  }
  if (!status.ok()) {
    Log(level, LogLevel::kWarning, "Can't open the data directory '%s': %s", config.dir.c_str(),
        status.ToString().c_str());
    return 1;
  }
  const std::chrono::duration<double> open_time = std::chrono::steady_clock::now() - open_start;
  const storage::EngineStats stats = engine->Stats();
  Log(level, LogLevel::kNotice,
      "Data loaded from '%s' in %.3f seconds: %llu keys, %llu log records replayed",
      config.dir.c_str(), open_time.count(), static_cast<unsigned long long>(stats.keys),
      static_cast<unsigned long long>(stats.recovered_records));
  if (stats.truncated_log_bytes > 0) {
    Log(level, LogLevel::kWarning, "Dropped %llu bytes of torn commit log tail",
        static_cast<unsigned long long>(stats.truncated_log_bytes));
  }
  for (const storage::LogRepair& repair : engine->LogRepairs()) {
    Log(level, LogLevel::kWarning,
        "!!! CORRUPT COMMIT LOG DROPPED (log-corruption-policy drop-and-repair) !!! %s: cut at "
        "offset %llu, dropping %llu bytes holding %llu valid records; the original bytes are "
        "kept in %s; anti-entropy will refill the dropped writes from the other replicas. "
        "Found: %s",
        repair.path.c_str(), static_cast<unsigned long long>(repair.offset),
        static_cast<unsigned long long>(repair.dropped_bytes),
        static_cast<unsigned long long>(repair.dropped_records), repair.kept_as.c_str(),
        repair.problem.c_str());
  }

  uv_loop_t loop;
  if (const int rc = uv_loop_init(&loop); rc != 0) {
    Log(level, LogLevel::kWarning, "Cannot create the event loop: %s", uv_strerror(rc));
    return 1;
  }
  std::unique_ptr<cluster::ClusterNode> cluster;
  int exit_code = 1;
  if (config.cluster_enabled) {
    std::string error;
    cluster = CreateClusterNode(&loop, config, *engine, level, &error);
    if (cluster == nullptr) {
      Log(level, LogLevel::kWarning, "Cannot start cluster mode: %s", error.c_str());
    }
  }
  if (cluster != nullptr || !config.cluster_enabled) {
    exit_code = Serve(&loop, config, *engine, &codec, cluster.get(), level);
  }
  // Run the close callbacks of the handles closed on the way out of Serve.
  uv_run(&loop, UV_RUN_DEFAULT);
  cluster.reset();  // its handles are closed: the server stopped it
  engine.reset();  // writes and fsyncs the commit log, joins background work
  if (uv_loop_close(&loop) != 0) {
    Log(level, LogLevel::kWarning, "Event loop closed with handles still open");
  }
  Log(level, LogLevel::kNotice, "dynakv is now ready to exit, bye bye...");
  return exit_code;
}

}  // namespace dynakv::server
