// INFO persistence. dynakv's commit log is Redis's AOF (aof_enabled:1, always: every write is
// logged before it is acknowledged), and a checkpoint, which writes the memtable to a segment and
// starts a new log, is its AOF rewrite: the aof_rewrite* fields describe checkpoints, the aof_*
// sizes the log and the segments. The rdb_* fields are SAVE / BGSAVE's Redis RDB files and the
// last IMPORT-RDB (Redis's RDB load), which runs while the node serves: async_loading.
#include <cstdint>
#include <string>

#include "config.h"
#include "format.h"
#include "info_sections.h"
#include "rdb_import.h"
#include "rdb_save.h"
#include "server.h"

namespace dynakv::server {
namespace {

long long Seconds(std::int64_t ms) { return ms < 0 ? -1LL : static_cast<long long>(ms / 1000); }

}  // namespace

void PersistenceSection(Server& server, const storage::EngineStats& engine, std::string* out) {
  const RdbSaver& saver = server.rdb_saver();
  const RdbImportProgress& import = server.rdb_import().progress();
  // Nothing forks here (BGSAVE builds its file on the loop, then writes it from a thread; a
  // checkpoint keeps replaced entries alive instead of copying pages), so the copy-on-write and
  // fork figures are 0, and no save is ever partway through its keys when INFO runs.
  AppendPrintf(out,
               "# Persistence\r\n"
               "loading:0\r\n"
               "async_loading:%d\r\n"
               "current_cow_peak:0\r\n"
               "current_cow_size:0\r\n"
               "current_cow_size_age:0\r\n"
               "current_fork_perc:0.00\r\n"
               "current_save_keys_processed:0\r\n"
               "current_save_keys_total:0\r\n"
               "rdb_changes_since_last_save:%llu\r\n"
               "rdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%lld\r\n"
               "rdb_last_bgsave_status:%s\r\n"
               "rdb_last_bgsave_time_sec:%lld\r\n"
               "rdb_current_bgsave_time_sec:%lld\r\n"
               "rdb_saves:%llu\r\n"
               "rdb_last_cow_size:0\r\n"
               "rdb_last_load_keys_expired:%llu\r\n"
               "rdb_last_load_keys_loaded:%llu\r\n",
               import.running ? 1 : 0, static_cast<unsigned long long>(engine.dirty_entries),
               saver.bgsave_in_progress() ? 1 : 0, static_cast<long long>(server.last_save_unix()),
               saver.last_ok() ? "ok" : "err", Seconds(saver.last_bgsave_ms()),
               Seconds(saver.current_bgsave_ms()), static_cast<unsigned long long>(saver.saves()),
               static_cast<unsigned long long>(import.expired_keys),
               static_cast<unsigned long long>(import.keys));
  // A checkpoint is due again while one still runs: Redis's scheduled rewrite.
  const bool checkpoint_due = engine.checkpoint_running &&
                              server.config().log_checkpoint_bytes != 0 &&
                              engine.log_bytes >= server.config().log_checkpoint_bytes;
  AppendPrintf(out,
               "aof_enabled:1\r\n"
               "aof_rewrite_in_progress:%d\r\n"
               "aof_rewrite_scheduled:%d\r\n"
               "aof_last_rewrite_time_sec:%lld\r\n"
               "aof_current_rewrite_time_sec:%lld\r\n"
               "aof_last_bgrewrite_status:%s\r\n"
               "aof_rewrites:%llu\r\n"
               "aof_rewrites_consecutive_failures:%llu\r\n"
               "aof_last_write_status:%s\r\n"
               "aof_last_cow_size:0\r\n"
               "module_fork_in_progress:0\r\n"  // no modules
               "module_fork_last_cow_size:0\r\n",
               engine.checkpoint_running ? 1 : 0, checkpoint_due ? 1 : 0,
               Seconds(engine.checkpoint_last_ms), Seconds(engine.checkpoint_current_ms),
               engine.checkpoint_last_failed ? "err" : "ok",
               static_cast<unsigned long long>(engine.checkpoints),
               static_cast<unsigned long long>(engine.checkpoint_failures_in_a_row),
               engine.log_error.empty() ? "ok" : "err");
  // Redis's fields of an enabled AOF: its size (log and segments), the base's (the segments),
  // the log records not yet written out. The everysec fsync runs on its own thread and never
  // holds a write back (no delayed fsync, no fsync queued behind one), as the log is appended to
  // whatever the sync thread does.
  AppendPrintf(out,
               "aof_current_size:%llu\r\n"
               "aof_base_size:%llu\r\n"
               "aof_pending_rewrite:%d\r\n"
               "aof_buffer_length:%llu\r\n"
               "aof_pending_bio_fsync:0\r\n"
               "aof_delayed_fsync:0\r\n",
               static_cast<unsigned long long>(engine.log_bytes + engine.segment_bytes),
               static_cast<unsigned long long>(engine.segment_bytes), checkpoint_due ? 1 : 0,
               static_cast<unsigned long long>(engine.log_buffered_bytes));
  // Not Redis fields: the log and the segments.
  AppendPrintf(out,
               "appendfsync:%s\r\n"
               "commit_log_bytes:%llu\r\n"
               "segments:%llu\r\n"
               "segment_bytes:%llu\r\n"
               "checkpoints:%llu\r\n"
               "checkpoint_in_progress:%d\r\n"
               "write_stalls:%llu\r\n"
               "compactions:%llu\r\n"
               "compaction_in_progress:%d\r\n"
               "recovered_records:%llu\r\n"
               "truncated_log_bytes:%llu\r\n"
               "corrupt_logs_repaired:%llu\r\n"
               "corrupt_log_bytes_dropped:%llu\r\n"
               "corrupt_log_records_dropped:%llu\r\n"
               "aof_write_errors:%llu\r\n"
               "segment_read_errors:%llu\r\n",
               std::string(FsyncPolicyName(server.config().appendfsync)).c_str(),
               static_cast<unsigned long long>(engine.log_bytes),
               static_cast<unsigned long long>(engine.segments),
               static_cast<unsigned long long>(engine.segment_bytes),
               static_cast<unsigned long long>(engine.checkpoints),
               engine.checkpoint_running ? 1 : 0,
               static_cast<unsigned long long>(engine.write_stalls),
               static_cast<unsigned long long>(engine.compactions),
               engine.compaction_running ? 1 : 0,
               static_cast<unsigned long long>(engine.recovered_records),
               static_cast<unsigned long long>(engine.truncated_log_bytes),
               static_cast<unsigned long long>(engine.corrupt_logs_repaired),
               static_cast<unsigned long long>(engine.corrupt_log_bytes_dropped),
               static_cast<unsigned long long>(engine.corrupt_log_records_dropped),
               static_cast<unsigned long long>(engine.log_write_errors),
               static_cast<unsigned long long>(engine.segment_read_errors));
  // How long background checkpoints held up the event loop (EngineStats), and how long writes
  // waited for the disk, slowed (paced) or stopped (stalls).
  AppendPrintf(out,
               "checkpoint_loop_last_us:%llu\r\ncheckpoint_loop_max_us:%llu\r\n"
               "write_stall_us:%llu\r\nwrite_delays:%llu\r\nwrite_delay_us:%llu\r\n",
               static_cast<unsigned long long>(engine.checkpoint_loop_last_us),
               static_cast<unsigned long long>(engine.checkpoint_loop_max_us),
               static_cast<unsigned long long>(engine.write_stall_us),
               static_cast<unsigned long long>(engine.write_delays),
               static_cast<unsigned long long>(engine.write_delay_us));
  // Operators need the cause, Redis only logs it.
  if (!engine.log_error.empty()) {
    AppendPrintf(out, "aof_last_write_error:%s\r\n", engine.log_error.c_str());
  }
  if (!engine.segment_read_error.empty()) {
    AppendPrintf(out, "segment_last_read_error:%s\r\n", engine.segment_read_error.c_str());
  }
  AppendRdbSaveInfo(saver, out);
  AppendRdbImportInfo(import, out);
}

}  // namespace dynakv::server
