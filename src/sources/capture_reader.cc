#include "sources/capture_reader.h"

#include <fmt/format.h>

#include "sources/reader_impl.h"

namespace lplex::sources {
namespace {

// How much of the start of a capture format detection looks at, and how many
// frame-like lines it tries before giving up: enough to get past a comment
// header and a few damaged lines, little enough to fail fast on a wrong file.
constexpr size_t kDetectWindow = 64 * 1024;
constexpr int kDetectMaxLines = 32;

bool IsPcapMagic(const uint8_t* p) {
  const uint32_t le = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                      static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  return le == 0xA1B2C3D4 || le == 0xD4C3B2A1 || le == 0xA1B23C4D || le == 0x4D3CB2A1;
}

bool IsPcapNgMagic(const uint8_t* p) { return p[0] == 0x0A && p[1] == 0x0D && p[2] == 0x0D && p[3] == 0x0A; }

// What the first lines of a text capture look like.
struct TextGuess {
  CaptureFormat format = CaptureFormat::kAuto;  // kAuto: nothing recognised
  text::CandumpStyle style = text::CandumpStyle::kUnknown;
  uint64_t first_line_number = 0;  // first line that is neither blank nor a comment
  std::string_view first_line;
};

TextGuess GuessTextFormat(std::string_view window, bool window_is_whole_file) {
  TextGuess g;
  int tried = 0;
  uint64_t line_number = 0;
  while (!window.empty() && tried < kDetectMaxLines) {
    size_t nl = window.find('\n');
    if (nl == std::string_view::npos && !window_is_whole_file) break;  // a cut-off line proves nothing
    std::string_view line = window.substr(0, nl);
    window = nl == std::string_view::npos ? std::string_view() : window.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (text::IsIgnorableLine(line)) continue;
    if (tried++ == 0) {
      g.first_line_number = line_number;
      g.first_line = line;
    }
    can::RawFrame f;
    std::string why;
    if (text::ParseYdRawLine(line, &f, &why) == text::LineResult::kFrame) {
      g.format = CaptureFormat::kYdRaw;
      return g;
    }
    g.style = text::ClassifyCandumpLine(line);
    if (g.style != text::CandumpStyle::kUnknown) {
      g.format = CaptureFormat::kCandump;
      return g;
    }
  }
  return g;
}

Result<std::unique_ptr<CaptureReader>> OpenInput(std::string name, std::unique_ptr<RandomAccessFile> file,
                                                 const CaptureOptions& options) {
  Result<uint64_t> size = file->Size();
  if (!size.ok()) return size.status().WithContext(name);
  auto input = std::make_unique<BufferedInput>(std::move(file), *size);
  bool grew = false;
  LPLEX_RETURN_IF_ERROR(input->Refill(&grew).WithContext(name));

  CaptureFormat format = options.format;
  TextGuess guess;
  const bool whole = input->at_file_end();
  std::string_view window = input->view().substr(0, kDetectWindow);
  if (format == CaptureFormat::kAuto) {
    if (input->available() == 0) {
      return Status::InvalidArgument(
          fmt::format("{} is empty: no format to detect (name one of pcap, candump, ydraw to accept it)", name));
    }
    if (input->available() >= 4 && IsPcapNgMagic(input->data())) {
      return Status::Unsupported(fmt::format(
          "{} is pcapng, which is not supported; convert it to pcap first (editcap -F pcap in out)", name));
    }
    if (input->available() >= 4 && IsPcapMagic(input->data())) {
      format = CaptureFormat::kPcap;
    } else {
      guess = GuessTextFormat(window, whole && window.size() == input->available());
      if (guess.format == CaptureFormat::kAuto) {
        if (guess.first_line_number == 0) {
          return Status::InvalidArgument(fmt::format(
              "{}: no frame lines in the first {} bytes, so its format cannot be told; name it (pcap, candump, "
              "ydraw)",
              name, window.size()));
        }
        return Status::InvalidArgument(fmt::format(
            "{}: not a recognised capture: line {} {} is none of pcap, candump (\"<0x18eeff01> [8] 05 a0 ..\", "
            "\"can0 09F8027F [8] 00 FC ..\", \"(1502984866.421964) can0 09F112CC#FF72..\") or Yacht Devices "
            "RAW (\"00:29:58.617 R 0DFF180D A2 8C ..\")",
            name, guess.first_line_number, text::Quote(guess.first_line)));
      }
      format = guess.format;
    }
  } else if (format == CaptureFormat::kCandump) {
    guess = GuessTextFormat(window, whole && window.size() == input->available());
  }

  switch (format) {
    case CaptureFormat::kPcap: return internal::NewPcapReader(std::move(name), std::move(input));
    case CaptureFormat::kCandump:
      return internal::NewCandumpReader(std::move(name), std::move(input), guess.style, options);
    case CaptureFormat::kYdRaw: return internal::NewYdRawReader(std::move(name), std::move(input), options);
    case CaptureFormat::kAuto: break;
  }
  return Status::InvalidArgument(fmt::format("{}: no capture format chosen", name));
}

}  // namespace

std::string_view CaptureFormatName(CaptureFormat format) {
  switch (format) {
    case CaptureFormat::kAuto: return "auto";
    case CaptureFormat::kPcap: return "pcap";
    case CaptureFormat::kCandump: return "candump";
    case CaptureFormat::kYdRaw: return "ydraw";
  }
  return "unknown";
}

Result<CaptureFormat> ParseCaptureFormat(std::string_view name) {
  for (CaptureFormat f : {CaptureFormat::kAuto, CaptureFormat::kPcap, CaptureFormat::kCandump, CaptureFormat::kYdRaw}) {
    if (name == CaptureFormatName(f)) return f;
  }
  return Status::InvalidArgument(
      fmt::format("unknown capture format \"{}\"; valid formats are auto, pcap, candump, ydraw", name));
}

std::string CaptureProblem::ToString() const {
  if (record) return fmt::format("{}: record {}: {}", file, line, reason);
  return fmt::format("{}:{}: {}", file, line, reason);
}

CaptureReader::CaptureReader(std::string name, CaptureFormat format, std::unique_ptr<BufferedInput> input)
    : name_(std::move(name)), format_(format), input_(std::move(input)) {}

CaptureReader::~CaptureReader() = default;

uint64_t CaptureReader::bytes_read() const { return input_->position(); }
uint64_t CaptureReader::total_bytes() const { return input_->size(); }

void CaptureReader::ReportProblem(uint64_t line, bool record, std::string reason) {
  ++problem_count_;
  CaptureProblem p{name_, line, record, std::move(reason)};
  if (handler_) handler_(p);
  if (problems_.size() < kMaxStoredProblems) problems_.push_back(std::move(p));
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::Open(const std::string& path, const CaptureOptions& options,
                                                           FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  LPLEX_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  return OpenInput(path, std::move(file), options);
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::FromBytes(std::string name, std::vector<uint8_t> bytes,
                                                                const CaptureOptions& options) {
  return OpenInput(std::move(name), std::make_unique<MemoryFile>(std::move(bytes)), options);
}

}  // namespace lplex::sources
