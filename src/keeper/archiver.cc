#include "keeper/archiver.h"

#include <fmt/format.h>

#include "core/file_system.h"

namespace lplex::keeper {

std::string ArchiveRelativePath(const ArchiveItem& item) {
  std::string name = BaseName(item.path);
  if (item.instance_id.empty()) return name;
  return item.instance_id + "/" + name;
}

std::vector<ArchiveOutcome> PerFileArchiver::Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) {
  std::vector<ArchiveOutcome> out;
  out.reserve(batch.size());
  for (const ArchiveItem& item : batch) {
    Status s = ArchiveOne(item, deadline);
    ArchiveOutcome o;
    o.ok = s.ok();
    if (!s.ok()) o.error = fmt::format("archive {} to {}: {}", item.path, DestinationUrl(item), s.message());
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace lplex::keeper
