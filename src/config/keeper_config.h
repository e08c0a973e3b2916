// The keeper's options and the archiver's configuration from a server's
// settings: the retention and archive settings (journal.retention.*,
// journal.archive.*) mean the same on the boat and on the cloud, so both
// programs build their keeper from them here, in one place.
//
// What the callers add themselves: the directories (the boat's one journal
// directory, the cloud's dir_func over {data-dir}/instances/*/journal), the
// hooks into live objects (is_open, on_pause_change), the archiver, clock,
// file system and logger.
#pragma once

#include "config/boat_config.h"
#include "config/cloud_config.h"
#include "core/status.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"

namespace lplex::config {

// True when an archive command or target is configured.
bool Archiving(const BoatServerConfig& c);
bool Archiving(const CloudServerConfig& c);

// The archiver's settings (command or target, script timeout, S3 fields).
// log, fs, clock and cancel are left at their defaults for the caller.
keeper::ArchiverConfig ArchiverConfigFor(const BoatServerConfig& c);
keeper::ArchiverConfig ArchiverConfigFor(const CloudServerConfig& c);

// Retention, trigger and timeouts; no directories, no hooks, no archiver.
// An archive command or target without a trigger means on-rotate (someone
// who configured a target expects every finished file archived). The drain
// at shutdown waits the archive timeout, at most 2 minutes (what is left is
// swept at the next start). Errors: a bad overflow policy or trigger,
// naming the value.
Result<keeper::KeeperOptions> KeeperOptionsFor(const BoatServerConfig& c);
Result<keeper::KeeperOptions> KeeperOptionsFor(const CloudServerConfig& c);

}  // namespace lplex::config
