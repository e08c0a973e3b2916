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

  const std::set<std::string> long_names = {"format",      "out",       "prefix",    "block-size",
                                            "compression", "zstd-level", "rotate-duration", "rotate-size",
                                            "base-time",   "frame-interval-us", "json", "version", "help"};
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
  return 2;
}
