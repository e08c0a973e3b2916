// lplex tail (spec/boat.md §5.1-§5.4; docs/cli-live.md), the flag helpers
// shared by the live commands, the client config and LiveCommands.
#include "tail_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "config/hocon_reader.h"
#include "core/duration.h"
#include "interrupt_guard.h"
#include "live_format.h"
#include "mdns_resolve.h"
#include "changes/change_format.h"
#include "changes/change_tracker.h"
#include "core/hex.h"
#include "core/time.h"
#include "core/json_string.h"
#include "pgn/decoder.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"
#include "pgn/where_fields.h"
#include "where/where.h"

namespace lplex::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr int kUsageError = 2;
constexpr int64_t kMaxIntervalUs = int64_t{86400} * 1'000'000;
constexpr uint32_t kMaxPgn = 131071;

Result<uint64_t> ParseUnsigned(std::string_view flag, std::string_view text, uint64_t max) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || (ec == std::errc() && p != text.data() + text.size())) {
    return Status::InvalidArgument(fmt::format("{} \"{}\" is not a whole number (valid: 0..{})", flag, text, max));
  }
  if (ec == std::errc::result_out_of_range || v > max) {
    return Status::InvalidArgument(fmt::format("{} {} out of range (valid: 0..{})", flag, text, max));
  }
  return v;
}

Status CheckName(std::string_view flag, std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
  const bool hex = !digits.empty() && digits.size() <= 16 &&
                   std::all_of(digits.begin(), digits.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!hex) {
    return Status::InvalidArgument(
        fmt::format("{} \"{}\" is not a CAN NAME (valid: 1 to 16 hex digits, optional 0x)", flag, text));
  }
  return Status::Ok();
}

// Go durations: a sequence of <number><unit>, units ns us µs ms s m h.
std::optional<double> GoDurationMicros(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + i, v);
    if (ec != std::errc() || p != s.data() + i) return std::nullopt;
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale = 0;
    if (unit == "ns") scale = 1e-3;
    else if (unit == "us" || unit == "µs") scale = 1;
    else if (unit == "ms") scale = 1e3;
    else if (unit == "s") scale = 1e6;
    else if (unit == "m") scale = 60e6;
    else if (unit == "h") scale = 3600e6;
    else return std::nullopt;
    total += v * scale;
  }
  return total;
}

std::string HostClientId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "lplex";
  std::string id;
  for (const char* c = host; *c != '\0' && *c != '.' && id.size() < 64; ++c) {
    const bool ok = std::isalnum(static_cast<unsigned char>(*c)) || *c == '_' || *c == '-';
    id.push_back(ok ? *c : '-');
  }
  return id.empty() ? "lplex" : id;
}

std::string DefaultConfigPath() {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.config/lplex/lplex.conf";
}


// Log lines on stderr, unless --quiet.
class TailLog {
 public:
  TailLog(std::FILE* err, bool quiet) : err_(err), quiet_(quiet) {}
  template <typename... Args>
  void Info(fmt::format_string<Args...> f, Args&&... args) {
    if (quiet_) return;
    Write(fmt::format(f, std::forward<Args>(args)...));
  }
  void Raw(const std::string& s) {
    if (!quiet_) std::fwrite(s.data(), 1, s.size(), err_);
  }
  // Errors that end the command are printed even with --quiet.
  template <typename... Args>
  void Fatal(fmt::format_string<Args...> f, Args&&... args) {
    Write(fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  void Write(const std::string& m) {
    std::fprintf(err_, "lplex tail: %s\n", m.c_str());
    std::fflush(err_);
  }
  std::FILE* err_;
  bool quiet_;
};

// Everything RunTail checked before talking to the server.
struct TailPlan {
  client::Filter filter;
  std::optional<BoatEntry> boat;
  std::optional<where::Expression> where;
  std::string client_id;
  bool buffered = false;
  bool decode = false;  // --decode, or --where names a decoded field
  milliseconds mdns_timeout{3000};  // the config's mdns-timeout
  int64_t reconnect_delay_us = 0;
  int64_t ack_interval_us = 0;
};

Result<TailPlan> Plan(const TailOptions& o) {
  TailPlan p;
  if (o.boat_given && !o.server.empty()) {
    return Status::InvalidArgument(fmt::format(
        "--boat \"{}\" and --server {} both name the server (give one of them)", o.boat, o.server));
  }
  if (!o.server.empty()) {
    Result<client::ServerUrl> u = client::ParseServerUrl(o.server);
    if (!u.ok()) return Status::InvalidArgument("--server " + u.status().message());
  }
  Result<client::Filter> f = ParseServerFilter(o.filters);
  if (!f.ok()) return f.status();
  p.filter = std::move(*f);
  if (o.boat_given || !o.config.empty()) {
    const std::string path = o.config.empty() ? DefaultConfigPath() : o.config;
    Result<ClientConfig> cfg = LoadClientConfig(path);
    if (!cfg.ok()) return cfg.status();
    p.mdns_timeout = std::chrono::duration_cast<milliseconds>(microseconds(cfg->mdns_timeout_us));
    // Global, per-boat and flag exclusions add up (spec §5.1).
    for (uint32_t v : cfg->exclude_pgn) p.filter.exclude_pgn.push_back(v);
    for (const auto& n : cfg->exclude_name) p.filter.exclude_name.push_back(n);
    if (o.boat_given) {
      Result<BoatEntry> b = SelectBoat(*cfg, o.boat, path);
      if (!b.ok()) return b.status();
      for (uint32_t v : b->exclude_pgn) p.filter.exclude_pgn.push_back(v);
      for (const auto& n : b->exclude_name) p.filter.exclude_name.push_back(n);
      p.boat = std::move(*b);
    }
  }
  p.buffered = !o.buffer_timeout.empty();
  if (p.buffered) {
    Result<std::chrono::seconds> d = ParseIso8601Duration(o.buffer_timeout);
    if (!d.ok()) {
      return Status::InvalidArgument(fmt::format("--buffer-timeout \"{}\": {} (valid: ISO 8601, e.g. PT5M)",
                                                 o.buffer_timeout, d.status().message()));
    }
    if (d->count() <= 0) {
      return Status::InvalidArgument(fmt::format(
          "--buffer-timeout {} must be positive (the server would drop the session at once; e.g. PT5M, or leave "
          "--buffer-timeout out for an ephemeral stream)",
          o.buffer_timeout));
    }
    p.client_id = o.client_id.empty() ? HostClientId() : o.client_id;
  }
  if (!o.client_id.empty() && !client::ValidClientId(o.client_id)) {
    return Status::InvalidArgument(
        fmt::format("--client-id \"{}\" is not valid (valid: 1 to 64 of A-Z a-z 0-9 _ -)", o.client_id));
  }
  Result<int64_t> rd = ParseIntervalFlag("--reconnect-delay", o.reconnect_delay);
  if (!rd.ok()) return rd.status();
  p.reconnect_delay_us = *rd;
  Result<int64_t> ai = ParseIntervalFlag("--ack-interval", o.ack_interval);
  if (!ai.ok()) return ai.status();
  p.ack_interval_us = *ai;
  p.decode = o.decode;
  if (!o.where.empty()) {
    Result<where::Expression> e = where::Expression::Parse(o.where);
    if (!e.ok()) return Status::InvalidArgument("invalid --where expression: " + e.status().message());
    if (e->NeedsDecode()) p.decode = true;  // spec §4.2: a decoded field turns decoding on
    p.where = std::move(*e);
  }
  return p;
}

// One run of the live loop: the state kept across reconnects.
class Tail {
 public:
  Tail(const TailOptions& o, TailPlan plan, std::FILE* out, std::FILE* err, const std::atomic<bool>* stop)
      : o_(o), plan_(std::move(plan)), out_(out), log_(err, o.quiet), stop_(stop) {
    json_ = o.json || !::isatty(::fileno(out));
    if (o.changes) tracker_.emplace();
  }

  int Run() {
    for (;;) {
      Status s = Connection();
      if (Stopped()) return Bye(0);
      if (IsUsage(s)) {
        log_.Fatal("{}", s.message());
        return kUsageError;
      }
      if (s.code() == Status::Code::kInvalidArgument) {
        // The server refused what we asked (HTTP 400): retrying cannot help.
        log_.Fatal("{}", s.message());
        return Bye(1);
      }
      log_.Info("disconnected: {}", s.message());
      if (!o_.reconnect) return Bye(1);
      if (!Sleep(plan_.reconnect_delay_us)) return Bye(0);
      log_.Info("reconnecting");
    }
  }

 private:
  static bool IsUsage(const Status& s) { return s.code() == Status::Code::kInvalidArgument && s.message().starts_with("specify"); }

  bool Stopped() const { return stop_ != nullptr && stop_->load(std::memory_order_relaxed); }

  // Sleeps up to `us`; false when stopped meanwhile.
  bool Sleep(int64_t us) {
    const auto end = Clock::now() + microseconds(us);
    while (Clock::now() < end) {
      if (Stopped()) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), end - Clock::now()));
    }
    return !Stopped();
  }

  client::ClientOptions Options(const std::atomic<bool>* cancel) const {
    client::ClientOptions c;
    c.cancel = cancel;
    return c;
  }

  // Connects, streams until the stream ends; the reason it ended.
  Status Connection() {
    Result<client::ServerUrl> url = ResolveServer(o_.server, plan_.boat ? &*plan_.boat : nullptr, plan_.mdns_timeout);
    if (!url.ok()) return url.status();
    client_ = std::make_unique<client::LplexClient>(*url, Options(stop_));
    std::unique_ptr<client::EventStream> stream;
    if (plan_.buffered) {
      Result<client::SessionInfo> info = client_->CreateSession(plan_.client_id, o_.buffer_timeout, plan_.filter);
      if (!info.ok()) return info.status();
      log_.Info("session \"{}\": head={} cursor={}", plan_.client_id, info->seq, info->cursor);
      SetDevices(info->devices);
      if (last_seen_ > 0 && info->seq < last_seen_) {
        // The server's seqs went back: it restarted without the journal
        // that would have continued them. Nothing older can be resumed.
        log_.Info("server head {} is behind the last frame printed ({}): the server lost its history; continuing "
                  "live (frames since {} may be missing)", info->seq, last_seen_, last_seen_);
        last_seen_ = last_acked_ = 0;
      } else if (last_seen_ > 0 && info->cursor != last_seen_) {
        // Resume right after what was printed: the server's cursor is the
        // last periodic ack (older), or gone with a restart (0).
        Status a = client_->Ack(plan_.client_id, last_seen_);
        if (!a.ok()) return a;
        last_acked_ = last_seen_;
        log_.Info("resuming after seq {}", last_seen_);
      }
      Result<std::unique_ptr<client::EventStream>> r = client_->SessionEvents(plan_.client_id);
      if (!r.ok()) return r.status();
      stream = std::move(*r);
    } else {
      Result<std::string> devs = client_->DevicesJson();
      if (!devs.ok()) return devs.status();
      Result<std::vector<client::Device>> list = client::ParseDevices(*devs);
      if (list.ok()) SetDevices(*list);
      Result<std::unique_ptr<client::EventStream>> r = client_->Subscribe(plan_.filter);
      if (!r.ok()) return r.status();
      stream = std::move(*r);
    }
    log_.Info("connected to {}", url->text);
    auto next_ack = Clock::now() + microseconds(plan_.ack_interval_us);
    for (;;) {
      auto wait = milliseconds(500);
      if (plan_.buffered) {
        const auto left = std::chrono::duration_cast<milliseconds>(next_ack - Clock::now());
        wait = std::clamp(left, milliseconds(0), wait);
      }
      Result<std::optional<client::StreamEvent>> ev = stream->Next(wait);
      if (!ev.ok()) return ev.status();
      if (*ev) {
        if ((*ev)->kind == client::StreamEvent::Kind::kDevice) {
          OnDevice((*ev)->json);
        } else {
          OnFrame((*ev)->json);
        }
      }
      TickChanges();
      if (plan_.buffered && Clock::now() >= next_ack) {
        next_ack = Clock::now() + microseconds(plan_.ack_interval_us);
        if (last_seen_ > last_acked_) {
          Status a = client_->Ack(plan_.client_id, last_seen_);
          if (a.ok()) {
            last_acked_ = last_seen_;
          } else if (!client::IsCancelled(a)) {
            log_.Info("ack {} failed: {}", last_seen_, a.message());
          }
        }
      }
    }
  }

  void SetDevices(const std::vector<client::Device>& list) {
    devices_.clear();
    for (const auto& d : list) devices_[d.src] = d;
    PrintTable();
  }

  void PrintTable() {
    if (json_) return;
    std::vector<client::Device> list;
    for (const auto& [src, d] : devices_) list.push_back(d);
    log_.Raw(DeviceTable(list));
  }

  void OnDevice(const std::string& json) {
    Result<client::Device> d = client::ParseDevice(json);
    if (!d.ok()) return;
    devices_[d->src] = *d;
    if (!json_) {
      log_.Info("device discovered: {} at src={}", d->manufacturer.empty() ? "unknown" : d->manufacturer, d->src);
      PrintTable();
    }
  }

  // Decodes `f` into decoded_ (nullptr when it has no decoded form); the
  // manufacturer for proprietary PGNs is the source's, from its claim.
  void Decode(const client::Frame& f) {
    decoded_ = nullptr;
    if (!plan_.decode) return;
    auto bytes = hex::Decode(f.data);
    if (!bytes.ok()) return;
    std::optional<uint16_t> manufacturer;
    if (auto it = devices_.find(f.src); it != devices_.end() && !it->second.name.empty()) {
      manufacturer = it->second.manufacturer_code;
    }
    decoded_ = decoder_.Decode(f.pgn, f.src, *bytes, manufacturer);
  }

  bool PgnPasses(const client::Frame& f) const {
    // The server filtered already; PGN include/exclude is checked again
    // (spec §4.3), which also covers a server that ignores a filter.
    const auto& inc = plan_.filter.pgn;
    const auto& exc = plan_.filter.exclude_pgn;
    if (!inc.empty() && std::find(inc.begin(), inc.end(), f.pgn) == inc.end()) return false;
    return std::find(exc.begin(), exc.end(), f.pgn) == exc.end();
  }

  bool WherePasses(const client::Frame& f) const {
    if (plan_.where) {
      std::optional<pgn::WhereFields> fields;
      if (decoded_ != nullptr) fields.emplace(*decoded_);
      where::Subject s{f.pgn, f.src, f.dst, f.prio, fields ? &*fields : nullptr};
      if (!plan_.where->Matches(s)) return false;
    }
    return true;
  }

  void OnFrame(const std::string& json) {
    Result<client::Frame> f = client::ParseFrame(json);
    if (!f.ok()) return;  // malformed lines are skipped (spec §5.7)
    if (plan_.buffered) {
      // After a reconnect the server may repeat frames up to its cursor;
      // each seq is printed once.
      if (f->seq <= last_seen_) return;
      last_seen_ = f->seq;
    }
    if (!PgnPasses(*f)) return;
    // Change mode (spec §5.6): only snapshots and significant deltas go on,
    // and --where sees them after tracking (§4.3).
    // Decoding comes first: every fragment must reach the decoder's joiner,
    // also those change mode does not print.
    Decode(*f);
    std::optional<changes::ChangeEvent> change;
    if (tracker_) {
      Result<std::vector<uint8_t>> bytes = hex::Decode(f->data);
      if (!bytes.ok()) return;
      // Silence is measured on this machine's clock, for frames and ticks
      // alike: a server replaying a recording (or a skewed clock) would
      // otherwise make every source look idle at once.
      change = tracker_->Process(WallClockUs(), f->src, f->pgn, *bytes, f->seq);
      if (!change) return;
    }
    if (!WherePasses(*f)) return;
    PrintFrame(*f, change ? &*change : nullptr);
  }

  static int64_t WallClockUs() {
    return std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  // Change mode: idle lines for keys that fell silent (live mode ticks on
  // the wall clock, at most every 500 ms).
  void TickChanges() {
    if (!tracker_) return;
    const int64_t now = WallClockUs();
    if (now < next_tick_us_) return;
    next_tick_us_ = now + 500'000;
    for (const changes::ChangeEvent& idle : tracker_->Tick(now)) {
      std::string line = json_ ? changes::IdleJsonLine(idle)
                                : IdleTerminalLine(timefmt::Rfc3339Nano(idle.time_us), idle.src, idle.pgn, devices_,
                                                   pgn::PgnDescription(idle.pgn), changes::ChangeTag(idle));
      std::fwrite(line.data(), 1, line.size(), out_);
    }
    std::fflush(out_);
  }

  // With --decode, JSON lines gain "decoded" (or "decode_error", spec §5.4)
  // and terminal lines show the decoded fields instead of the hex (or the
  // hex and the error in red).
  void PrintFrame(const client::Frame& f, const changes::ChangeEvent* change) {
    std::string line;
    const std::string_view description = pgn::PgnDescription(f.pgn);
    const std::string& error = decoder_.error();
    const std::string tag = change != nullptr ? changes::ChangeTag(*change) : std::string();
    if (json_) {
      if (change != nullptr) {
        changes::AppendChangeFrameJson(*change, changes::FrameText{f.seq, f.ts, f.prio, f.pgn, f.src, f.dst, f.data},
                                       &line);
        line += "}\n";
      } else {
        line = FrameJsonLine(f);
      }
      if (plan_.decode && (decoded_ != nullptr || !error.empty())) {
        line.resize(line.size() - 2);  // "}\n"
        if (decoded_ != nullptr) {
          line += ",\"decoded\":";
          pgn::AppendFieldsJson(*decoded_, &line, pgn::JsonStyle{.wrap_lookups = true});
        } else {
          line += ",\"decode_error\":";
          AppendJsonString(error, &line);
        }
        line += "}\n";
      }
    } else if (decoded_ != nullptr) {
      std::string fields;
      pgn::AppendFieldsJson(*decoded_, &fields, pgn::JsonStyle{.wrap_lookups = true});
      line = FrameTerminalLine(f, devices_, description, fields, tag);
    } else if (plan_.decode && !error.empty()) {
      line = FrameTerminalLine(f, devices_, description, f.data + " \033[31m" + error + "\033[0m", tag);
    } else {
      line = FrameTerminalLine(f, devices_, description, f.data, tag);
    }
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
  }

  // Buffered mode: tells the server what was printed, so the next run (or
  // another tail with the same id) starts after it. Bounded to about 2 s,
  // and not cancelled by the stop flag that brought us here.
  int Bye(int code) {
    if (plan_.buffered && client_ != nullptr && last_seen_ > 0) {
      client::ClientOptions opt;
      opt.connect_timeout = milliseconds(1000);
      opt.request_timeout = milliseconds(1000);
      client::LplexClient final_client(client_->url(), opt);
      Status a = final_client.Ack(plan_.client_id, last_seen_);
      if (a.code() == Status::Code::kNotFound) {
        // The session is gone (expired, or a server restart): make it again
        // so the ack has somewhere to go.
        Result<client::SessionInfo> info = final_client.CreateSession(plan_.client_id, o_.buffer_timeout, plan_.filter);
        a = info.ok() ? final_client.Ack(plan_.client_id, last_seen_) : info.status();
      }
      if (a.ok()) {
        log_.Info("acked seq {}", last_seen_);
      } else {
        log_.Info("final ack of seq {} failed: {}", last_seen_, a.message());
      }
    }
    log_.Info("bye");
    return code;
  }

  const TailOptions& o_;
  TailPlan plan_;
  std::FILE* out_;
  TailLog log_;
  const std::atomic<bool>* stop_;
  bool json_ = false;
  std::unique_ptr<client::LplexClient> client_;
  std::map<uint8_t, client::Device> devices_;
  pgn::StreamDecoder decoder_;                  // rejoins fragments of PGNs lplex leaves split
  std::optional<changes::ChangeTracker> tracker_;  // --changes
  int64_t next_tick_us_ = 0;
  const pgn::DecodedMessage* decoded_ = nullptr;  // the current frame's, when decoding
  uint64_t last_seen_ = 0;   // buffered: the highest seq received
  uint64_t last_acked_ = 0;
};

Result<std::vector<std::string>> StringList(const config::HoconValue& v, const std::string& key, const std::string& path) {
  std::vector<std::string> out;
  if (v.type == config::HoconValue::Type::kList) {
    for (const auto& e : v.elements) {
      if (e.type != config::HoconValue::Type::kString && e.type != config::HoconValue::Type::kNumber) {
        return Status::InvalidArgument(fmt::format("{}: {} holds a {} (valid: strings)", path, key, HoconTypeName(e.type)));
      }
      out.push_back(e.text);
    }
  } else if (v.type == config::HoconValue::Type::kString || v.type == config::HoconValue::Type::kNumber) {
    out.push_back(v.text);
  } else {
    return Status::InvalidArgument(fmt::format("{}: {} is a {} (valid: a string or a list)", path, key, HoconTypeName(v.type)));
  }
  return out;
}

Status AddExclusions(const std::map<std::string, config::HoconValue>& doc, const std::string& prefix,
                     const std::string& path, std::vector<uint32_t>* pgns, std::vector<std::string>* names) {
  if (auto it = doc.find(prefix + "exclude-pgn"); it != doc.end()) {
    Result<std::vector<std::string>> l = StringList(it->second, it->first, path);
    if (!l.ok()) return l.status();
    for (const auto& t : *l) {
      Result<uint64_t> v = ParseUnsigned(fmt::format("{}: {}", path, it->first), t, kMaxPgn);
      if (!v.ok()) return v.status();
      pgns->push_back(static_cast<uint32_t>(*v));
    }
  }
  if (auto it = doc.find(prefix + "exclude-name"); it != doc.end()) {
    Result<std::vector<std::string>> l = StringList(it->second, it->first, path);
    if (!l.ok()) return l.status();
    for (const auto& t : *l) {
      if (Status s = CheckName(fmt::format("{}: {}", path, it->first), t); !s.ok()) return s;
      names->push_back(t);
    }
  }
  return Status::Ok();
}


}  // namespace

Result<client::Filter> ParseServerFilter(const FilterFlags& flags) {
  Result<broker::FilterSpec> spec = ParseFilterFlags(flags);
  if (!spec.ok()) return spec.status();
  client::Filter f;
  f.pgn = spec->pgn;
  f.exclude_pgn = spec->exclude_pgn;
  f.manufacturer = spec->manufacturer;
  f.instance = spec->instance;
  for (uint64_t n : spec->name) f.name.push_back(fmt::format("{:016x}", n));
  for (uint64_t n : spec->exclude_name) f.exclude_name.push_back(fmt::format("{:016x}", n));
  return f;
}

Result<int64_t> ParseIntervalFlag(std::string_view flag, std::string_view text) {
  const std::string valid = "valid: 1ms..24h, e.g. 2s or PT2S";
  double us = 0;
  if (!text.empty() && text[0] == 'P') {
    Result<std::chrono::seconds> d = ParseIso8601Duration(text);
    if (!d.ok()) return Status::InvalidArgument(fmt::format("{} \"{}\": {} ({})", flag, text, d.status().message(), valid));
    us = static_cast<double>(d->count()) * 1e6;
  } else {
    if (!text.empty() && text[0] == '-') return Status::InvalidArgument(fmt::format("{} {} must be positive ({})", flag, text, valid));
    std::optional<double> v = GoDurationMicros(text);
    if (!v) return Status::InvalidArgument(fmt::format("{} \"{}\" is not a duration ({})", flag, text, valid));
    us = *v;
  }
  if (us <= 0) return Status::InvalidArgument(fmt::format("{} {} must be positive ({})", flag, text, valid));
  if (us < 1000 || us > static_cast<double>(kMaxIntervalUs)) {
    return Status::InvalidArgument(fmt::format("{} {} out of range ({})", flag, text, valid));
  }
  return static_cast<int64_t>(std::llround(us));
}

Result<client::ServerUrl> ResolveServer(const std::string& server_flag, const BoatEntry* boat,
                                        milliseconds mdns_timeout) {
  if (!server_flag.empty()) return client::ParseServerUrl(server_flag);
  if (boat != nullptr) {
    // The boat's mDNS instance first, then its cloud URL (spec §5.1).
    if (!boat->mdns.empty()) {
      Result<std::string> u = DiscoverServerOverMdns(boat->mdns, mdns_timeout);
      if (u.ok()) return client::ParseServerUrl(*u);
      if (boat->cloud.empty()) return Status::InvalidArgument(u.status().message());
    }
    if (!boat->cloud.empty()) {
      Result<client::ServerUrl> u = client::ParseServerUrl(boat->cloud);
      if (!u.ok()) return Status::InvalidArgument(fmt::format("boat \"{}\": cloud {}", boat->name, u.status().message()));
      return u;
    }
  }
  // Any lplex server announcing _lplex._tcp in local.: the first answer.
  Result<std::string> u = DiscoverServerOverMdns(std::nullopt, mdns_timeout);
  if (!u.ok()) return Status::InvalidArgument(u.status().message());
  return client::ParseServerUrl(*u);
}

Result<ClientConfig> LoadClientConfig(const std::string& path) {
  ClientConfig cfg;
  std::ifstream in(path, std::ios::binary);
  if (!in) return cfg;  // a missing file is not an error (spec §5.1)
  std::stringstream text;
  text << in.rdbuf();
  Result<std::map<std::string, config::HoconValue>> doc = config::ReadHocon(text.str(), path);
  if (!doc.ok()) return Status::InvalidArgument(doc.status().message());
  if (auto it = doc->find("mdns-timeout"); it != doc->end()) {
    Result<int64_t> d = ParseIntervalFlag(fmt::format("{}: mdns-timeout", path), it->second.text);
    if (!d.ok()) return d.status();
    cfg.mdns_timeout_us = *d;
  }
  if (Status s = AddExclusions(*doc, "", path, &cfg.exclude_pgn, &cfg.exclude_name); !s.ok()) return s;
  std::set<std::string> names;
  for (const auto& [key, value] : *doc) {
    if (!key.starts_with("boats.")) continue;
    std::string_view rest = std::string_view(key).substr(6);
    size_t dot = std::string_view::npos;
    if (rest.starts_with("\"")) {
      const size_t close = rest.find('"', 1);
      dot = close == std::string_view::npos ? close : rest.find('.', close);
    } else {
      dot = rest.find('.');
    }
    if (dot == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("{}: {} must be an object with mdns or cloud", path, key));
    }
    names.insert(std::string(rest.substr(0, dot)));
  }
  for (const std::string& name : names) {
    BoatEntry b;
    b.name = name.size() >= 2 && name.front() == '"' ? name.substr(1, name.size() - 2) : name;
    const std::string prefix = "boats." + name + ".";
    if (auto it = doc->find(prefix + "mdns"); it != doc->end()) b.mdns = it->second.text;
    if (auto it = doc->find(prefix + "cloud"); it != doc->end()) b.cloud = it->second.text;
    if (b.mdns.empty() && b.cloud.empty()) {
      return Status::InvalidArgument(fmt::format("{}: boats.{} has neither mdns nor cloud (give at least one)", path, name));
    }
    if (Status s = AddExclusions(*doc, prefix, path, &b.exclude_pgn, &b.exclude_name); !s.ok()) return s;
    cfg.boats.push_back(std::move(b));
  }
  return cfg;
}

Result<BoatEntry> SelectBoat(const ClientConfig& config, const std::string& name, const std::string& path) {
  std::vector<std::string> names;
  for (const auto& b : config.boats) names.push_back(b.name);
  const std::string known = names.empty() ? "none defined" : fmt::format("{}", fmt::join(names, ", "));
  if (name.empty()) {
    if (config.boats.size() == 1) return config.boats[0];
    return Status::InvalidArgument(fmt::format("--boat \"\" needs exactly one boat in {} (boats: {})", path, known));
  }
  for (const auto& b : config.boats) {
    if (b.name == name) return b;
  }
  return Status::InvalidArgument(fmt::format("--boat \"{}\" is not in {} (boats: {})", name, path, known));
}

int RunTail(const TailOptions& options, std::FILE* out, std::FILE* err) {
  Result<TailPlan> plan = Plan(options);
  if (!plan.ok()) {
    std::fprintf(err, "lplex tail: %s\n", plan.status().message().c_str());
    return kUsageError;
  }
  if (plan->boat || options.server.empty()) {
    // Fail fast on "no server at all" rather than looping on it.
    Result<client::ServerUrl> u = ResolveServer(options.server, plan->boat ? &*plan->boat : nullptr, plan->mdns_timeout);
    if (!u.ok()) {
      std::fprintf(err, "lplex tail: %s\n", u.status().message().c_str());
      return kUsageError;
    }
  }
  if (options.stop != nullptr) return Tail(options, std::move(*plan), out, err, options.stop).Run();
  InterruptGuard guard;
  return Tail(options, std::move(*plan), out, err, guard.flag()).Run();
}

void LiveCommands::Register(CLI::App* app) {
  tail_cmd_ = app->add_subcommand(
      "tail", "Print frames from a running lplex-server as they arrive (JSON lines when stdout is not a terminal)");
  tail_cmd_->add_option("--server", tail_.server, "Server URL, e.g. http://inuc1.local:8089");
  tail_cmd_->add_option("--client-id", tail_.client_id, "Session id for buffered mode (default: the host name)");
  tail_cmd_->add_option("--buffer-timeout", tail_.buffer_timeout,
                        "Buffered session: the server keeps frames this long while disconnected (ISO 8601, e.g. PT5M)");
  tail_cmd_->add_flag("--reconnect{true}", tail_.reconnect, "Reconnect after a disconnect (--reconnect=false to exit)")
      ->default_str("true");
  tail_cmd_->add_option("--reconnect-delay", tail_.reconnect_delay, "Wait between reconnects (2s, 500ms, PT2S)")
      ->capture_default_str();
  tail_cmd_->add_option("--ack-interval", tail_.ack_interval, "Buffered mode: ack the newest printed frame this often")
      ->capture_default_str();
  tail_cmd_->add_flag("--quiet", tail_.quiet, "No log lines on stderr");
  tail_cmd_->add_flag("--json", tail_.json, "JSON lines even on a terminal");
  tail_cmd_->add_flag("--changes", tail_.changes,
                      "Change mode: a snapshot per (source, PGN), then only significant changes (deltas) and idle "
                      "lines for sources that fell silent (docs/changes.md)");
  tail_cmd_->add_flag("--decode", tail_.decode,
                      "Decode every PGN canboat knows (lplex's names for lplex's PGNs): \"decoded\" in JSON, the "
                      "fields instead of the hex on a terminal");
  where_opt_ = tail_cmd_->add_option("--where", tail_.where, "Display filter, e.g. 'pgn == 129025 && src != 3'");
  boat_opt_ = tail_cmd_->add_option("--boat", tail_.boat, "A boat named in the config file (\"\" = the only one)");
  tail_cmd_->add_option("--config", tail_.config, "Config file (default ~/.config/lplex/lplex.conf)");
  AddFilterOptions(tail_cmd_, &tail_.filters, &repeatable_);

  values_cmd_ = app->add_subcommand("values", "Print the latest value of every (source, PGN) a server has seen");
  values_cmd_->add_option("--server", values_.server, "Server URL, e.g. http://inuc1.local:8089");
  values_cmd_->add_flag("--decoded", values_.decoded, "Decoded fields instead of hex (/values/decoded)");
  values_cmd_->add_flag("--json", values_.json, "The server's JSON even on a terminal");
  values_cmd_->add_option("--journal-dir", values_.journal_dir,
                          "Read a journal directory (or file) instead of a server: the latest value of each "
                          "(source, PGN) in it");
  AddFilterOptions(values_cmd_, &values_.filters, &repeatable_);

  devices_cmd_ = app->add_subcommand("devices", "Print the devices a server has seen on the bus");
  devices_cmd_->add_option("--server", devices_.server, "Server URL, e.g. http://inuc1.local:8089");
  devices_cmd_->add_flag("--json", devices_.json, "The server's JSON even on a terminal");
  devices_cmd_->add_option("--journal-dir", devices_.journal_dir,
                           "Read a journal directory (or file) instead of a server: the devices it names");
}

bool LiveCommands::Parsed() const {
  return (tail_cmd_ != nullptr && tail_cmd_->parsed()) || (values_cmd_ != nullptr && values_cmd_->parsed()) ||
         (devices_cmd_ != nullptr && devices_cmd_->parsed());
}

int LiveCommands::Run(std::FILE* out, std::FILE* err) {
  if (tail_cmd_->parsed()) {
    tail_.boat_given = boat_opt_->count() > 0;
    // `--where ""` is an empty expression (an error, as in dump), not "no filter".
    if (where_opt_->count() > 0 && tail_.where.empty()) tail_.where = " ";
    return RunTail(tail_, out, err);
  }
  if (values_cmd_->parsed()) return RunValues(values_, out, err);
  if (devices_cmd_->parsed()) return RunDevices(devices_, out, err);
  return kUsageError;
}

}  // namespace lplex::cli
