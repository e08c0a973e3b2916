// The live commands of lplex, which talk to a running lplex-server over its
// HTTP API (spec/boat.md §2, §5; docs/cli-live.md):
//   lplex tail     frames as they arrive (ephemeral or buffered session)
//   lplex values   the latest value of every (source, PGN)
//   lplex devices  the device table
// Declared here rather than in commands.h so the live commands can grow
// without touching the journal commands.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/lplex_client.h"
#include "core/status.h"
#include "replay_filter.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace lplex::cli {

// The filter flags (FilterFlags, replay_filter.h, shared with dump) as the
// server filter. Checked by ParseFilterFlags, so tail and dump say the same
// things about a bad value (the flag, the value, what is valid), e.g. an
// --instance above 255 is refused (the reference truncates it silently).
Result<client::Filter> ParseServerFilter(const FilterFlags& flags);

// Parses a duration flag: Go style ("2s", "500ms", "1m30s", "1.5s") or ISO
// 8601 ("PT2S"). Must be positive and at most one day. Returns
// microseconds, or InvalidArgument naming the flag and the text, e.g.
//   --reconnect-delay 0s must be positive (valid: 1ms..24h, e.g. 2s or PT2S)
Result<int64_t> ParseIntervalFlag(std::string_view flag, std::string_view text);

struct TailOptions {
  std::string server;          // "" = from --boat, else mDNS (not yet: usage error with a hint)
  std::string client_id;       // "" = the host name (buffered mode only)
  std::string buffer_timeout;  // ISO 8601; non-empty = buffered session
  bool reconnect = true;
  std::string reconnect_delay = "2s";
  std::string ack_interval = "5s";
  bool quiet = false;          // no log lines on stderr (errors that end the command still print)
  bool json = false;           // JSON lines even on a terminal
  bool decode = false;         // decoded fields per frame (spec §5.4 "decoded")
  bool changes = false;        // change mode (spec §5.6, docs/changes.md)
  std::string where;           // display filter, spec/boat.md §4.2
  FilterFlags filters;
  bool boat_given = false;     // --boat was on the command line (its value may be "")
  std::string boat;
  std::string config;          // "" = ~/.config/lplex/lplex.conf (read only with --boat or --config)

  // In-process callers and tests: when set, ends the command like SIGINT
  // (and no signal handler is installed).
  const std::atomic<bool>* stop = nullptr;
};

// Exit codes: 0 after SIGINT/SIGTERM (the normal way to stop; buffered mode
// acks what was printed first); 1 when the stream ended and --reconnect=false,
// or the server refused the session or the filter; 2 for usage errors (bad
// flag values, --boat with --server, no server to talk to).
int RunTail(const TailOptions& options, std::FILE* out, std::FILE* err);

struct ValuesOptions {
  std::string server;
  bool decoded = false;
  bool json = false;
  FilterFlags filters;
  // A journal directory (or file) as the source instead of a server: the
  // devices and latest values its frames give, in the server's JSON.
  std::string journal_dir;
};
// 0 printed; 1 the server could not be reached or refused, or the journal
// directory holds no journal; 2 usage.
int RunValues(const ValuesOptions& options, std::FILE* out, std::FILE* err);

struct DevicesOptions {
  std::string server;
  bool json = false;
  std::string journal_dir;  // as ValuesOptions
};
int RunDevices(const DevicesOptions& options, std::FILE* out, std::FILE* err);

// Where the server comes from: --server, else the boat's config (its mdns
// instance, then its cloud URL), else mDNS browsing for _lplex._tcp
// (apps/lplex/mdns_resolve.h).
struct BoatEntry {
  std::string name;
  std::string mdns;   // mDNS instance name, "" = none
  std::string cloud;  // URL, "" = none
  std::vector<uint32_t> exclude_pgn;
  std::vector<std::string> exclude_name;
};
// The server URL to use now (called again on every reconnect). Errors are
// usage errors (InvalidArgument), e.g. the hint to give --server.
// `mdns_timeout` bounds each mDNS browse (the config's mdns-timeout, 3 s).
Result<client::ServerUrl> ResolveServer(const std::string& server_flag, const BoatEntry* boat,
                                        std::chrono::milliseconds mdns_timeout = std::chrono::seconds(3));

// The lplex client config (~/.config/lplex/lplex.conf, HOCON; spec §5.1).
struct ClientConfig {
  std::vector<BoatEntry> boats;
  std::vector<uint32_t> exclude_pgn;        // global, added to every boat's and the flags'
  std::vector<std::string> exclude_name;
  int64_t mdns_timeout_us = 3'000'000;
};
// Reads `path`; a missing file is an empty config. InvalidArgument naming
// the file and the key for bad content.
Result<ClientConfig> LoadClientConfig(const std::string& path);
// Picks --boat NAME (NAME "" = the only boat). InvalidArgument listing the
// boats when there is no such boat or "" is ambiguous.
Result<BoatEntry> SelectBoat(const ClientConfig& config, const std::string& name, const std::string& path);

// Registers tail, values and devices on the lplex command line and runs the
// one that was parsed. cli_main.cc owns one.
class LiveCommands {
 public:
  void Register(CLI::App* app);
  // Options that may be given several times (--pgn 1 --pgn 2): the
  // "given twice" check skips them.
  bool Repeatable(const CLI::Option* option) const { return repeatable_.count(option) > 0; }
  // True when one of the live commands was on the command line.
  bool Parsed() const;
  int Run(std::FILE* out, std::FILE* err);

 private:
  TailOptions tail_;
  ValuesOptions values_;
  DevicesOptions devices_;
  CLI::App* tail_cmd_ = nullptr;
  CLI::App* values_cmd_ = nullptr;
  CLI::App* devices_cmd_ = nullptr;
  CLI::Option* boat_opt_ = nullptr;
  CLI::Option* where_opt_ = nullptr;
  std::set<const CLI::Option*> repeatable_;
};

}  // namespace lplex::cli
