// CloudMain: lplex-cloud's command line, from argv to exit code, so tests
// can run it in-process (main.cc only calls it). Flags: config/cloud_config.h
// and docs/configuration-cloud.md.
//
// Exit codes (as lplex-server's, docs/server.md):
//   0  clean shutdown after SIGINT/SIGTERM; -help, -version, -validate-config
//   1  a failure at startup (a port in use, a data directory that cannot be
//      created, an unreadable TLS file)
//   2  a bad configuration: unknown flag, bad value, bad config file (the
//      message names the flag or key, the value and what is valid)
//   130 a second SIGINT/SIGTERM during shutdown: exits at once
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace lplex::cloud_app {

// "lplex-cloud 0.1.0 (commit abc123, built 2025-01-31)".
std::string VersionLine();

// Runs the cloud with `args` (argv without the program name). Help, version
// and the effective config go to `out`; error messages to `err`; logs to
// Logger::Default() (stderr).
int CloudMain(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);

// For in-process tests: asks a running CloudMain to shut down as SIGTERM
// would. Any thread. False (nothing done) when no CloudMain is past
// reading its configuration; a second request during shutdown counts as a
// second signal (exit 130).
bool RequestShutdown();

}  // namespace lplex::cloud_app
