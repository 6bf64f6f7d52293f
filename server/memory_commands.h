// MEMORY STATS / DOCTOR / MALLOC-STATS / PURGE (MEMORY USAGE and HELP are cmd_object.cc's, whose
// table lists these), with Redis 7.0's replies.
#pragma once

namespace dynakv::server {

struct CommandContext;

// Redis's fields, in its order: the allocator's figures from jemalloc (the RSS otherwise), the
// node's overheads as far as dynakv has them (no replication backlog, no AOF buffer, no dict
// overhead: those are 0), keys and the dataset's share.
void MemoryStats(CommandContext& ctx);
// Redis 7.0's report on the node's memory figures (memory_doctor.h).
void MemoryDoctor(CommandContext& ctx);
// jemalloc's malloc_stats_print text (Redis's "Stats not supported" without jemalloc).
void MemoryMallocStats(CommandContext& ctx);
// jemalloc's purge of every arena's dirty pages; OK.
void MemoryPurge(CommandContext& ctx);

}  // namespace dynakv::server
