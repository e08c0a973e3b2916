#include "core/clock.h"

#include <chrono>

namespace lplex {
namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();  // intentionally leaked: usable during static destruction
  return clock;
}

}  // namespace lplex
