// lplex values and lplex devices: one snapshot from a server, printed as
// the server's JSON (stdout not a terminal, or --json) or as a table.
#include <fmt/format.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "broker/device_table.h"
#include "broker/value_store.h"
#include "journal/reader.h"
#include "journal_paths.h"
#include "live_format.h"
#include "tail_command.h"

namespace lplex::cli {
namespace {

constexpr int kUsageError = 2;

// Where a snapshot comes from: a server, or journal files read back.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // The /devices JSON array.
  virtual Result<std::string> DevicesJson() = 0;
  // The /values (or /values/decoded) JSON array.
  virtual Result<std::string> ValuesJson(const client::Filter& filter, bool decoded) = 0;
  // True when part of the source could not be read (the snapshot printed
  // is what could); the command then exits 1.
  virtual bool incomplete() const { return false; }
};

class ServerSnapshotSource : public SnapshotSource {
 public:
  explicit ServerSnapshotSource(client::ServerUrl url) : client_(std::move(url)) {}
  Result<std::string> DevicesJson() override { return client_.DevicesJson(); }
  Result<std::string> ValuesJson(const client::Filter& filter, bool decoded) override {
    return client_.ValuesJson(filter, decoded);
  }

 private:
  client::LplexClient client_;
};

// The devices and latest values a journal directory (or file) holds, in
// the server's JSON: every frame goes through the same device table and
// value store the server keeps (so the bodies are the server's own
// serializers' output), files in journal order, frames in file order. A
// device claimed before the first file is known from the block device
// tables the writer stores.
class JournalSnapshotSource : public SnapshotSource {
 public:
  // `command` ("lplex values") starts every message.
  JournalSnapshotSource(std::string command, std::string path, broker::FilterSpec filter, std::FILE* err)
      : command_(std::move(command)), path_(std::move(path)), filter_(std::move(filter)), err_(err) {}

  Result<std::string> DevicesJson() override {
    if (Status s = Load(); !s.ok()) return s;
    return broker::DevicesJson(devices_);
  }
  bool incomplete() const override { return damaged_ > 0; }
  Result<std::string> ValuesJson(const client::Filter&, bool decoded) override {
    if (Status s = Load(); !s.ok()) return s;
    const auto groups = values_.Snapshot(filter_, devices_);
    return decoded ? broker::DecodedValuesJson(groups, broker::GroupDevices(groups, devices_))
                   : broker::ValuesJson(groups, devices_);
  }

 private:
  Status Load() {
    std::vector<std::string> files = ExpandJournalPaths({path_}, command_, err_);
    if (files.empty()) return Status::NotFound("--journal-dir " + path_ + ": no journal files");
    size_t& damaged = damaged_;
    size_t opened = 0;
    for (const std::string& file : files) {
      auto r = journal::JournalReader::OpenPath(file);
      if (!r.ok()) {
        std::fprintf(err_, "%s: %s (skipped)\n", command_.c_str(), r.status().message().c_str());
        ++damaged;
        continue;
      }
      ++opened;
      journal::JournalReader& reader = **r;
      int64_t block = -1;
      while (true) {
        if (!reader.Next()) {
          if (reader.status().ok()) break;
          std::fprintf(err_, "%s: %s (skipping the block)\n", command_.c_str(), reader.status().message().c_str());
          ++damaged;
          reader.SkipBlock();
          continue;
        }
        const can::Frame& f = reader.frame();
        if (reader.current_block() != block) {
          block = reader.current_block();
          SeedDevices(reader, f.timestamp_us);
        }
        devices_.Observe(0, f.timestamp_us, f.header.source, f.header.pgn, f.data, f.timestamp_us);
        values_.Record(0, f.header.source, f.header.pgn, f.timestamp_us, f.data, f.seq);
      }
    }
    if (opened == 0) return Status::Corruption("--journal-dir " + path_ + ": no journal file could be read");
    if (damaged > 0) std::fprintf(err_, "%s: %zu damaged files or blocks were skipped\n", command_.c_str(), damaged);
    return Status::Ok();
  }

  // Names the devices of a block's table that the stream has not claimed
  // (their claim was in an earlier file), through the claim they made.
  void SeedDevices(const journal::JournalReader& reader, int64_t ts_us) {
    auto entries = reader.BlockDevices();
    if (!entries.ok()) return;
    for (const journal::DeviceEntry& e : *entries) {
      const can::Device* known = devices_.Find(0, e.source);
      if (e.name == 0 || (known != nullptr && known->name == e.name)) continue;
      uint8_t claim[8];
      for (int i = 0; i < 8; ++i) claim[i] = static_cast<uint8_t>(e.name >> (8 * i));
      devices_.Observe(0, ts_us, e.source, 60928, claim, ts_us);
    }
  }

  std::string command_;
  std::string path_;
  broker::FilterSpec filter_;
  std::FILE* err_;
  broker::DeviceTable devices_;
  broker::ValueStore values_;
  size_t damaged_ = 0;
};

// The source the flags name; usage errors are InvalidArgument.
Result<std::unique_ptr<SnapshotSource>> MakeSource(const std::string& command, const std::string& server,
                                                   const std::string& journal_dir, const FilterFlags& filters,
                                                   std::FILE* err) {
  if (!journal_dir.empty()) {
    if (!server.empty()) {
      return Status::InvalidArgument("--journal-dir " + journal_dir + " and --server " + server +
                                     " both name the source (give one of them)");
    }
    Result<broker::FilterSpec> spec = ParseFilterFlags(filters);
    if (!spec.ok()) return spec.status();
    std::unique_ptr<SnapshotSource> s = std::make_unique<JournalSnapshotSource>(command, journal_dir, *spec, err);
    return s;
  }
  Result<client::ServerUrl> url = ResolveServer(server, nullptr);
  if (!url.ok()) {
    return Status::InvalidArgument(server.empty() ? url.status().message() : "--server " + url.status().message());
  }
  std::unique_ptr<SnapshotSource> s = std::make_unique<ServerSnapshotSource>(std::move(*url));
  return s;
}

void Write(std::FILE* f, const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}

std::string ValuesTableOf(const nlohmann::json& doc, bool decoded);

// The table of a /values body; a body of another shape (a server that is
// not lplex, a proxy's error page) is printed as it came.
std::string ValuesTable(const std::string& body, bool decoded) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  try {
    return ValuesTableOf(doc, decoded);
  } catch (const nlohmann::json::exception&) {
    return body + "\n";
  }
}

std::string ValuesTableOf(const nlohmann::json& doc, bool decoded) {
  if (!doc.is_array()) return doc.is_discarded() ? std::string("(not JSON)\n") : doc.dump() + "\n";
  if (doc.empty()) return "(no values)\n";
  std::string out;
  for (const auto& dev : doc) {
    if (!dev.is_object()) continue;
    const auto src = dev.value("src", 0);
    std::string head = fmt::format("src {}", src);
    if (const std::string m = dev.value("manufacturer", ""); !m.empty()) head += "  " + m;
    if (const std::string m = dev.value("model_id", ""); !m.empty()) head += "  " + m;
    if (const std::string n = dev.value("name", ""); !n.empty()) head += "  NAME " + n;
    out += head + "\n";
    for (const auto& v : dev.value("values", nlohmann::json::array())) {
      const std::string ts = v.value("ts", "");
      std::string payload;
      if (decoded) {
        payload = v.value("description", "") + " " + (v.contains("fields") ? v["fields"].dump() : "null");
      } else {
        payload = v.value("data", "");
      }
      out += fmt::format("  {:<6}  {}  #{:<7}  {}\n", v.value("pgn", 0u), LocalClock(ts, true), v.value("seq", uint64_t{0}),
                         payload);
    }
  }
  return out;
}

}  // namespace

int RunValues(const ValuesOptions& options, std::FILE* out, std::FILE* err) {
  Result<client::Filter> filter = ParseServerFilter(options.filters);
  if (!filter.ok()) {
    std::fprintf(err, "lplex values: %s\n", filter.status().message().c_str());
    return kUsageError;
  }
  Result<std::unique_ptr<SnapshotSource>> source =
      MakeSource("lplex values", options.server, options.journal_dir, options.filters, err);
  if (!source.ok()) {
    std::fprintf(err, "lplex values: %s\n", source.status().message().c_str());
    return kUsageError;
  }
  Result<std::string> body = (*source)->ValuesJson(*filter, options.decoded);
  if (!body.ok()) {
    std::fprintf(err, "lplex values: %s\n", body.status().message().c_str());
    return 1;
  }
  const bool json = options.json || !::isatty(::fileno(out));
  Write(out, json ? *body + "\n" : ValuesTable(*body, options.decoded));
  return (*source)->incomplete() ? 1 : 0;
}

int RunDevices(const DevicesOptions& options, std::FILE* out, std::FILE* err) {
  Result<std::unique_ptr<SnapshotSource>> source = MakeSource("lplex devices", options.server, options.journal_dir, {}, err);
  if (!source.ok()) {
    std::fprintf(err, "lplex devices: %s\n", source.status().message().c_str());
    return kUsageError;
  }
  Result<std::string> body = (*source)->DevicesJson();
  if (!body.ok()) {
    std::fprintf(err, "lplex devices: %s\n", body.status().message().c_str());
    return 1;
  }
  const bool json = options.json || !::isatty(::fileno(out));
  if (json) {
    Write(out, *body + "\n");
    return (*source)->incomplete() ? 1 : 0;
  }
  Result<std::vector<client::Device>> list = client::ParseDevices(*body);
  if (!list.ok()) {
    std::fprintf(err, "lplex devices: %s\n", list.status().message().c_str());
    return 1;
  }
  Write(out, DeviceTable(*list));
  return (*source)->incomplete() ? 1 : 0;
}

}  // namespace lplex::cli
