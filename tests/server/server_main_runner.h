// Running lplex-server's main in-process for command-line tests, and the
// small files those tests hand it.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "server_main.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::server::testing {

// ServerMain(args) with its stdout and stderr captured.
inline lplex::testing::Captured RunServer(const std::vector<std::string>& args) {
  return lplex::testing::Capture([&](std::FILE* out, std::FILE* err) { return ServerMain(args, out, err); });
}

// Writes `text` to `name` inside `dir` and returns its path.
inline std::string WriteFile(const lplex::testing::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.Sub(name);
  std::ofstream(path) << text;
  return path;
}

}  // namespace lplex::server::testing
