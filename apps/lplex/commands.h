// The lplex subcommands, as functions of their options so tests can call
// them without a process. Each returns the process exit code and writes its
// normal output to `out` and diagnostics and progress to `err`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "replay_filter.h"

namespace lplex::cli {

// The whole lplex command line: argv[0] is the program, argv[1] the
// subcommand. Returns the exit code: a subcommand's own, 0 for --help and
// --version, 2 for every usage error (unknown command, unknown or missing
// flag, a number out of range); the error names the command and the flag.
int RunMain(int argc, char** argv, std::FILE* out, std::FILE* err);

struct ImportOptions {
  std::vector<std::string> captures;
  std::string format = "auto";           // auto | pcap | candump | ydraw
  std::string out_dir;
  std::string prefix = "nmea2k";
  uint32_t block_size = 262144;
  std::string compression = "zstd";      // none | zstd | zstd-dict
  int zstd_level = 3;
  std::string rotate_duration;           // ISO 8601, "" = none
  uint64_t rotate_size = 0;              // bytes, 0 = none
  std::string base_time;                 // RFC 3339; needed by captures without full timestamps
  int64_t frame_interval_us = 1000;      // spacing for captures without timestamps
  uint64_t first_seq = 1;
  bool append = false;                   // import even when out_dir holds journals of the same time span
};
// Exit codes: 0 imported; 1 a data or I/O problem (unreadable or unrecognised
// capture, no frame matched the format, most records malformed, a capture
// breaking off mid-way, the journal not writable) — files written before it
// are finished and the summary printed; 2 a usage error (bad flag value,
// missing --base-time, --out already holding journals of the same time span
// without --append), nothing written; 128+signal after SIGINT/SIGTERM, with
// the open file finished and the summary printed.
int RunImport(const ImportOptions& options, std::FILE* out, std::FILE* err);

struct DumpOptions {
  std::vector<std::string> paths;        // files or directories
  bool json = false;
  bool decode = false;                   // add each frame's decoded fields ("decoded")
  bool changes = false;                  // change mode (docs/changes.md), ticked by frame time
  std::string where{};                   // display filter (docs/where.md); "" = none
  FilterFlags filters{};                 // frame filters as typed (spec/boat.md §4.1; each may repeat)
  std::string start{}, end{};            // RFC 3339; "" = from the first / to the last frame
  double speed = 0;                      // replay speed: sleep Δt/speed between printed frames; 0 = no pauses
  enum class Progress { kAuto, kAlways, kNever } progress = Progress::kAuto;  // auto: when stderr is a terminal
};
// Exit codes: 0 every frame read; 1 frames lost to damage, a file could not
// be opened, or the output could not be written; 2 a usage error (bad filter
// value, --where that does not parse, --start after --end, negative speed).
int RunDump(const DumpOptions& options, std::FILE* out, std::FILE* err);

int RunInspect(const std::string& path, std::FILE* out, std::FILE* err);

int RunVerify(const std::vector<std::string>& paths, std::FILE* out, std::FILE* err);

struct ArchiveOptions {
  std::vector<std::string> dirs;
  std::string target;       // s3://bucket/prefix/ or file:///path
  std::string command;      // archive script
  std::string instance_id;  // goes into keys and the script's stdin
  std::string timeout = "PT5M";
  size_t batch = 16;        // files per archiver call
};
int RunArchive(const ArchiveOptions& options, std::FILE* out, std::FILE* err);

struct RetentionOptions {
  std::vector<std::string> dirs;
  bool dry_run = false;
  std::string max_age;      // ISO 8601
  std::string min_keep;     // ISO 8601
  uint64_t max_size = 0;
  int soft_pct = 80;
  std::string overflow_policy = "delete-unarchived";
  std::string archive_trigger;  // "" = disabled unless a target/command is given (then before-expire)
  std::string target;
  std::string command;
  std::string instance_id;
  std::string timeout;      // ISO 8601, one archiver call; "" = PT5M
};
int RunRetention(const RetentionOptions& options, std::FILE* out, std::FILE* err);

}  // namespace lplex::cli
