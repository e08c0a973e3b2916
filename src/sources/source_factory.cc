#include "sources/source_factory.h"

#include <fmt/format.h>

#include <filesystem>

#include "sources/journal_replay.h"
#include "sources/sim_source.h"
#include "sources/socketcan_source.h"
#include "sources/ydraw_source.h"

namespace lplex::sources {

Status CheckSourceSpec(const SourceSpec& spec) {
  if (spec.kind != SourceKind::kReplay) return Status::Ok();
  std::error_code ec;
  const auto st = std::filesystem::status(spec.path, ec);
  if (!std::filesystem::exists(st)) {
    // Said plainly: without this a missing path reached the journal-directory
    // reader and was reported as a directory without journals.
    return Status::NotFound(fmt::format(
        "replay {}: {} (valid: a capture file (pcap, candump, YD RAW) or a journal directory)", spec.path,
        ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such file or directory"));
  }
  return Status::Ok();
}

Result<std::unique_ptr<FrameSource>> MakeSource(const SourceSpec& spec, const SourceEnv& env) {
  LPLEX_RETURN_IF_ERROR(CheckSourceSpec(spec));
  Clock* clock = env.clock ? env.clock : Clock::Real();
  auto pacer = [&] { return env.make_pacer ? env.make_pacer() : NewRealPacer(clock); };
  switch (spec.kind) {
    case SourceKind::kReplay: {
      std::error_code ec;
      const auto st = std::filesystem::status(spec.path, ec);
      std::unique_ptr<FrameCursor> cursor;
      if (!ec && std::filesystem::is_directory(st)) {
        LPLEX_ASSIGN_OR_RETURN(cursor, JournalDirCursor::Open(spec.path, env.fs));
      } else {
        CaptureOptions o;
        // Captures that hold times of day only (Yacht Devices RAW) or no
        // times (candump default) are dated from now.
        o.base_time_us = clock->NowMicros();
        LPLEX_ASSIGN_OR_RETURN(cursor, OpenCaptureCursor(spec.path, o, env.fs));
      }
      ReplayOptions ro;
      ro.speed = spec.speed.value_or(env.replay_speed);
      ro.loop = spec.loop.value_or(env.replay_loop);
      ro.start_delay_us = spec.delay_us;
      return std::unique_ptr<FrameSource>(
          std::make_unique<ReplaySource>(spec.uri, spec.bus, std::move(cursor), ro, pacer()));
    }
    case SourceKind::kSim: {
      SimOptions o;
      o.seed = spec.seed;
      o.fps = spec.fps;
      o.ais_targets = spec.ais_targets;
      return std::unique_ptr<FrameSource>(std::make_unique<SimSource>(spec.uri, spec.bus, o, pacer()));
    }
    case SourceKind::kYdRawTcp:
    case SourceKind::kYdRawUdp: {
      YdRawOptions o;
      o.host = spec.host;
      o.port = spec.port;
      o.tcp = spec.kind == SourceKind::kYdRawTcp;
      return std::unique_ptr<FrameSource>(std::make_unique<YdRawSource>(spec.uri, spec.bus, o, pacer()));
    }
    case SourceKind::kSocketCan:
      return std::unique_ptr<FrameSource>(
          std::make_unique<SocketCanSource>(spec.uri, spec.bus, spec.interface, clock));
  }
  return Status::InvalidArgument("unknown source kind");
}

}  // namespace lplex::sources
