// lplex: the command-line tool for journals and captures.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "go_flags.h"

namespace {

constexpr const char* kVersion = "0.1.0";

}  // namespace

int main(int argc, char** argv) {
  using namespace lplex::cli;
  CLI::App app{"lplex: record NMEA 2000 traffic to .lpj journals and read them back"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  ImportOptions imp;
  auto* import = app.add_subcommand("import", "Turn capture files (pcap, candump, Yacht Devices RAW) into journals");
  import->add_option("captures", imp.captures, "Capture files, read in the order given")->required();
  import->add_option("--format", imp.format, "Capture format: auto, pcap, candump, ydraw")->capture_default_str();
  import->add_option("--out", imp.out_dir, "Directory to write journal files to")->required();
  import->add_option("--prefix", imp.prefix, "Journal file name prefix")->capture_default_str();
  import->add_option("--block-size", imp.block_size, "Uncompressed block size (power of two, >= 4096)")
      ->capture_default_str();
  import->add_option("--compression", imp.compression, "none, zstd or zstd-dict")->capture_default_str();
  import->add_option("--zstd-level", imp.zstd_level, "zstd level 1..19")->capture_default_str();
  import->add_option("--rotate-duration", imp.rotate_duration, "Start a new file after this much bus time (ISO 8601, e.g. PT1H)");
  import->add_option("--rotate-size", imp.rotate_size, "Start a new file after this many bytes (0 = no limit)")
      ->capture_default_str();
  import->add_option("--base-time", imp.base_time,
                     "RFC 3339 time of the first frame, for captures without timestamps; the date for captures "
                     "with times of day only (Yacht Devices RAW)");
  import->add_option("--frame-interval-us", imp.frame_interval_us,
                     "Spacing of frames in captures without timestamps")
      ->capture_default_str();

  DumpOptions dump;
  auto* dump_cmd = app.add_subcommand("dump", "Print the frames of journals in time order, one per line");
  dump_cmd->add_option("paths", dump.paths, "Journal files or directories")->required();
  dump_cmd->add_flag("--json", dump.json, "One JSON object per line: seq, ts, prio, pgn, src, dst, data");

  std::string inspect_path;
  auto* inspect = app.add_subcommand("inspect", "Show a journal's header, block table and devices");
  inspect->add_option("file", inspect_path, "Journal file")->required();

  std::vector<std::string> verify_paths;
  auto* verify = app.add_subcommand("verify", "Check every block of journals; exit 0 only when all are intact");
  verify->add_option("paths", verify_paths, "Journal files or directories")->required();

  ArchiveOptions arch;
  auto* archive = app.add_subcommand("archive", "Archive every finished, unarchived journal now");
  archive->add_option("dirs", arch.dirs, "Journal directories")->required();
  archive->add_option("--target", arch.target, "s3://bucket/prefix/ or file:///path");
  archive->add_option("--command", arch.command, "Archive script (argv + JSONL protocol, docs/retention.md)");
  archive->add_option("--instance-id", arch.instance_id, "Instance id for object keys and the script's stdin");
  archive->add_option("--timeout", arch.timeout, "Give up on one archiver call after this long (ISO 8601)")
      ->capture_default_str();

  RetentionOptions ret;
  auto* retention = app.add_subcommand("retention", "Apply (or, with --dry-run, print) the retention policy");
  retention->add_option("dirs", ret.dirs, "Journal directories")->required();
  retention->add_flag("--dry-run", ret.dry_run, "Print what would be deleted or archived; change nothing");
  retention->add_option("--max-age", ret.max_age, "Delete files older than this (ISO 8601, e.g. P30D)");
  retention->add_option("--min-keep", ret.min_keep, "Never expire files younger than this by age");
  retention->add_option("--max-size", ret.max_size, "Bytes per directory")->capture_default_str();
  retention->add_option("--soft-pct", ret.soft_pct, "Soft zone start, percent of --max-size")->capture_default_str();
  retention->add_option("--overflow-policy", ret.overflow_policy, "delete-unarchived or pause-recording")
      ->capture_default_str();
  retention->add_option("--archive-trigger", ret.archive_trigger, "before-expire (default with a target) or disabled");
  retention->add_option("--target", ret.target, "Archive before deleting: s3://bucket/prefix/ or file:///path");
  retention->add_option("--command", ret.command, "Archive before deleting, with this script");
  retention->add_option("--instance-id", ret.instance_id, "Instance id for archive keys");

  const std::set<std::string> long_names = {"format",      "out",       "prefix",    "block-size",
                                            "compression", "zstd-level", "rotate-duration", "rotate-size",
                                            "base-time",   "frame-interval-us", "json", "version", "help",
                                            "target", "command", "instance-id", "timeout", "dry-run", "max-age",
                                            "min-keep", "max-size", "soft-pct", "overflow-policy", "archive-trigger"};
  std::vector<std::string> args(argv + 1, argv + argc);
  args = NormalizeGoStyleFlags(args, long_names);
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (import->parsed()) return RunImport(imp, stdout, stderr);
  if (dump_cmd->parsed()) return RunDump(dump, stdout, stderr);
  if (inspect->parsed()) return RunInspect(inspect_path, stdout, stderr);
  if (verify->parsed()) return RunVerify(verify_paths, stdout, stderr);
  if (archive->parsed()) return RunArchive(arch, stdout, stderr);
  if (retention->parsed()) return RunRetention(ret, stdout, stderr);
  return 2;
}
