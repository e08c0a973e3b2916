#include "changes/change_format.h"

#include <fmt/format.h>

#include "core/json_string.h"
#include "core/time.h"

namespace lplex::changes {
namespace {

constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

}  // namespace

void AppendChangeFrameJson(const ChangeEvent& event, const FrameText& frame, std::string* out) {
  out->push_back('{');
  if (event.type == ChangeType::kSnapshot || event.type == ChangeType::kDelta) {
    *out += "\"change\":";
    AppendJsonString(ChangeTypeName(event.type), out);
    out->push_back(',');
  }
  if (event.type == ChangeType::kDelta) {
    if (!event.data.empty()) *out += fmt::format("\"diff_bytes\":{},", event.data.size());
    if (event.full_bytes != 0) *out += fmt::format("\"full_bytes\":{},", event.full_bytes);
  }
  *out += fmt::format("\"seq\":{},\"ts\":", frame.seq);
  AppendJsonString(frame.ts, out);
  *out += fmt::format(",\"prio\":{},\"pgn\":{},\"src\":{},\"dst\":{},\"data\":", frame.prio, frame.pgn, frame.src,
                      frame.dst);
  AppendJsonString(frame.data, out);
}

std::string IdleJsonLine(const ChangeEvent& event) {
  std::string s = "{\"change\":\"idle\",\"ts\":\"";
  timefmt::AppendRfc3339Nano(event.time_us, &s);
  s += fmt::format("\",\"pgn\":{},\"src\":{}}}\n", event.pgn, event.src);
  return s;
}

std::string ChangeTag(const ChangeEvent& event, bool colour) {
  switch (event.type) {
    case ChangeType::kSnapshot:
      return colour ? fmt::format("{}[snapshot]{} ", kGreen, kReset) : "[snapshot] ";
    case ChangeType::kDelta: {
      const std::string text = fmt::format("[delta {}/{}B]", event.data.size(), event.full_bytes);
      return colour ? fmt::format("{}{}{} ", kYellow, text, kReset) : text + " ";
    }
    case ChangeType::kIdle:
      return colour ? fmt::format("{}[idle]    {} ", kDim, kReset) : "[idle]     ";
  }
  return "";
}

}  // namespace lplex::changes
