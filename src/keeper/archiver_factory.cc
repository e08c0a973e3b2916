#include "keeper/archiver_factory.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "core/strings.h"

#include "core/duration.h"
#include "keeper/directory_archiver.h"
#include "keeper/s3_archiver.h"

namespace lplex::keeper {
namespace {

constexpr std::string_view kValidForms =
    "valid forms are \"s3://bucket/prefix/\" (S3 or an S3-compatible store) and \"file:///absolute/path\" (a local "
    "directory)";

// Gives a per-file target (S3, directory) its cancellation: the batch is
// handed on one file at a time, and once the flag is set the files not yet
// started fail as interrupted. The file in progress is not cut short; its
// outcome is whatever the target reports.
class CancellableArchiver final : public Archiver {
 public:
  CancellableArchiver(std::unique_ptr<Archiver> inner, const std::atomic<bool>* cancel)
      : inner_(std::move(inner)), cancel_(cancel) {}

  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) override {
    std::vector<ArchiveOutcome> out;
    out.reserve(batch.size());
    for (const ArchiveItem& item : batch) {
      if (cancel_->load(std::memory_order_relaxed)) {
        ArchiveOutcome o;
        o.error = fmt::format("{}: interrupted before it was archived to {}", item.path, inner_->Describe());
        o.interrupted = true;
        out.push_back(std::move(o));
        continue;
      }
      std::vector<ArchiveOutcome> one = inner_->Archive({item}, deadline);
      out.push_back(one.empty() ? ArchiveOutcome{false, item.path + ": no outcome from the archiver"}
                                : std::move(one.front()));
    }
    return out;
  }
  std::string Describe() const override { return inner_->Describe(); }
  Status CheckJournalDir(const std::string& journal_dir, const std::string& instance_id) const override {
    return inner_->CheckJournalDir(journal_dir, instance_id);
  }

 private:
  std::unique_ptr<Archiver> inner_;
  const std::atomic<bool>* cancel_;
};

std::unique_ptr<Archiver> WithCancel(std::unique_ptr<Archiver> a, const std::atomic<bool>* cancel) {
  if (cancel == nullptr) return a;
  return std::make_unique<CancellableArchiver>(std::move(a), cancel);
}

// "<name>: <message>", for errors about one setting.
Status Named(const std::string& name, const Status& s) {
  if (s.ok() || s.message().rfind(name + ":", 0) == 0) return s;
  return s.WithContext(name);
}

}  // namespace

Status CheckFileTargetUsable(const std::string& target, const std::string& instance_id,
                             std::string_view target_name) {
  if (target.rfind("file:", 0) != 0) return Status::Ok();
  auto root = ParseFileUrl(target);
  if (!root.ok()) return Status::Ok();
  std::filesystem::path dest(*root);
  if (!instance_id.empty()) dest /= instance_id;
  for (std::filesystem::path p = dest; !p.empty(); p = p.parent_path()) {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);
    if (std::filesystem::exists(st)) {
      if (std::filesystem::is_directory(st)) return Status::Ok();
      return Status::InvalidArgument(fmt::format("{} {}: {} is not a directory (valid: a directory, or a path "
                                                 "that can be created as one)",
                                                 target_name, EscapeForDisplay(target),
                                                 EscapeForDisplay(p.string())));
    }
    if (p == p.parent_path()) break;
  }
  return Status::Ok();
}

Result<std::string> ParseFileUrl(std::string_view url) {
  constexpr std::string_view kScheme = "file://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(fmt::format("bad archive target \"{}\": not a file:// URL; {}", url, kValidForms));
  }
  std::string_view path = url.substr(kScheme.size());
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument(fmt::format(
        "bad archive target \"{}\": a file URL needs an absolute path after \"file://\", i.e. three slashes as in "
        "\"file:///srv/archive\" (\"file://{}\" would name a host)",
        url, path));
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
      return Status::InvalidArgument(
          fmt::format("bad archive target \"{}\": the path contains a control character", url));
    }
  }
  std::string out(path);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<std::unique_ptr<Archiver>> MakeArchiver(const ArchiverConfig& config, const EnvLookup& env) {
  const ArchiverSettingNames& names = config.names;
  if (!config.command.empty() && !config.target.empty()) {
    return Status::InvalidArgument(fmt::format(
        "both an archive command (\"{}\") and an archive target (\"{}\") are set; set only one of {} and {}",
        config.command, config.target, names.command, names.target));
  }
  if (!config.command.empty()) {
    if (config.script_timeout.count() <= 0) {
      return Status::InvalidArgument(
          fmt::format("{} {}: the archive script timeout must be positive", names.script_timeout,
                      config.script_timeout.count() < 0 ? fmt::format("{} ms", config.script_timeout.count())
                                                        : FormatIso8601Duration(config.script_timeout)));
    }
    ScriptArchiver::Options so;
    so.timeout = config.script_timeout;
    so.log = config.log;
    // Flags are named in the message (the user typed one); configuration
    // keys are not.
    if (names.script_timeout.rfind("--", 0) == 0) so.timeout_flag = names.script_timeout;
    so.cancel = config.cancel;
    so.clock = config.clock;
    return std::unique_ptr<Archiver>(std::make_unique<ScriptArchiver>(config.command, std::move(so)));
  }
  const std::string& target = config.target;
  if (target.empty()) {
    return Status::InvalidArgument(fmt::format("no archive command or target: set {} to a program, or {}; {}",
                                               names.command, names.target, kValidForms));
  }
  if (target.rfind("s3://", 0) == 0) {
    auto resolved = ResolveS3Target(target, config.s3, env);
    if (!resolved.ok()) return Named(names.target, resolved.status());
    auto s3 = S3Archiver::Create(std::move(resolved).value(), config.fs, config.log, config.clock);
    if (!s3.ok()) return Named(names.target, s3.status());
    return WithCancel(std::move(s3).value(), config.cancel);
  }
  if (target.rfind("file:", 0) == 0) {
    auto root = ParseFileUrl(target);
    if (!root.ok()) return Named(names.target, root.status());
    return WithCancel(std::make_unique<DirectoryArchiver>(*root, config.fs, config.clock), config.cancel);
  }
  return Status::InvalidArgument(
      fmt::format("{}: unknown archive target \"{}\": {}", names.target, target, kValidForms));
}

}  // namespace lplex::keeper
