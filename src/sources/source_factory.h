// MakeSource: turns a parsed --source (source_uri.h) into a FrameSource.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/file_system.h"
#include "core/status.h"
#include "sources/frame_source.h"
#include "sources/replay_source.h"
#include "sources/source_uri.h"

namespace lplex::sources {

// What sources get from the program that makes them.
struct SourceEnv {
  Clock* clock = nullptr;   // null = Clock::Real()
  FileSystem* fs = nullptr; // null = FileSystem::Default()
  // Makes the Pacer each source waits with; null = NewRealPacer(clock).
  std::function<std::unique_ptr<Pacer>()> make_pacer;
  // --replay-speed / --replay-loop: used where the URI does not say.
  double replay_speed = 1.0;
  bool replay_loop = false;
};

// Makes the source `spec` describes, on bus spec.bus. Checks what can be
// checked without starting it: a replay path exists and is a readable
// capture, or a directory with at least one journal holding frames
// (JournalDirCursor, journal_replay.h); the error names the path. Interfaces,
// hosts and ports are checked by FrameSource::Start.
Result<std::unique_ptr<FrameSource>> MakeSource(const SourceSpec& spec, const SourceEnv& env);

// The cheap part of MakeSource's checks, for -validate-config (opens
// nothing): a replay path exists ("replay PATH: no such file or directory").
// Other kinds: OK.
Status CheckSourceSpec(const SourceSpec& spec);

}  // namespace lplex::sources
