// BlockCompressor: turns one sealed, uncompressed block into the bytes that
// follow its outer header in a compressed .lpj file.
//
//  - zstd:      one zstd frame of the whole block (content size and XXH64
//               checksum in the frame header, as the Go writer emits).
//  - zstd+dict: a dictionary trained on this block's own frame bytes (a
//               formatted zstd dictionary with ID 1, so Go's decoder can
//               match it by the dictID in the frame header), then a zstd frame
//               compressed with it. When the block is too small to train on,
//               or training fails, the dictionary is empty (DictLen 0).
//
// One instance per writer; it keeps its zstd contexts between blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

class BlockCompressor {
 public:
  BlockCompressor(Compression mode, int level);
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;
  ~BlockCompressor();

  // Compresses `block`. `frames_end` is the block offset where frame data
  // ends (dictionary samples are taken from [8, frames_end)). On success
  // dictionary() and payload() hold the bytes to write.
  Status Compress(std::span<const uint8_t> block, size_t frames_end);

  std::span<const uint8_t> dictionary() const { return {dict_.data(), dict_len_}; }
  std::span<const uint8_t> payload() const { return {out_.data(), out_len_}; }

 private:
  size_t TrainDictionary(std::span<const uint8_t> block, size_t frames_end);

  struct Contexts;
  Compression mode_;
  int level_;
  std::unique_ptr<Contexts> ctx_;
  std::vector<uint8_t> out_;
  size_t out_len_ = 0;
  std::vector<uint8_t> dict_;
  size_t dict_len_ = 0;
  std::vector<uint8_t> samples_;
  std::vector<size_t> sample_sizes_;
};

}  // namespace lplex::journal
