// ServerMain: lplex-server's command line, from argv to exit code, so tests
// can run it in-process (main.cc only calls it).
//
// Exit codes:
//   0  clean shutdown after SIGINT/SIGTERM; -help, -version, -validate-config
//   1  a failure while running: startup (a port in use, a source that cannot
//      open), or a source failing for good
//   2  a bad configuration: unknown flag, bad value, bad config file (the
//      message names the flag or key, the value and what is valid)
//   130 a second SIGINT/SIGTERM during shutdown: exits at once
//
// Besides the flags of config/boat_config.h it takes -status-line (also
// --status-line): print a one-line status (frames/s, devices, clients,
// journal files written and archived) to stdout every second; on a terminal
// the line is rewritten in place.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace lplex::server {

// "lplex-server 0.1.0 (commit abc123, built 2025-01-31)".
std::string VersionLine();

// Runs the server with `args` (argv without the program name). Normal
// output (help, version, effective config, status line) goes to `out`;
// error messages to `err`; logs to Logger::Default() (stderr).
int ServerMain(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);

}  // namespace lplex::server
