#include "server/node.h"

// jemalloc's options, read when it starts (the executable links jemalloc; elsewhere this is an
// unused constant). background_thread: memory freed in bursts (a checkpoint's serialized
// values) goes back to the system after the decay time even while the node is idle, rather
// than staying resident until the next allocations; Redis runs it too (jemalloc-bg-thread yes).
extern "C" {
__attribute__((used)) const char* malloc_conf = "background_thread:true";
}

int main(int argc, char** argv) { return dynakv::server::RunNode(argc, argv); }
