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
// Paths in result lines are escaped (EscapeForDisplay), so a file name with a
// newline cannot forge a line.
//
// SIGINT and SIGTERM stop the run (InterruptGuard): the script's process
// group is stopped, a built-in target stops between files; files already
// archived keep their markers, the rest are listed as interrupted, the summary
// says "interrupted", and the exit code is 1.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "commands.h"
#include "core/duration.h"
#include "core/instance_id.h"
#include "core/strings.h"
#include "interrupt_guard.h"
#include "journal_dirs.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "stream_logger.h"

namespace lplex::cli {
namespace {

// The FAILED line's text: the archivers' errors already name the file, so it
// is only added when one does not. Escaped as a whole: the error quotes the
// path, and a script's error text is no more trusted than a file name.
std::string FailureText(const std::string& path, const std::string& error) {
  if (error.find(path) != std::string::npos) return EscapeForDisplay(error);
  return EscapeForDisplay(fmt::format("{}: {}", path, error));
}

void PrintLine(std::FILE* out, const char* what, const std::string& path) {
  std::fprintf(out, "%s %s\n", what, EscapeForDisplay(path).c_str());
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
      std::fprintf(err, "lplex archive: --instance-id: %s; or leave it empty or out for none\n",
                   valid.message().c_str());
      return 2;
    }
  }
  auto timeout = ParseArchiveTimeoutFlag(o.timeout);
  if (!timeout.ok()) {
    std::fprintf(err, "lplex archive: %s\n", timeout.status().message().c_str());
    return 2;
  }
  InterruptGuard interrupt;
  StreamLogger log(err);
  const std::unique_ptr<Logger> instance_log = WithInstance(&log, o.instance_id);
  const std::unique_ptr<Logger> command_log = WithPrefix(&log, "lplex archive: ");
  keeper::ArchiverConfig config;
  config.log = instance_log.get();
  config.command = o.command;
  config.target = o.target;
  config.script_timeout = *timeout;
  config.names = {"--command", "--target", "--timeout"};
  config.cancel = interrupt.flag();
  auto archiver = keeper::MakeArchiver(config);
  if (!archiver.ok()) {
    std::fprintf(err, "lplex archive: %s\n", archiver.status().message().c_str());
    return 2;
  }
  Status target_usable = keeper::CheckFileTargetUsable(o.target, o.instance_id, "--target");
  if (!target_usable.ok()) {
    std::fprintf(err, "lplex archive: %s\n", target_usable.message().c_str());
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
      std::fprintf(err, "lplex archive: --target %s: %s\n", o.target.c_str(),
                   EscapeForDisplay(separate.message()).c_str());
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
        std::fprintf(out, "skipped %s: still being written\n", EscapeForDisplay(f.path).c_str());
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
  std::vector<std::string> interrupted;  // paths not archived because of a signal
  for (size_t at = 0; at < todo.size(); at += o.batch) {
    std::vector<keeper::ArchiveItem> batch(todo.begin() + static_cast<ptrdiff_t>(at),
                                           todo.begin() + static_cast<ptrdiff_t>(std::min(todo.size(), at + o.batch)));
    if (interrupt.interrupted()) {
      for (const auto& item : batch) interrupted.push_back(item.path);
      continue;
    }
    auto outcomes = (*archiver)->Archive(batch, std::chrono::steady_clock::now() + *timeout);
    for (size_t i = 0; i < batch.size(); ++i) {
      const bool good = i < outcomes.size() && outcomes[i].ok;
      if (good) {
        // Also after a signal: the copy is there, and without its marker the
        // next run would archive it again.
        Status m = keeper::WriteArchivedMarker(fs, batch[i].path);
        if (!m.ok()) {
          failures.push_back(EscapeForDisplay(fmt::format("{}: archived, but the marker could not be written: {}",
                                                          batch[i].path, m.ToString())));
          continue;
        }
        ++ok;
        PrintLine(out, "archived", batch[i].path);
      } else if (i < outcomes.size() && outcomes[i].interrupted) {
        interrupted.push_back(batch[i].path);
      } else {
        failures.push_back(
            FailureText(batch[i].path, i < outcomes.size() ? outcomes[i].error : "no outcome from the archiver"));
      }
    }
    if (!interrupt.interrupted()) command_log->Info("{}/{} done", std::min(todo.size(), at + o.batch), todo.size());
  }
  for (const std::string& f : failures) std::fprintf(out, "FAILED %s\n", f.c_str());
  for (const std::string& p : interrupted) PrintLine(out, "interrupted, not archived:", p);
  std::fprintf(out, "%zu archived, %zu failed, %zu still being written", ok, failures.size(), in_use);
  if (interrupt.interrupted()) {
    std::fprintf(out, "; interrupted by %s: %zu not archived (the next run archives them)",
                 interrupt.signal_number() == SIGINT ? "SIGINT" : "SIGTERM", interrupted.size());
  }
  std::fprintf(out, "\n");
  return failures.empty() && !interrupt.interrupted() ? 0 : 1;
}

}  // namespace lplex::cli
