#include "sources/sim_source.h"

namespace lplex::sources {

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
      pacer().WaitUntil(due);
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
