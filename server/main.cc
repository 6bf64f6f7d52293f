#include "server/node.h"

int main(int argc, char** argv) { return dynakv::server::RunNode(argc, argv); }
