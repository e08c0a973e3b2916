#include "journal/block_compressor.h"

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include <fmt/format.h>

#include <cstring>

namespace lplex::journal {
namespace {

// Dictionary training parameters, matching what the reference writer asks of
// its library: 256-byte samples every 128 bytes, at most 8 KiB, dictionary ID 1.
constexpr size_t kSampleLen = 256;
constexpr size_t kSampleStride = 128;
constexpr size_t kSampleStart = 8;
constexpr size_t kMinFramesEnd = 1024;
constexpr size_t kMinSamples = 4;
constexpr size_t kMaxDictSize = 8192;
constexpr unsigned kDictId = 1;

}  // namespace

struct BlockCompressor::Contexts {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~Contexts() { ZSTD_freeCCtx(cctx); }
};

BlockCompressor::BlockCompressor(Compression mode, int level)
    : mode_(mode), level_(level), ctx_(std::make_unique<Contexts>()) {
  ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_dictIDFlag, 1);
  dict_.resize(kMaxDictSize);
}

BlockCompressor::~BlockCompressor() = default;

size_t BlockCompressor::TrainDictionary(std::span<const uint8_t> block, size_t frames_end) {
  if (frames_end <= kMinFramesEnd) return 0;
  samples_.clear();
  sample_sizes_.clear();
  for (size_t at = kSampleStart; at + kSampleLen <= frames_end; at += kSampleStride) {
    samples_.insert(samples_.end(), block.begin() + static_cast<ptrdiff_t>(at),
                    block.begin() + static_cast<ptrdiff_t>(at + kSampleLen));
    sample_sizes_.push_back(kSampleLen);
  }
  if (sample_sizes_.size() < kMinSamples) return 0;

  ZDICT_fastCover_params_t params;
  std::memset(&params, 0, sizeof params);
  params.k = 200;
  params.d = 8;
  params.f = 20;
  params.steps = 1;
  params.accel = 1;
  params.zParams.compressionLevel = level_;
  params.zParams.dictID = kDictId;
  params.zParams.notificationLevel = 0;
  size_t n = ZDICT_trainFromBuffer_fastCover(dict_.data(), dict_.size(), samples_.data(), sample_sizes_.data(),
                                             static_cast<unsigned>(sample_sizes_.size()), params);
  if (ZDICT_isError(n)) return 0;  // falls back to plain zstd (DictLen 0), as the reference does
  return n;
}

Status BlockCompressor::Compress(std::span<const uint8_t> block, size_t frames_end) {
  const size_t bound = ZSTD_compressBound(block.size());
  if (out_.size() < bound) out_.resize(bound);
  dict_len_ = mode_ == Compression::kZstdDict ? TrainDictionary(block, frames_end) : 0;

  size_t n;
  if (dict_len_ > 0) {
    // ZSTD_CCtx_refPrefix would drop the dictionary ID; loading the formatted
    // dictionary keeps it in the frame header, which the Go reader needs.
    size_t rc = ZSTD_CCtx_loadDictionary(ctx_->cctx, dict_.data(), dict_len_);
    if (ZSTD_isError(rc)) {
      dict_len_ = 0;
      ZSTD_CCtx_loadDictionary(ctx_->cctx, nullptr, 0);
    }
  }
  n = ZSTD_compress2(ctx_->cctx, out_.data(), out_.size(), block.data(), block.size());
  if (dict_len_ > 0) ZSTD_CCtx_loadDictionary(ctx_->cctx, nullptr, 0);
  if (ZSTD_isError(n)) {
    out_len_ = 0;
    return Status::IOError(fmt::format("zstd compression of a {}-byte block failed: {}", block.size(),
                                       ZSTD_getErrorName(n)));
  }
  out_len_ = n;
  return Status::Ok();
}

}  // namespace lplex::journal
