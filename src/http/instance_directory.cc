#include "http/instance_directory.h"

namespace lplex::http {

FleetCounts InstanceDirectory::Counts() {
  FleetCounts c;
  for (const InstanceSummary& s : List()) {
    ++c.total;
    if (s.connected) ++c.connected;
  }
  return c;
}

}  // namespace lplex::http
