// Starting the pipeline_recorder helper program (tests/tools/) as a child
// process, and reading files whole, for the keeper's crash tests.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace lplex::testing {

inline const std::string kPipelineRecorder = std::string(LPLEX_BINARY_DIR) + "/tests/pipeline_recorder";

// Starts `pipeline_recorder journal archive boat-1`; returns its pid.
inline pid_t SpawnRecorder(const std::string& journal, const std::string& archive) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(kPipelineRecorder.c_str(), kPipelineRecorder.c_str(), journal.c_str(), archive.c_str(), "boat-1",
          nullptr);
    _exit(127);
  }
  return pid;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace lplex::testing
