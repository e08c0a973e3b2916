// Files written by JournalWriter, parsed by the layout of spec/journal.md §1
// alone: this test decodes every byte itself (varints, records, tables,
// outer headers, the LPJI index) and uses only libzstd and CRC-32C, so a
// mistake shared by our writer and our reader cannot hide here.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "can/can_id.h"
#include "core/crc32c.h"
#include "journal/writer.h"
#include "support/temp_dir.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using testutil::WFrame;

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

uint64_t Le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

uint64_t Uvarint(const uint8_t*& p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) return v;
  }
}

struct Frame {
  int64_t ts;
  uint32_t id;
  uint64_t seq;
  Bytes data;
};

// Decodes one uncompressed v2 block per the spec; appends its frames.
void ParseBlock(const Bytes& block, uint32_t bs, std::vector<Frame>* out, size_t* devices) {
  ASSERT_EQ(block.size(), bs);
  ASSERT_EQ(Le(&block[bs - 4], 4), crc32c::Value(block.data(), bs - 4));
  const uint64_t dts = Le(&block[bs - 10], 2);
  const uint64_t count = Le(&block[bs - 8], 4);
  const size_t table = bs - 10 - dts;
  const int64_t base_time = static_cast<int64_t>(Le(&block[0], 8));
  const uint64_t base_seq = Le(&block[8], 8);
  const uint8_t* p = &block[16];
  int64_t t = base_time;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t delta = Uvarint(p);
    if (i > 0) t += static_cast<int64_t>(delta);
    uint32_t word = static_cast<uint32_t>(Le(p, 4));
    p += 4;
    size_t len = 8;
    if (word & 0x80000000u) {
      word &= 0x7FFFFFFF;
    } else {
      len = Uvarint(p);
    }
    out->push_back({t, word, base_seq + i, Bytes(p, p + len)});
    p += len;
    ASSERT_LE(p, &block[table]) << "frame records overrun the device table";
  }
  // Device table: count, then 15 fixed bytes and four length-prefixed strings per entry.
  const uint8_t* d = &block[table];
  const uint64_t entries = Le(d, 2);
  d += 2;
  for (uint64_t e = 0; e < entries; ++e) {
    d += 15;
    for (int s = 0; s < 4; ++s) d += 1 + *d;
  }
  EXPECT_EQ(d, &block[bs - 10]) << "device table size does not match DTS";
  *devices += entries;
}

std::vector<Frame> ParseFile(const std::string& path, Compression want, size_t* devices) {
  std::ifstream in(path, std::ios::binary);
  Bytes f((std::istreambuf_iterator<char>(in)), {});
  std::vector<Frame> frames;
  EXPECT_EQ(std::string(f.begin(), f.begin() + 3), "LPJ");
  EXPECT_EQ(f[3], 2);
  const uint32_t bs = static_cast<uint32_t>(Le(&f[4], 4));
  EXPECT_EQ(Le(&f[8], 4), static_cast<uint64_t>(want));
  EXPECT_EQ(Le(&f[12], 4), 0u);
  if (want == Compression::kNone) {
    EXPECT_EQ((f.size() - 16) % bs, 0u);
    for (size_t off = 16; off + bs <= f.size(); off += bs) {
      ParseBlock(Bytes(f.begin() + off, f.begin() + off + bs), bs, &frames, devices);
    }
    return frames;
  }
  // Index footer: offsets, count, "LPJI".
  EXPECT_EQ(std::string(f.end() - 4, f.end()), "LPJI");
  const uint64_t n = Le(&f[f.size() - 8], 4);
  const size_t index_at = f.size() - 8 - 8 * n;
  size_t expect_off = 16;
  for (uint64_t b = 0; b < n; ++b) {
    const size_t off = Le(&f[index_at + 8 * b], 8);
    EXPECT_EQ(off, expect_off) << "blocks must be back to back";
    const int64_t base_time = static_cast<int64_t>(Le(&f[off], 8));
    const uint64_t base_seq = Le(&f[off + 8], 8);
    size_t dict_len = 0;
    size_t comp_len;
    size_t header;
    if (want == Compression::kZstdDict) {
      dict_len = Le(&f[off + 16], 4);
      comp_len = Le(&f[off + 20], 4);
      header = 24;
    } else {
      comp_len = Le(&f[off + 16], 4);
      header = 20;
    }
    const uint8_t* dict = &f[off + header];
    const uint8_t* payload = dict + dict_len;
    ZSTD_frameHeader zh;
    EXPECT_EQ(ZSTD_getFrameHeader(&zh, payload, comp_len), 0u);
    EXPECT_EQ(zh.frameContentSize, bs) << "content size in the frame header";
    EXPECT_TRUE(zh.checksumFlag);
    Bytes block(bs);
    size_t got;
    if (dict_len > 0) {
      EXPECT_EQ(Le(dict, 4), 0xEC30A437u) << "formatted dictionary magic";
      EXPECT_EQ(ZSTD_getDictID_fromDict(dict, dict_len), 1u);
      EXPECT_EQ(zh.dictID, 1u) << "the frame names the dictionary, as Go's decoder needs";
      ZSTD_DCtx* dctx = ZSTD_createDCtx();
      got = ZSTD_decompress_usingDict(dctx, block.data(), bs, payload, comp_len, dict, dict_len);
      ZSTD_freeDCtx(dctx);
    } else {
      got = ZSTD_decompress(block.data(), bs, payload, comp_len);
    }
    EXPECT_EQ(got, bs);
    EXPECT_EQ(static_cast<int64_t>(Le(block.data(), 8)), base_time) << "outer base time repeats the inner one";
    EXPECT_EQ(Le(block.data() + 8, 8), base_seq);
    ParseBlock(block, bs, &frames, devices);
    expect_off = off + header + dict_len + comp_len;
  }
  EXPECT_EQ(expect_off, index_at) << "index follows the last block";
  return frames;
}

class WriterLayoutTest : public ::testing::TestWithParam<Compression> {};

INSTANTIATE_TEST_SUITE_P(AllCompressions, WriterLayoutTest,
                         ::testing::Values(Compression::kNone, Compression::kZstd, Compression::kZstdDict));

TEST_P(WriterLayoutTest, WrittenFilesParseBySpecLayoutAlone) {
  lplex::testing::TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  o.block_size = 8192;
  o.compression = GetParam();
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  std::vector<Frame> in;
  const int64_t base = 1'700'000'000'000'000;
  for (int i = 0; i < 3000; ++i) {
    const uint32_t pgn = i % 50 == 0 ? 60928 : (i % 7 == 0 ? 129029 : 129025);
    const uint8_t src = static_cast<uint8_t>(i % 5);
    Bytes data(pgn == 129029 ? 43 : 8);
    for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<uint8_t>(i * 31 + k);
    const uint32_t id = can::BuildCanId({static_cast<uint8_t>(pgn == 60928 ? 6 : 2), pgn, src, 255});
    in.push_back({base + i * 1234, id, 1000 + static_cast<uint64_t>(i), data});
    ASSERT_TRUE((*w)->Append(WFrame(in.back().ts, id, in.back().seq, data)).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  size_t devices = 0;
  std::vector<Frame> out;
  for (const auto& e : fs::directory_iterator(dir.path())) out = ParseFile(e.path().string(), GetParam(), &devices);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ts, in[i].ts) << i;
    EXPECT_EQ(out[i].id, in[i].id) << i;
    EXPECT_EQ(out[i].seq, in[i].seq) << i;
    EXPECT_EQ(out[i].data, in[i].data) << i;
  }
  EXPECT_GT(devices, 0u);
}

}  // namespace
}  // namespace lplex::journal
