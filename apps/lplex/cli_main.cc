// The lplex command line: subcommands, flags and exit codes. main() only
// calls RunMain, so tests can run whole command lines in-process.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "flag_values.h"
#include "go_flags.h"
#include "tail_command.h"

namespace lplex::cli {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr int kUsageError = 2;

// Numeric options are read as text by CLI11 and converted here after parsing,
// so that every one goes through ParseFlagValue's range check (see
// flag_values.h for why CLI11's own conversion is not used).
class NumericOptions {
 public:
  // Adds range.flag to `cmd`, storing into *value; *value's current content is
  // the default shown in --help, and the valid range is appended to `help`.
  template <typename T>
  void Add(CLI::App* cmd, const FlagRange& range, T* value, const std::string& help) {
    Entry& e = entries_.emplace_back();
    e.range = range;
    e.command = cmd;
    e.store = [value](int64_t v) { *value = static_cast<T>(v); };
    e.option = cmd->add_option(std::string(range.flag), e.text, fmt::format("{} (valid: {})", help, range.Describe()))
                   ->type_name("INT")
                   ->default_str(std::to_string(*value));
  }

  // The valid range of a numeric flag of `cmd` ("" when `flag` is none), for messages.
  std::string Valid(const CLI::App* cmd, const std::string& flag) const {
    for (const Entry& e : entries_) {
      if (e.command == cmd && e.range.flag == flag) return e.range.Describe();
    }
    return "";
  }

  // Converts every numeric flag given to `cmd`; the first bad one is the error.
  Status Apply(const CLI::App* cmd) {
    for (Entry& e : entries_) {
      if (e.command != cmd || e.option->count() == 0) continue;
      Result<int64_t> v = ParseFlagValue(e.range, e.text);
      if (!v.ok()) return v.status();
      e.store(*v);
    }
    return Status::Ok();
  }

 private:
  struct Entry {
    FlagRange range;
    const CLI::App* command = nullptr;
    CLI::Option* option = nullptr;
    std::string text;  // CLI11 writes here; a deque keeps its address stable
    std::function<void(int64_t)> store;
  };
  std::deque<Entry> entries_;
};

// Every long option name of every subcommand, for NormalizeGoStyleFlags.
std::set<std::string> LongNames(CLI::App& app) {
  std::set<std::string> names = {"help", "version"};
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    for (const CLI::Option* opt : sub->get_options()) {
      for (const std::string& n : opt->get_lnames()) names.insert(n);
    }
  }
  return names;
}

std::vector<std::string> CommandNames(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

void Write(std::FILE* f, const std::string& s) { std::fwrite(s.data(), 1, s.size(), f); }

}  // namespace

int RunMain(int argc, char** argv, std::FILE* out, std::FILE* err) {
  CLI::App app{"lplex: record NMEA 2000 traffic to .lpj journals and read them back", "lplex"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  NumericOptions numbers;

  ImportOptions imp;
  auto* import = app.add_subcommand("import", "Turn capture files (pcap, candump, Yacht Devices RAW) into journals");
  import->add_option("captures", imp.captures, "Capture files, read in the order given")->required();
  import->add_option("--format", imp.format, "Capture format: auto, pcap, candump, ydraw")->capture_default_str();
  import->add_option("--out", imp.out_dir, "Directory to write journal files to")->required();
  import->add_option("--prefix", imp.prefix, "Journal file name prefix")->capture_default_str();
  numbers.Add(import, kBlockSizeFlag, &imp.block_size, "Uncompressed block size in bytes");
  import->add_option("--compression", imp.compression,
                     "none, zstd or zstd-dict (zstd-dict exists to match Go lplex journals; on real captures it "
                     "usually makes larger files than zstd)")
      ->capture_default_str();
  numbers.Add(import, kZstdLevelFlag, &imp.zstd_level, "zstd level");
  import->add_option("--rotate-duration", imp.rotate_duration,
                     fmt::format("Start a new file after this much bus time (ISO 8601, e.g. PT1H; valid: {}); "
                                 "leave out for no time-based rotation",
                                 kRotateDurationFlag.Describe()));
  numbers.Add(import, kRotateSizeFlag, &imp.rotate_size, "Start a new file after this many bytes, 0 for no limit");
  import->add_option("--base-time", imp.base_time,
                     "RFC 3339 time of the first frame, for captures without timestamps; the date for captures "
                     "with times of day only (Yacht Devices RAW)");
  numbers.Add(import, kFrameIntervalFlag, &imp.frame_interval_us,
              "Spacing of frames in captures without timestamps, in microseconds");
  import->add_flag("--append", imp.append,
                   "Import even when --out already holds journals named inside the captures' time span "
                   "(frames imported before are stored again)");

  DumpOptions dump;
  auto* dump_cmd = app.add_subcommand("dump", "Print every readable frame of journals, one per line: each file in the order recorded, several files "
                                      "merged by timestamp; damage is reported on stderr, exit 1 if any frame could not be read");
  dump_cmd->add_option("paths", dump.paths, "Journal files or directories")->required();
  dump_cmd->add_flag("--json", dump.json, "One JSON object per line: seq, ts, prio, pgn, src, dst, data");
  dump_cmd->add_flag("--decode", dump.decode,
                     "Decode each frame (every PGN of canboat's database; lplex's names for the PGNs lplex decodes): "
                     "JSON key \"decoded\", or the PGN name and fields after the text line");
  dump_cmd->add_flag("--changes", dump.changes,
                     "Change mode: a snapshot per (source, PGN), then only significant changes and idle lines, "
                     "on the recording's clock (docs/changes.md)");
  CLI::Option* dump_where = dump_cmd->add_option("--where", dump.where,
                       "Print only frames matching this expression, e.g. 'pgn == 130306 && wind_speed > 5' "
                       "(docs/where.md); naming a decoded field turns decoding on");
  std::set<const CLI::Option*> repeatable;  // flags that may be given several times
  AddFilterOptions(dump_cmd, &dump.filters, &repeatable);
  dump_cmd->add_option("--start", dump.start, "From this time on (RFC 3339; found by a binary search of the blocks)");
  dump_cmd->add_option("--end", dump.end, "Up to this time (RFC 3339)");
  dump_cmd->add_option("--speed", dump.speed,
                       "Replay at this multiple of the recorded pace (1 = real time); 0 prints without pauses")
      ->capture_default_str();

  std::string inspect_path;
  auto* inspect = app.add_subcommand("inspect", "Show a journal's header, block table and devices");
  inspect->add_option("file", inspect_path, "Journal file")->required();

  std::vector<std::string> verify_paths;
  auto* verify = app.add_subcommand("verify", "Check every block and frame of journals; exit 0 only when nothing is damaged (a damaged block index fails too)");
  verify->add_option("paths", verify_paths, "Journal files or directories")->required();

  ArchiveOptions arch;
  auto* archive = app.add_subcommand("archive", "Archive every finished, unarchived journal now");
  archive->add_option("dirs", arch.dirs, "Journal directories")->required();
  archive->add_option("--target", arch.target, "s3://bucket/prefix/ or file:///path");
  archive->add_option("--command", arch.command, "Archive script (argv + JSONL protocol, docs/retention.md)");
  archive->add_option("--instance-id", arch.instance_id, "Instance id for object keys and the script's stdin");
  archive->add_option("--timeout", arch.timeout, "Give up on one archiver call after this long (ISO 8601, PT1S..P1D)")
      ->capture_default_str();

  RetentionOptions ret;
  auto* retention = app.add_subcommand("retention", "Apply (or, with --dry-run, print) the retention policy");
  retention->add_option("dirs", ret.dirs, "Journal directories")->required();
  retention->add_flag("--dry-run", ret.dry_run, "Print what would be deleted or archived; change nothing");
  retention->add_option("--max-age", ret.max_age, "Delete files older than this (ISO 8601, positive, e.g. P30D)");
  retention->add_option("--min-keep", ret.min_keep, "Never expire files younger than this by age");
  numbers.Add(retention, kMaxSizeFlag, &ret.max_size, "Bytes per directory, 0 for no limit");
  numbers.Add(retention, kSoftPctFlag, &ret.soft_pct, "Soft zone start, percent of --max-size, 0 for none");
  retention->add_option("--overflow-policy", ret.overflow_policy, "delete-unarchived or pause-recording")
      ->capture_default_str();
  retention->add_option("--archive-trigger", ret.archive_trigger, "before-expire (default with a target) or disabled");
  retention->add_option("--target", ret.target, "Archive before deleting: s3://bucket/prefix/ or file:///path");
  retention->add_option("--command", ret.command, "Archive before deleting, with this script");
  retention->add_option("--instance-id", ret.instance_id, "Instance id for archive keys");
  retention->add_option("--timeout", ret.timeout,
                        "With --target or --command: give up on one archiver call after this long (ISO 8601, "
                        "PT1S..P1D; default PT5M)");

  LiveCommands live;  // tail, values, devices (tail_command.h)
  live.Register(&app);

  std::vector<std::string> args = NormalizeGoStyleFlags(std::vector<std::string>(argv + 1, argv + argc), LongNames(app));
  if (args.empty()) {
    Write(err, app.help());
    return kUsageError;
  }

  // The main command has flags only, so the first argument that is not a flag
  // names the subcommand. CLI11 would call an unknown one a stray argument.
  std::string prefix = "lplex";
  auto named = std::find_if(args.begin(), args.end(), [](const std::string& a) { return a.empty() || a[0] != '-'; });
  if (named != args.end()) {
    const std::vector<std::string> commands = CommandNames(app);
    if (std::find(commands.begin(), commands.end(), *named) == commands.end()) {
      std::fprintf(err, "lplex: unknown command '%s' (commands: %s)\nRun 'lplex --help' for more information.\n",
                   named->c_str(), fmt::format("{}", fmt::join(commands, ", ")).c_str());
      return kUsageError;
    }
    prefix += " " + *named;
    // Repeated and empty flags, named in our words rather than CLI11's.
    const CLI::App* sub = app.get_subcommand(*named);
    std::map<std::string, LongOption> options;
    for (const CLI::Option* opt : sub->get_options()) {
      if (live.Repeatable(opt) || repeatable.count(opt) > 0) continue;  // --pgn 1 --pgn 2 is not "given twice"
      for (const std::string& n : opt->get_lnames()) {
        std::string valid = numbers.Valid(sub, "--" + n);
        if (sub == import && n == "rotate-duration") valid = kRotateDurationFlag.Describe();
        options[n] = {opt->get_expected_min() > 0, valid};  // switches expect no value
      }
    }
    const std::string misuse = FindFlagMisuse(args, options);
    if (!misuse.empty()) {
      std::fprintf(err, "%s: %s\nRun '%s --help' for more information.\n", prefix.c_str(), misuse.c_str(),
                   prefix.c_str());
      return kUsageError;
    }
  }

  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {  // --help, --version
      std::ostringstream o, eo;
      app.exit(e, o, eo);
      Write(out, o.str());
      return 0;
    }
    // CLI11's own codes (100 and up) would be taken for the commands' own
    // failures; every mistake on the command line is a usage error.
    std::fprintf(err, "%s: %s\nRun '%s --help' for more information.\n", prefix.c_str(), e.what(), prefix.c_str());
    return kUsageError;
  }

  for (CLI::App* sub : app.get_subcommands()) {
    Status s = numbers.Apply(sub);
    if (!s.ok()) {
      std::fprintf(err, "%s: %s\n", prefix.c_str(), s.message().c_str());
      return kUsageError;
    }
  }

  if (import->parsed()) return RunImport(imp, out, err);
  if (dump_cmd->parsed()) {
    // `--where ""` is an empty expression (an error), not "no filter".
    if (dump_where->count() > 0 && dump.where.empty()) dump.where = " ";
    return RunDump(dump, out, err);
  }
  if (inspect->parsed()) return RunInspect(inspect_path, out, err);
  if (verify->parsed()) return RunVerify(verify_paths, out, err);
  if (archive->parsed()) return RunArchive(arch, out, err);
  if (retention->parsed()) return RunRetention(ret, out, err);
  if (live.Parsed()) return live.Run(out, err);
  return kUsageError;
}

}  // namespace lplex::cli
