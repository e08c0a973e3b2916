// Shared helpers of the cloud tests: replica frames, journal files, and the
// process's open files, threads and memory.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "can/frame.h"
#include "journal/reader.h"

namespace lplex::cloud::testing {

// 2026-03-02T12:00:00Z: the boat's clock in these tests.
inline constexpr int64_t kT0 = 1'772'452'800'000'000;

inline const uint8_t kPayload[8] = {1, 2, 3, 4, 5, 6, 7, 8};

// A replica frame: PGN 127250 from source 1, with the boat's seq.
inline can::Frame Replica(uint64_t seq, int64_t ts_us = kT0) {
  can::Frame f;
  f.timestamp_us = ts_us;
  f.header.priority = 2;
  f.header.pgn = 127250;
  f.header.source = 1;
  f.header.destination = 255;
  f.data = kPayload;
  f.seq = seq;
  return f;
}

// The seq-0 address claim a boat sends for a device before its live frames.
inline can::Frame SnapshotClaim(uint8_t source, const uint8_t (&name)[8]) {
  can::Frame f;
  f.timestamp_us = kT0;
  f.header.priority = 6;
  f.header.pgn = 60928;
  f.header.source = source;
  f.header.destination = 255;
  f.data = name;
  f.seq = 0;
  return f;
}

// *.lpj files in `dir`, sorted by name (none when `dir` does not exist).
inline std::vector<std::string> LpjFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".lpj") == 0) out.push_back(dir + "/" + n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Entries in /proc/self/<what> ("fd", "task").
inline size_t CountProcEntries(const char* what) {
  size_t n = 0;
  if (DIR* d = ::opendir((std::string("/proc/self/") + what).c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
  }
  return n;
}

// VmRSS in KiB (0 when unknown).
inline long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// What a finished file holds: each block's (base seq, frame count), and
// every frame's seq.
struct FileContents {
  std::vector<std::pair<uint64_t, uint32_t>> blocks;
  std::vector<uint64_t> seqs;
  bool has_index = false;
};

inline FileContents ReadJournal(const std::string& path) {
  FileContents c;
  auto r = journal::JournalReader::OpenPath(path);
  if (!r.ok()) return c;
  journal::JournalReader& rd = **r;
  c.has_index = rd.has_block_index();
  for (uint64_t b = 0; b < rd.block_count(); ++b) {
    auto info = rd.InspectBlock(b);
    if (info.ok()) c.blocks.emplace_back(info->base_seq, info->frame_count);
  }
  (void)rd.SeekBlock(0);
  while (rd.Next()) c.seqs.push_back(rd.frame().seq);
  return c;
}

}  // namespace lplex::cloud::testing
