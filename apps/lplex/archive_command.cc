// lplex archive: archive every finished, unarchived journal now, e.g. after
// an outage of the archive target. Files a writer still holds (flock) are
// left for the keeper.
//
// Everything that could send a copy to the wrong place is refused before the
// first file is touched (exit 2): a directory that does not exist, an
// instance id that is not a plain name, and a directory target that is,
// contains or lies inside a journal directory being archived.
//
// Results ("archived …", "FAILED …", the summary) go to `out`; progress and
// the archivers' log lines, which start with the instance id, to `err`.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "commands.h"
#include "core/duration.h"
#include "core/instance_id.h"
#include "journal_dirs.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "stream_logger.h"

namespace lplex::cli {
namespace {

// The FAILED line's text: the archivers' errors already name the file, so it
// is only added when one does not.
std::string FailureText(const std::string& path, const std::string& error) {
  if (error.find(path) != std::string::npos) return error;
  return fmt::format("{}: {}", path, error);
}

}  // namespace

int RunArchive(const ArchiveOptions& o, std::FILE* out, std::FILE* err) {
  if (o.dirs.empty()) {
    std::fprintf(err, "lplex archive: no journal directories given\n");
    return 2;
  }
  if (!o.instance_id.empty()) {
    Status valid = ValidateInstanceId(o.instance_id);
    if (!valid.ok()) {
      std::fprintf(err, "lplex archive: --instance-id: %s\n", valid.message().c_str());
      return 2;
    }
  }
  auto timeout = ParseIso8601Duration(o.timeout);
  if (!timeout.ok()) {
    std::fprintf(err, "lplex archive: --timeout: %s\n", timeout.status().message().c_str());
    return 2;
  }
  StreamLogger log(err);
  const std::unique_ptr<Logger> instance_log = WithInstance(&log, o.instance_id);
  const std::unique_ptr<Logger> command_log = WithPrefix(&log, "lplex archive: ");
  keeper::ArchiverConfig config;
  config.log = instance_log.get();
  config.command = o.command;
  config.target = o.target;
  config.script_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  config.names = {"--command", "--target", "--timeout"};
  auto archiver = keeper::MakeArchiver(config);
  if (!archiver.ok()) {
    std::fprintf(err, "lplex archive: %s\n", archiver.status().message().c_str());
    return 2;
  }
  FileSystem* fs = FileSystem::Default();
  for (const std::string& dir : o.dirs) {
    Status exists = CheckJournalDirExists(fs, dir);
    if (!exists.ok()) {
      std::fprintf(err, "lplex archive: %s\n", exists.message().c_str());
      return 2;
    }
    Status separate = (*archiver)->CheckJournalDir(dir, o.instance_id);
    if (!separate.ok()) {
      std::fprintf(err, "lplex archive: --target %s: %s\n", o.target.c_str(), separate.message().c_str());
      return 2;
    }
  }
  std::vector<keeper::ArchiveItem> todo;
  size_t in_use = 0;
  for (const std::string& dir : o.dirs) {
    auto open = [&](const std::string& p) { return fs->IsBeingWritten(p); };
    for (const keeper::FileState& f : keeper::ListJournalDir(fs, dir, nullptr, open, command_log.get())) {
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
  command_log->Info("{} files to archive to {}", todo.size(), (*archiver)->Describe());
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
            FailureText(batch[i].path, i < outcomes.size() ? outcomes[i].error : "no outcome from the archiver"));
      }
    }
    command_log->Info("{}/{} done", std::min(todo.size(), at + o.batch), todo.size());
  }
  for (const std::string& f : failures) std::fprintf(out, "FAILED %s\n", f.c_str());
  std::fprintf(out, "%zu archived, %zu failed, %zu still being written\n", ok, failures.size(), in_use);
  return failures.empty() ? 0 : 1;
}

}  // namespace lplex::cli
