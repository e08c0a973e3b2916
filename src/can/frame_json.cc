#include "can/frame_json.h"

#include <fmt/format.h>

#include "core/hex.h"
#include "core/time.h"

namespace lplex::can {

void AppendFrameJson(uint64_t seq, int64_t timestamp_us, const CanHeader& h, std::span<const uint8_t> data,
                     std::string* out) {
  fmt::format_to(std::back_inserter(*out), "{{\"seq\":{},\"ts\":\"", seq);
  timefmt::AppendRfc3339Nano(timestamp_us, out);
  fmt::format_to(std::back_inserter(*out), "\",\"prio\":{},\"pgn\":{},\"src\":{},\"dst\":{},\"data\":\"", h.priority,
                 h.pgn, h.source, h.destination);
  hex::AppendEncoded(data, out);
  out->append("\"}");
}

}  // namespace lplex::can
