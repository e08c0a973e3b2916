// The line-oriented formats: candump (all styles) and Yacht Devices RAW.
#include <cstring>

#include <fmt/format.h>

#include "sources/reader_impl.h"

namespace lplex::sources::internal {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr int64_t kHalfDay = kMicrosPerDay / 2;

// Splits the input into lines. The view handed out stays valid until the
// next call.
class TextReader : public CaptureReader {
 protected:
  TextReader(std::string name, CaptureFormat format, std::unique_ptr<BufferedInput> input)
      : CaptureReader(std::move(name), format, std::move(input)) {}

  // Stores the next line (without "\n" or "\r\n") and returns true, or
  // returns false at the end of the input or on an I/O error (then status()).
  // A line longer than the buffer is reported and skipped: no capture format
  // has lines anywhere near that long.
  bool NextLine(std::string_view* line) {
    if (!status().ok()) return false;
    BufferedInput& in = input();
    for (;;) {
      const char* b = reinterpret_cast<const char*>(in.data());
      size_t n = in.available();
      const void* nl = scan_from_ < n ? std::memchr(b + scan_from_, '\n', n - scan_from_) : nullptr;
      size_t len = 0;
      if (nl != nullptr) {
        len = static_cast<size_t>(static_cast<const char*>(nl) - b);
        in.Consume(len + 1);
      } else if (in.at_file_end()) {
        if (n == 0) return false;
        len = n;  // a last line without a terminator
        in.Consume(n);
      } else {
        if (in.full()) {
          if (!discarding_) {
            ReportProblem(line_number_ + 1, false,
                          fmt::format("line longer than {} bytes; skipped", in.capacity()));
            discarding_ = true;
          }
          in.Consume(n);
          scan_from_ = 0;
        } else {
          scan_from_ = n;
        }
        bool grew = false;
        Status s = in.Refill(&grew);
        if (!s.ok()) {
          Fail(s.WithContext(name()));
          return false;
        }
        continue;
      }
      scan_from_ = 0;
      ++line_number_;
      if (discarding_) {
        discarding_ = false;
        continue;
      }
      if (len > 0 && b[len - 1] == '\r') --len;
      *line = {b, len};
      return true;
    }
  }

  uint64_t line_number_ = 0;  // of the line NextLine returned last
  std::string why_;           // reused for the reasons of malformed lines

 private:
  size_t scan_from_ = 0;  // bytes of data() already known to hold no '\n'
  bool discarding_ = false;
};

class CandumpReader final : public TextReader {
 public:
  CandumpReader(std::string name, std::unique_ptr<BufferedInput> input, text::CandumpStyle style,
                const CaptureOptions& options)
      : TextReader(std::move(name), CaptureFormat::kCandump, std::move(input)),
        style_(style),
        base_time_us_(options.base_time_us),
        interval_us_(options.frame_interval_us) {}

  std::string_view dialect() const override { return text::CandumpStyleName(style_); }
  bool has_timestamps() const override { return text::CandumpStyleHasTimestamps(style_); }

  bool Next(can::RawFrame* out) override {
    std::string_view line;
    while (NextLine(&line)) {
      if (text::IsIgnorableLine(line)) continue;
      if (style_ == text::CandumpStyle::kUnknown) {
        // Only when the caller forced the format and the first lines matched
        // no style: the first line that parses decides.
        style_ = text::ClassifyCandumpLine(line);
        if (style_ == text::CandumpStyle::kUnknown) {
          ReportProblem(line_number_, false, fmt::format("not a candump line: {}", text::Quote(line)));
          continue;
        }
      }
      can::RawFrame f;
      switch (text::ParseCandumpLine(style_, line, &f, &why_)) {
        case text::LineResult::kFrame:
          if (!has_timestamps()) f.timestamp_us = WrapAdd(base_time_us_, WrapMul(interval_us_, frames_));
          *out = f;
          ++frames_;
          return true;
        case text::LineResult::kRemote:
          ++skipped_remote_;
          break;
        case text::LineResult::kMalformed:
          ReportMalformed(line);
          break;
      }
    }
    return false;
  }

 private:
  void ReportMalformed(std::string_view line) {
    text::CandumpStyle other = text::ClassifyCandumpLine(line);
    if (other != text::CandumpStyle::kUnknown && other != style_) {
      ReportProblem(line_number_, false,
                    fmt::format("line is in {} style but the file started in {} style", text::CandumpStyleName(other),
                                text::CandumpStyleName(style_)));
    } else {
      ReportProblem(line_number_, false, why_);
    }
  }

  text::CandumpStyle style_;
  const int64_t base_time_us_;
  const int64_t interval_us_;
};

class YdRawReader final : public TextReader {
 public:
  YdRawReader(std::string name, std::unique_ptr<BufferedInput> input, const CaptureOptions& options)
      : TextReader(std::move(name), CaptureFormat::kYdRaw, std::move(input)) {
    // Midnight (UTC) of base_time_us's day, rounding towards the past.
    int64_t base = options.base_time_us;
    int64_t rem = base % kMicrosPerDay;
    if (rem < 0) rem += kMicrosPerDay;
    day_start_us_ = WrapAdd(base, -rem);
  }

  std::string_view dialect() const override { return "Yacht Devices RAW"; }
  bool has_timestamps() const override { return true; }
  bool time_of_day_only() const override { return true; }

  bool Next(can::RawFrame* out) override {
    std::string_view line;
    while (NextLine(&line)) {
      if (text::IsIgnorableLine(line)) continue;
      can::RawFrame f;
      if (text::ParseYdRawLine(line, &f, &why_) != text::LineResult::kFrame) {
        ReportProblem(line_number_, false, why_);
        continue;
      }
      int64_t tod = f.timestamp_us;
      // The gateway's clock only knows the time of day; a big step back is
      // midnight passing, a small one is reordering or a clock adjustment.
      if (last_tod_us_ >= 0 && tod + kHalfDay < last_tod_us_) day_start_us_ = WrapAdd(day_start_us_, kMicrosPerDay);
      last_tod_us_ = tod;
      f.timestamp_us = WrapAdd(day_start_us_, tod);
      *out = f;
      ++frames_;
      return true;
    }
    return false;
  }

 private:
  int64_t day_start_us_ = 0;
  int64_t last_tod_us_ = -1;
};

}  // namespace

std::unique_ptr<CaptureReader> NewCandumpReader(std::string name, std::unique_ptr<BufferedInput> input,
                                                text::CandumpStyle style, const CaptureOptions& options) {
  return std::make_unique<CandumpReader>(std::move(name), std::move(input), style, options);
}

std::unique_ptr<CaptureReader> NewYdRawReader(std::string name, std::unique_ptr<BufferedInput> input,
                                              const CaptureOptions& options) {
  return std::make_unique<YdRawReader>(std::move(name), std::move(input), options);
}

}  // namespace lplex::sources::internal
