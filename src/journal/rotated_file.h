// RotatedFile: what a journal writer hands on when it has finished a file.
//
// Kept apart from the writers so that whoever only consumes finished files
// (the keeper, archivers) does not depend on how they are written.
#pragma once

#include <string>

namespace lplex::journal {

// A finished journal file: fsynced, closed, and reported closed through
// on_open_change before it is handed on. instance_id is filled in by whoever
// owns the writer (the boat's replication id, the cloud's instance id); the
// writers leave it empty.
struct RotatedFile {
  std::string path;
  std::string instance_id;
};

}  // namespace lplex::journal
