// Journals for the stored-block and span tests, written by JournalWriter
// from a real capture (candumpSample1.txt, reassembled through the
// fast-packet assembler) with chosen seqs, and a RandomAccessFile /
// FileSystem that count what is read through them.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "can/capture_lines.h"
#include "can/fast_packet.h"
#include "journal/writer.h"
#include "support/forwarding_file_system.h"

namespace lplex::journal::stored_test {

constexpr int64_t kT0 = 1'750'000'000'000'000;

struct CaptureMessage {
  int64_t ts = 0;
  can::CanHeader header;
  std::vector<uint8_t> data;
};

// Every reassembled message of candumpSample1.txt (about 4,000), 1 ms apart.
inline const std::vector<CaptureMessage>& CaptureMessages() {
  static const std::vector<CaptureMessage> messages = [] {
    std::vector<CaptureMessage> out;
    const auto raw = can::testing::ReadAngleBracketCandump(can::testing::CapturePath("candumpSample1.txt"), kT0, 1'000);
    can::FastPacketAssembler fp;
    can::Frame m;
    for (const can::RawFrame& r : raw) {
      if (r.extended && fp.Process(r, &m)) out.push_back({m.timestamp_us, m.header, {m.data.begin(), m.data.end()}});
    }
    return out;
  }();
  return messages;
}

struct JournalSpec {
  std::string dir;
  std::string prefix = "nmea2k";
  Compression compression = Compression::kZstd;
  uint32_t block_size = 4096;
  uint64_t first_seq = 1;
  size_t frames = 0;        // 0: the whole capture
  int64_t start_us = kT0;   // time of the first frame
  // Seqs to leave out (the writer starts a new block after each gap).
  std::vector<std::pair<uint64_t, uint64_t>> gaps = {};  // [start, end)
};

// Writes one journal file and returns its path ("" and a test failure when
// the writer refuses).
inline std::string WriteCaptureJournal(const JournalSpec& spec) {
  WriterOptions o;
  o.dir = spec.dir;
  o.prefix = spec.prefix;
  o.compression = spec.compression;
  o.block_size = spec.block_size;
  std::string path;
  o.on_rotate = [&](const RotatedFile& f) { path = f.path; };
  auto w = JournalWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (!w.ok()) return "";
  const auto& msgs = CaptureMessages();
  const size_t n = spec.frames == 0 ? msgs.size() : spec.frames;
  uint64_t seq = spec.first_seq;
  for (size_t i = 0; i < n; ++i) {
    for (const auto& g : spec.gaps) {
      if (seq >= g.first && seq < g.second) seq = g.second;
    }
    const CaptureMessage& m = msgs[i % msgs.size()];
    const can::Frame f{.timestamp_us = spec.start_us + static_cast<int64_t>(i) * 1000,
                       .header = m.header,
                       .data = m.data,
                       .seq = seq++};
    const Status s = (*w)->Append(f);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  const Status s = (*w)->Close();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

inline std::vector<uint8_t> FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// What reads went through CountingFile(s) sharing one counter.
struct ReadCount {
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> largest{0};
  void Reset() {
    reads = 0;
    bytes = 0;
    largest = 0;
  }
};

class CountingFile final : public RandomAccessFile {
 public:
  CountingFile(std::unique_ptr<RandomAccessFile> base, ReadCount* count) : base_(std::move(base)), count_(count) {}
  Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override {
    ++count_->reads;
    count_->bytes += n;
    if (n > count_->largest) count_->largest = n;
    return base_->Read(offset, n, scratch);
  }
  Result<uint64_t> Size() const override { return base_->Size(); }

 private:
  std::unique_ptr<RandomAccessFile> base_;
  ReadCount* count_;
};

// Counts files opened for reading (by path) and the reads made through them.
class CountingFileSystem final : public testing::ForwardingFileSystem {
 public:
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    opened.push_back(p);
    auto f = base()->NewRandomAccessFile(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<RandomAccessFile>(std::make_unique<CountingFile>(std::move(f).value(), &count));
  }
  std::vector<std::string> opened;
  ReadCount count;
};

}  // namespace lplex::journal::stored_test
