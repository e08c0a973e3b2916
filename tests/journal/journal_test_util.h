// Hand-built .lpj byte vectors for reader tests and fuzz seeds.
//
// Everything here follows spec/journal.md §1 directly and does NOT use the
// project's own encoders (journal/format.h, journal/writer.h), so a reader
// test checks the reader against the spec rather than against our writer.
// Only CRC-32C (core/crc32c.h, tested on its own) and libzstd/ZDICT are
// borrowed.
//
//   VectorBlock       what goes into one uncompressed block (frames, devices,
//                     and knobs to break it on purpose)
//   BuildVectorBlock  -> exactly block_size bytes with trailer and CRC
//   VectorJournal     file header + blocks (none / zstd / zstd+dict, v1 or v2)
//                     + optional LPJI footer; hands out a MemoryFile
#pragma once

#include <zdict.h>
#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "core/file_system.h"
#include "journal/format.h"

namespace lplex::journal::testutil {

using Bytes = std::vector<uint8_t>;

[[noreturn]] inline void VectorBug(const char* what) {
  std::fprintf(stderr, "journal_test_util: %s\n", what);
  std::abort();
}

inline void PutLE(Bytes& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void PutLEAt(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutUvarint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

// One frame record. `can_id` is the 29-bit identifier; the standard form
// (flag bit 31, no length) is used exactly when data has 8 bytes, unless
// `force_extended` asks for the extended form anyway.
struct VectorFrame {
  uint64_t delta_us = 0;
  uint32_t can_id = 0;
  Bytes data;
  bool force_extended = false;
};

inline Bytes EncodeVectorFrame(const VectorFrame& f) {
  Bytes out;
  PutUvarint(out, f.delta_us);
  const bool standard = f.data.size() == 8 && !f.force_extended;
  PutLE(out, standard ? (f.can_id | 0x80000000u) : f.can_id, 4);
  if (!standard) PutUvarint(out, f.data.size());
  out.insert(out.end(), f.data.begin(), f.data.end());
  return out;
}

// §1.6: count u16, then per entry source, NAME u64, ActiveFrom u32,
// ProductCode u16 and four 1-byte-length strings.
inline Bytes EncodeVectorDeviceTable(const std::vector<DeviceEntry>& devices) {
  Bytes out;
  PutLE(out, devices.size(), 2);
  for (const DeviceEntry& d : devices) {
    out.push_back(d.source);
    PutLE(out, d.name, 8);
    PutLE(out, d.active_from, 4);
    PutLE(out, d.product_code, 2);
    for (const std::string* s : {&d.model_id, &d.software_version, &d.model_version, &d.model_serial}) {
      if (s->size() > 255) VectorBug("device string longer than 255 bytes");
      out.push_back(static_cast<uint8_t>(s->size()));
      out.insert(out.end(), s->begin(), s->end());
    }
  }
  return out;
}

// What one block holds. The optional fields override what the trailer
// would honestly say, to build corrupt vectors (the CRC is still computed
// over the result unless bad_crc).
struct VectorBlock {
  int64_t base_time_us = 0;
  uint64_t base_seq = 0;  // written for v2 only
  std::vector<VectorFrame> frames;
  std::vector<DeviceEntry> devices;
  Bytes raw_after_frames;                // bytes placed right after the last record
  std::optional<uint16_t> dts;           // stored DTS (the table is still written at its real place)
  std::optional<uint32_t> frame_count;   // stored FrameCount
  bool bad_crc = false;                  // store CRC+1
};

inline size_t VectorDataStart(uint8_t version) { return version == 1 ? 8 : 16; }

// Sets bytes [size-4, size) to CRC-32C of [0, size-4).
inline void SealVectorBlock(Bytes& block) {
  const uint32_t crc = crc32c::Value(block.data(), block.size() - 4);
  PutLEAt(block.data() + block.size() - 4, crc, 4);
}

// Exactly block_size bytes laid out as §1.4.
inline Bytes BuildVectorBlock(uint8_t version, uint32_t block_size, const VectorBlock& b) {
  Bytes block(block_size, 0);
  PutLEAt(block.data(), static_cast<uint64_t>(b.base_time_us), 8);
  if (version != 1) PutLEAt(block.data() + 8, b.base_seq, 8);
  size_t at = VectorDataStart(version);
  Bytes frames;
  for (const VectorFrame& f : b.frames) {
    Bytes rec = EncodeVectorFrame(f);
    frames.insert(frames.end(), rec.begin(), rec.end());
  }
  frames.insert(frames.end(), b.raw_after_frames.begin(), b.raw_after_frames.end());
  const Bytes table = EncodeVectorDeviceTable(b.devices);
  if (at + frames.size() + table.size() + 10 > block_size) VectorBug("frames and device table overflow the block");
  if (!frames.empty()) std::memcpy(block.data() + at, frames.data(), frames.size());
  const size_t table_at = block_size - 10 - table.size();
  std::memcpy(block.data() + table_at, table.data(), table.size());
  PutLEAt(block.data() + block_size - 10, b.dts.value_or(static_cast<uint16_t>(table.size())), 2);
  PutLEAt(block.data() + block_size - 8, b.frame_count.value_or(static_cast<uint32_t>(b.frames.size())), 4);
  SealVectorBlock(block);
  if (b.bad_crc) PutLEAt(block.data() + block_size - 4, crc32c::Value(block.data(), block_size - 4) + 1, 4);
  return block;
}

inline Bytes VectorFileHeader(uint8_t version, uint32_t block_size, uint32_t flags) {
  Bytes h = {'L', 'P', 'J', version};
  PutLE(h, block_size, 4);
  PutLE(h, flags, 4);
  PutLE(h, 0, 4);
  return h;
}

inline Bytes ZstdCompressBytes(std::span<const uint8_t> src, int level = 3) {
  Bytes out(ZSTD_compressBound(src.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), src.data(), src.size(), level);
  if (ZSTD_isError(n)) VectorBug("ZSTD_compress failed");
  out.resize(n);
  return out;
}

// Compresses with a dictionary; the frame header carries the dictionary's ID.
inline Bytes ZstdCompressWithDictBytes(std::span<const uint8_t> src, std::span<const uint8_t> dict, int level = 3) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  Bytes out(ZSTD_compressBound(src.size()));
  const size_t n =
      ZSTD_compress_usingDict(cctx, out.data(), out.size(), src.data(), src.size(), dict.data(), dict.size(), level);
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) VectorBug("ZSTD_compress_usingDict failed");
  out.resize(n);
  return out;
}

// A formatted zstd dictionary (magic 0xEC30A437, ID `dict_id`) made from
// the frame area of `block` the way lplex's writer samples it (§1.8):
// 256-byte windows every 128 bytes from block offset 8 up to `cursor`.
// Returns empty when there are fewer than 4 samples or ZDICT refuses.
inline Bytes MakeVectorDictionary(const Bytes& block, size_t cursor, uint32_t dict_id = 1) {
  Bytes samples;
  std::vector<size_t> sizes;
  for (size_t at = 8; at + 256 <= cursor; at += 128) {
    samples.insert(samples.end(), block.begin() + static_cast<ptrdiff_t>(at),
                   block.begin() + static_cast<ptrdiff_t>(at + 256));
    sizes.push_back(256);
  }
  if (sizes.size() < 4) return {};
  Bytes dict(8192);
  ZDICT_params_t params{};
  params.compressionLevel = 3;
  params.dictID = dict_id;
  const size_t n = ZDICT_finalizeDictionary(dict.data(), dict.size(), block.data() + 8, cursor - 8, samples.data(),
                                            sizes.data(), static_cast<unsigned>(sizes.size()), params);
  if (ZDICT_isError(n)) return {};
  dict.resize(n);
  return dict;
}

// A whole journal file in memory.
class VectorJournal {
 public:
  // `flags` goes into the header verbatim (normally the compression value).
  VectorJournal(uint8_t version, uint32_t block_size, Compression compression)
      : VectorJournal(version, block_size, compression, static_cast<uint32_t>(compression)) {}
  VectorJournal(uint8_t version, uint32_t block_size, Compression compression, uint32_t flags)
      : version_(version), block_size_(block_size), compression_(compression) {
    bytes_ = VectorFileHeader(version, block_size, flags);
  }

  // Type-2 blocks get a dictionary when one can be made (default); with
  // false they are written with DictLen 0 (plain zstd payload).
  void set_use_dictionary(bool on) { use_dictionary_ = on; }

  // Appends one block in this file's compression; returns its file offset.
  uint64_t AddBlock(const VectorBlock& b) {
    const uint64_t off = bytes_.size();
    offsets_.push_back(off);
    const Bytes raw = BuildVectorBlock(version_, block_size_, b);
    if (compression_ == Compression::kNone) {
      Append(raw);
      return off;
    }
    Bytes dict;
    Bytes payload;
    if (compression_ == Compression::kZstdDict && use_dictionary_) {
      dict = MakeVectorDictionary(raw, FrameCursor(b));
    }
    payload = dict.empty() ? ZstdCompressBytes(raw) : ZstdCompressWithDictBytes(raw, dict);
    last_dict_len_ = dict.size();
    AppendCompressed(b.base_time_us, b.base_seq, dict, payload);
    return off;
  }

  // Appends an outer header (this file's version and type) and the given
  // dictionary and payload verbatim, for vectors with a lying header.
  void AppendCompressed(int64_t base_time_us, uint64_t base_seq, std::span<const uint8_t> dict,
                        std::span<const uint8_t> payload, std::optional<uint32_t> dict_len = std::nullopt,
                        std::optional<uint32_t> comp_len = std::nullopt) {
    PutLE(bytes_, static_cast<uint64_t>(base_time_us), 8);
    if (version_ != 1) PutLE(bytes_, base_seq, 8);
    if (compression_ == Compression::kZstdDict) PutLE(bytes_, dict_len.value_or(static_cast<uint32_t>(dict.size())), 4);
    PutLE(bytes_, comp_len.value_or(static_cast<uint32_t>(payload.size())), 4);
    Append(dict);
    Append(payload);
  }

  void Append(std::span<const uint8_t> raw) { bytes_.insert(bytes_.end(), raw.begin(), raw.end()); }

  // §1.9 footer listing every block added so far.
  void AppendIndex() { AppendIndex(offsets_); }
  void AppendIndex(const std::vector<uint64_t>& offsets) { AppendIndex(offsets, static_cast<uint32_t>(offsets.size())); }
  void AppendIndex(const std::vector<uint64_t>& offsets, uint32_t count) {
    for (uint64_t o : offsets) PutLE(bytes_, o, 8);
    PutLE(bytes_, count, 4);
    Append(Bytes{'L', 'P', 'J', 'I'});
  }

  const Bytes& bytes() const { return bytes_; }
  Bytes& mutable_bytes() { return bytes_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  size_t last_dict_len() const { return last_dict_len_; }

  std::unique_ptr<RandomAccessFile> File() const { return std::make_unique<MemoryFile>(bytes_); }

 private:
  size_t FrameCursor(const VectorBlock& b) const {
    size_t n = VectorDataStart(version_);
    for (const VectorFrame& f : b.frames) n += EncodeVectorFrame(f).size();
    return n + b.raw_after_frames.size();
  }

  uint8_t version_;
  uint32_t block_size_;
  Compression compression_;
  bool use_dictionary_ = true;
  size_t last_dict_len_ = 0;
  Bytes bytes_;
  std::vector<uint64_t> offsets_;
};

// ---------------------------------------------------------------------------
// Frame helpers

// The 29-bit id of priority `prio`, PGN `pgn` (PDU2), source `src`.
inline uint32_t VectorCanId(uint8_t prio, uint32_t pgn, uint8_t src, uint8_t dst = 0xFF) {
  const uint32_t pf = (pgn >> 8) & 0xFF;
  const uint32_t ps = pf >= 240 ? (pgn & 0xFF) : dst;
  return uint32_t{prio} << 26 | ((pgn >> 16) & 1) << 24 | pf << 16 | ps << 8 | src;
}

// Payload whose bytes identify frame `i` (so a test can tell frames apart).
inline Bytes VectorPayload(uint32_t i, size_t len = 8) {
  Bytes d(len);
  for (size_t k = 0; k < len; ++k) d[k] = static_cast<uint8_t>(i * 7 + k);
  return d;
}

// `n` 8-byte frames of PGN 129025 from source 10, `step_us` apart (frame 0's
// delta is 0 as the writer stores it).
inline std::vector<VectorFrame> VectorFrames(uint32_t first, uint32_t n, uint64_t step_us) {
  std::vector<VectorFrame> out;
  for (uint32_t i = 0; i < n; ++i) {
    VectorFrame f;
    f.delta_us = i == 0 ? 0 : step_us;
    f.can_id = VectorCanId(2, 129025, 10);
    f.data = VectorPayload(first + i);
    out.push_back(std::move(f));
  }
  return out;
}

inline DeviceEntry VectorDevice(uint8_t source, uint64_t name, uint32_t active_from, uint16_t product_code = 0,
                                std::string model_id = "") {
  DeviceEntry e;
  e.source = source;
  e.name = name;
  e.active_from = active_from;
  e.product_code = product_code;
  e.model_id = std::move(model_id);
  return e;
}

}  // namespace lplex::journal::testutil
