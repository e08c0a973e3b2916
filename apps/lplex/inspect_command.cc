// lplex inspect: header, block table and device table of one journal.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "commands.h"
#include "core/file_system.h"
#include "core/time.h"
#include "journal/reader.h"
#include "journal_paths.h"

namespace lplex::cli {
namespace {

// Keeps what the reader reports, to list it after the block table.
class Problems : public journal::JournalReader::Reporter {
 public:
  void Corruption(uint64_t /*dropped_bytes*/, const Status& problem) override { list.push_back(problem.message()); }
  std::vector<std::string> list;
};

// A reader message without its leading "PATH: " (the header already names
// the file).
std::string WithoutPath(const std::string& message, const std::string& path) {
  const std::string prefix = path + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

}  // namespace

int RunInspect(const std::string& path, std::FILE* out, std::FILE* err) {
  Problems problems;
  auto opened = journal::JournalReader::OpenPath(path, nullptr, &problems);
  if (!opened.ok()) {
    // The reader's and the file system's messages start with the path.
    std::fprintf(err, "lplex inspect: %s\n", opened.status().message().c_str());
    return 1;
  }
  journal::JournalReader& r = **opened;
  auto size = FileSystem::Default()->FileSize(path);
  std::string s = fmt::format(
      "file:         {}\nsize:         {} bytes\nversion:      {}\nblock size:   {}\ncompression:  {}\n"
      "block index:  {}\nblocks:       {}\n\n",
      path, size.ok() ? *size : 0, r.version(), r.block_size(), journal::CompressionName(r.compression()),
      r.compression() == journal::Compression::kNone
          ? "none (uncompressed files have none)"
          : (r.has_block_index() ? "present"
                                 : (problems.list.empty() ? "missing (blocks found by scan)"
                                                          : "missing or damaged (blocks found by scan; see problems)")),
      r.block_count());
  s += fmt::format("{:>6} {:>12} {:<27} {:>12} {:>7} {:>10} {:>6} {:>7} {:>6}\n", "block", "offset", "base time",
                   "base seq", "frames", "compressed", "dict", "ratio", "devs");
  std::fputs(s.c_str(), out);

  // Every distinct (source, NAME) binding across the file, with its first block.
  std::map<std::pair<uint8_t, uint64_t>, std::pair<uint64_t, journal::DeviceEntry>> devices;
  uint64_t frames = 0;
  int rc = 0;
  for (uint64_t n = 0; n < r.block_count(); ++n) {
    auto info = r.InspectBlock(n);
    if (!info.ok()) {
      std::fprintf(out, "%6llu  ERROR: %s\n", static_cast<unsigned long long>(n), WithoutPath(info.status().message(), path).c_str());
      rc = 1;
      continue;
    }
    frames += info->frame_count;
    const double ratio = info->compressed_len ? static_cast<double>(r.block_size()) /
                                                    static_cast<double>(info->compressed_len + info->dict_len)
                                              : 1.0;
    std::fputs(fmt::format("{:>6} {:>12} {:<27} {:>12} {:>7} {:>10} {:>6} {:>6.2f}x {:>6}\n", n, info->offset,
                           timefmt::Rfc3339Nano(info->base_time_us), info->base_seq, info->frame_count,
                           info->compressed_len, info->dict_len, ratio, info->device_count)
                   .c_str(),
               out);
    auto table = r.BlockDevices();
    if (!table.ok()) {
      std::fprintf(out, "%6llu  ERROR: %s\n", static_cast<unsigned long long>(n), WithoutPath(table.status().message(), path).c_str());
      rc = 1;
      continue;
    }
    for (const journal::DeviceEntry& d : *table) {
      devices.try_emplace({d.source, d.name}, n, d);
    }
  }
  std::fprintf(out, "\nframes:       %llu\n\ndevices (%zu):\n", static_cast<unsigned long long>(frames),
               devices.size());
  // The string columns are as wide as their longest value (device strings
  // can reach 255 bytes), so "from block" stays in one column.
  size_t w_model = 24, w_sw = 16, w_ver = 10, w_serial = 16;
  for (const auto& [key, v] : devices) {
    w_model = std::max(w_model, v.second.model_id.size());
    w_sw = std::max(w_sw, v.second.software_version.size());
    w_ver = std::max(w_ver, v.second.model_version.size());
    w_serial = std::max(w_serial, v.second.model_serial.size());
  }
  std::fputs(fmt::format("{:>4} {:<18} {:>7} {:<{}} {:<{}} {:<{}} {:<{}} {:>10}\n", "src", "NAME", "product",
                         "model", w_model, "software", w_sw, "version", w_ver, "serial", w_serial, "from block")
                 .c_str(),
             out);
  for (const auto& [key, v] : devices) {
    const journal::DeviceEntry& d = v.second;
    std::fputs(fmt::format("{:>4} {:016x}   {:>7} {:<{}} {:<{}} {:<{}} {:<{}} {:>10}\n", d.source, d.name,
                           d.product_code, d.model_id, w_model, d.software_version, w_sw, d.model_version, w_ver,
                           d.model_serial, w_serial, v.first)
                   .c_str(),
               out);
  }
  if (!problems.list.empty()) {
    std::fprintf(out, "\nproblems (%zu):\n", problems.list.size());
    for (const std::string& p : problems.list) std::fprintf(out, "  %s\n", p.c_str());
    rc = 1;
  }
  return FinishOutput(out, "lplex inspect", err, rc);
}

}  // namespace lplex::cli
