// The offline RDB export (issue 17): `dynakv-server [node.toml] --export-rdb OUT` writes the keys
// of a stopped node's data directory (config dir) as a Redis RDB file that redis-server 7 loads,
// then exits without serving. A single-node directory gives every database; a cluster-mode one
// (cluster-enabled, best with the node's own config file) gives the node's replica, each key's
// last-write-wins live version, in database 0.
//
// The data directory is never written: the node's lock (dir/LOCK) is taken, so a running node's
// directory is refused, and held while the directory's files are copied to a scratch directory
// beside OUT; the copy is opened (replaying its commit log, as a start would) and read. A
// corrupt directory is refused as the node's start would refuse it (log-corruption-policy
// refuse), whatever the config says. Eviction never deletes keys while exporting.
#pragma once

namespace dynakv::server {

struct Config;

// Runs the export `config` describes; the process's exit code (0: OUT written).
int ExportRdbOffline(const Config& config);

}  // namespace dynakv::server
