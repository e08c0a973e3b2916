#include "sources/sim_source.h"

namespace lplex::sources {
namespace {

// Frames are released in batches: the thread sleeps until the next multiple
// of this period of the clock at or after the next frame's due time, then
// delivers everything due. A full bus (1,800 frames/s) thus costs ~100
// wake-ups a second here and downstream (broker owner, SSE writes) instead
// of one per frame; a frame waits at most this long past its (unchanged)
// timestamp. 10 ms rather than 5: 3.9 % instead of 4.9 % of a core for the
// whole server at a full bus with 10 SSE clients (docs/performance.md).
constexpr int64_t kReleasePeriodUs = 10'000;

int64_t ReleaseTime(int64_t due_us) {
  const int64_t rem = due_us % kReleasePeriodUs;
  if (rem == 0) return due_us;
  return due_us - rem + (rem > 0 ? kReleasePeriodUs : 0);
}

}  // namespace

SimSource::SimSource(std::string uri, uint8_t bus, SimOptions options, std::unique_ptr<Pacer> pacer)
    : ThreadedSource(std::move(uri), bus, std::move(pacer)), options_(options) {}

SimSource::~SimSource() { Stop(); }

Status SimSource::Open() {
  std::lock_guard lock(mu_);
  boat_ = std::make_unique<SimBoat>(options_, clock()->NowMicros());
  return Status::Ok();
}

Status SimSource::Send(const can::Frame& frame) {
  {
    std::lock_guard lock(mu_);
    if (!boat_) return Status::InvalidArgument("source " + uri() + " is not started");
    LPLEX_RETURN_IF_ERROR(boat_->Transmit(frame, clock()->NowMicros()));
  }
  pacer().Wake();  // the echo and the answers may be due before what the thread waits for
  return Status::Ok();
}

Status SimSource::Run() {
  can::Frame message;
  while (!stopping()) {
    int64_t due;
    {
      std::lock_guard lock(mu_);
      due = boat_->next_due_us();
    }
    if (clock()->NowMicros() < due) {
      pacer().WaitUntil(ReleaseTime(due));
      continue;  // woken or due: look again (a Send may have queued something earlier)
    }
    can::RawFrame raw;
    {
      std::lock_guard lock(mu_);
      raw = boat_->Next();
    }
    if (assembler_.Process(raw, &message)) Deliver(message);
  }
  return Status::Ok();
}

}  // namespace lplex::sources
