#include "keeper/archiver.h"

#include <fmt/format.h>

#include "core/file_system.h"
#include "core/instance_id.h"

namespace lplex::keeper {

Status Archiver::CheckJournalDir(const std::string&, const std::string&) const { return Status::Ok(); }

Status CheckArchiveItem(const ArchiveItem& item) {
  if (!item.instance_id.empty()) {
    Status s = ValidateInstanceId(item.instance_id);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("archive {}: {}", item.path, s.message()));
  }
  const std::string name = BaseName(item.path);
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("archive \"{}\": the path does not name a file", item.path));
  }
  return Status::Ok();
}

std::string ArchiveRelativePath(const ArchiveItem& item) {
  std::string name = BaseName(item.path);
  if (item.instance_id.empty()) return name;
  return item.instance_id + "/" + name;
}

std::vector<ArchiveOutcome> PerFileArchiver::Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) {
  std::vector<ArchiveOutcome> out;
  out.reserve(batch.size());
  OnBatchStart();
  for (const ArchiveItem& item : batch) {
    Status checked = CheckArchiveItem(item);
    if (!checked.ok()) {
      out.push_back({false, checked.message()});
      continue;
    }
    Status s = ArchiveOne(item, deadline);
    ArchiveOutcome o;
    o.ok = s.ok();
    if (!s.ok()) o.error = fmt::format("archive {} to {}: {}", item.path, DestinationUrl(item), s.message());
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace lplex::keeper
