#include "keeper/archiver.h"

#include "core/file_system.h"

namespace lplex::keeper {

std::string ArchiveRelativePath(const ArchiveItem& item) {
  std::string name = BaseName(item.path);
  if (item.instance_id.empty()) return name;
  return item.instance_id + "/" + name;
}

}  // namespace lplex::keeper
