// Checks shared by the commands that work on whole journal directories
// (`lplex archive`, `lplex retention`).
#pragma once

#include <fmt/format.h>

#include <string>

#include "core/file_system.h"
#include "core/status.h"

namespace lplex::cli {

// OK when `dir` is a directory that can be listed. Otherwise NotFound
// "DIR: no such directory", or the error from listing it (which names DIR and
// the errno text); both read well after "lplex <command>: ".
inline Status CheckJournalDirExists(FileSystem* fs, const std::string& dir) {
  auto entries = fs->ListDir(dir);
  if (entries.ok()) return Status::Ok();
  if (entries.status().IsNotFound()) return Status::NotFound(fmt::format("{}: no such directory", dir));
  return entries.status();
}

}  // namespace lplex::cli
