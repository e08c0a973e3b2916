// lplex values and lplex devices: one snapshot from a server, printed as
// the server's JSON (stdout not a terminal, or --json) or as a table.
#include <fmt/format.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "live_format.h"
#include "tail_command.h"

namespace lplex::cli {
namespace {

constexpr int kUsageError = 2;

// Where a snapshot comes from. Today a server; HOOK(lead, --journal-dir):
// add a JournalSnapshotSource that builds the same JSON (spec §2.7-§2.9
// shapes) from a journal directory, and pick it in MakeSource below.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // The /devices JSON array.
  virtual Result<std::string> DevicesJson() = 0;
  // The /values (or /values/decoded) JSON array.
  virtual Result<std::string> ValuesJson(const client::Filter& filter, bool decoded) = 0;
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

// The source the flags name; usage errors are InvalidArgument.
Result<std::unique_ptr<SnapshotSource>> MakeSource(const std::string& server, const std::string& journal_dir) {
  if (!journal_dir.empty()) {
    // HOOK(lead, --journal-dir): return a journal source here.
    return Status::InvalidArgument("--journal-dir is not available yet in this build");
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

std::string ValuesTable(const std::string& body, bool decoded) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return body + "\n";
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
  Result<std::unique_ptr<SnapshotSource>> source = MakeSource(options.server, options.journal_dir);
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
  return 0;
}

int RunDevices(const DevicesOptions& options, std::FILE* out, std::FILE* err) {
  Result<std::unique_ptr<SnapshotSource>> source = MakeSource(options.server, options.journal_dir);
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
    return 0;
  }
  Result<std::vector<client::Device>> list = client::ParseDevices(*body);
  if (!list.ok()) {
    std::fprintf(err, "lplex devices: %s\n", list.status().message().c_str());
    return 1;
  }
  Write(out, DeviceTable(*list));
  return 0;
}

}  // namespace lplex::cli
