// lplex archive: archive every finished, unarchived journal now, e.g. after
// an outage of the archive target. Files a writer still holds (flock) are
// left for the keeper.
#include <fmt/format.h>

#include <chrono>

#include "commands.h"
#include "core/duration.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"

namespace lplex::cli {

int RunArchive(const ArchiveOptions& o, std::FILE* out, std::FILE* err) {
  if (o.dirs.empty()) {
    std::fprintf(err, "lplex archive: no journal directories given\n");
    return 2;
  }
  auto timeout = ParseIso8601Duration(o.timeout);
  if (!timeout.ok()) {
    std::fprintf(err, "lplex archive: --timeout: %s\n", timeout.status().message().c_str());
    return 2;
  }
  keeper::ArchiverConfig config;
  config.command = o.command;
  config.target = o.target;
  config.script_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  auto archiver = keeper::MakeArchiver(config);
  if (!archiver.ok()) {
    std::fprintf(err, "lplex archive: %s\n", archiver.status().message().c_str());
    return 2;
  }
  FileSystem* fs = FileSystem::Default();
  std::vector<keeper::ArchiveItem> todo;
  size_t in_use = 0;
  for (const std::string& dir : o.dirs) {
    if (!fs->Exists(dir)) {
      std::fprintf(err, "lplex archive: %s: no such directory\n", dir.c_str());
      return 2;
    }
    auto open = [&](const std::string& p) { return fs->IsBeingWritten(p); };
    for (const keeper::FileState& f : keeper::ListJournalDir(fs, dir, nullptr, open)) {
      if (f.archived) continue;
      if (f.open) {
        ++in_use;
        std::fprintf(out, "skipped %s: still being written\n", f.path.c_str());
        continue;
      }
      keeper::ArchiveItem item;
      item.path = f.path;
      item.instance_id = o.instance_id;
      item.size = f.size;
      item.created_known = f.created_us.has_value();
      item.created_us = f.created_us.value_or(0);
      todo.push_back(std::move(item));
    }
  }
  std::fprintf(err, "lplex archive: %zu files to archive to %s\n", todo.size(), (*archiver)->Describe().c_str());
  size_t ok = 0;
  std::vector<std::string> failures;
  for (size_t at = 0; at < todo.size(); at += o.batch) {
    std::vector<keeper::ArchiveItem> batch(todo.begin() + static_cast<ptrdiff_t>(at),
                                           todo.begin() + static_cast<ptrdiff_t>(std::min(todo.size(), at + o.batch)));
    auto outcomes = (*archiver)->Archive(batch, std::chrono::steady_clock::now() + *timeout);
    for (size_t i = 0; i < batch.size(); ++i) {
      const bool good = i < outcomes.size() && outcomes[i].ok;
      if (good) {
        Status m = keeper::WriteArchivedMarker(fs, batch[i].path);
        if (!m.ok()) {
          failures.push_back(fmt::format("{}: archived, but the marker could not be written: {}", batch[i].path,
                                         m.ToString()));
          continue;
        }
        ++ok;
        std::fprintf(out, "archived %s\n", batch[i].path.c_str());
      } else {
        failures.push_back(
            fmt::format("{}: {}", batch[i].path, i < outcomes.size() ? outcomes[i].error : "no outcome"));
      }
    }
    std::fprintf(err, "lplex archive: %zu/%zu done\n", std::min(todo.size(), at + o.batch), todo.size());
  }
  for (const std::string& f : failures) std::fprintf(out, "FAILED %s\n", f.c_str());
  std::fprintf(out, "%zu archived, %zu failed, %zu still being written\n", ok, failures.size(), in_use);
  return failures.empty() ? 0 : 1;
}

}  // namespace lplex::cli
