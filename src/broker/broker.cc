#include "broker/broker.h"

#include <algorithm>

#include <fmt/format.h>

#include "broker/decoded_json.h"
#include "broker/device_table.h"
#include "broker/journal_tier.h"
#include "broker/ring.h"
#include "broker/value_store.h"
#include "can/frame_json.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "core/prometheus_text.h"

namespace lplex::broker {
namespace {

constexpr uint32_t kPgnIsoRequest = 59904;
// ISO 11783 null address: the source of nodes without a claimed address,
// which is what the broker is (it sends requests, never claims).
constexpr uint8_t kNullAddress = 254;
constexpr uint8_t kBrokerSource = kNullAddress;

TxFrame IsoRequest(uint8_t bus, uint32_t pgn, uint8_t dst) {
  TxFrame f;
  f.bus = bus;
  f.header = can::CanHeader{.priority = 6, .pgn = kPgnIsoRequest, .source = kBrokerSource, .destination = dst};
  f.data = {static_cast<uint8_t>(pgn), static_cast<uint8_t>(pgn >> 8), static_cast<uint8_t>(pgn >> 16)};
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------
// Broker

Result<std::shared_ptr<Broker>> Broker::Create(BrokerOptions o) {
  if (o.ring_capacity == 0) o.ring_capacity = 65536;
  if ((o.ring_capacity & (o.ring_capacity - 1)) != 0 || o.ring_capacity > (size_t{1} << 24)) {
    return Status::InvalidArgument(fmt::format(
        "ring_capacity {} is not valid (valid: a power of two, 1..16777216; 0 = 65536)", o.ring_capacity));
  }
  if (o.max_buffer_duration_us < 0 || o.device_idle_timeout_us < 0 || o.bus_silence_timeout_us < 0 ||
      o.discovery_retry_delay_us < 0) {
    return Status::InvalidArgument("broker durations must not be negative (0 disables idle removal / silence)");
  }
  if (!(o.discovery_requests_per_second > 0)) {
    return Status::InvalidArgument(fmt::format("discovery_requests_per_second {} is not valid (valid: > 0)",
                                               o.discovery_requests_per_second));
  }
  if (o.discovery_max_requests < 1 || o.discovery_max_requests > 255) {
    return Status::InvalidArgument(
        fmt::format("discovery_max_requests {} is not valid (valid: 1..255)", o.discovery_max_requests));
  }
  if (o.subscriber_queue == 0 || o.tx_queue == 0) {
    return Status::InvalidArgument("subscriber_queue and tx_queue must be at least 1");
  }
  return std::shared_ptr<Broker>(new Broker(std::move(o)));
}

Broker::Broker(BrokerOptions options)
    : opt_(std::move(options)),
      clock_(opt_.clock ? opt_.clock : Clock::Real()),
      logger_(opt_.logger),
      fs_(opt_.fs ? opt_.fs : FileSystem::Default()),
      ring_(std::make_unique<Ring>(opt_.ring_capacity, opt_.initial_head)),
      devices_(std::make_unique<DeviceTable>()),
      values_(std::make_unique<ValueStore>()),
      tx_(opt_.tx_queue) {
  now_us_ = clock_->MonotonicMicros();
  last_refill_us_ = now_us_;
  last_activity_us_ = now_us_;
  tokens_ = std::max(1.0, opt_.discovery_requests_per_second);
  published_head_.store(ring_->head());
}

Broker::~Broker() = default;

void Broker::Start() {
  if (opt_.replica) return;
  std::unique_lock lock(mu_);
  for (unsigned bus = 0; bus < std::max<unsigned>(1, opt_.buses); ++bus) {
    QueueRequest(static_cast<uint8_t>(bus), can::kBroadcast, can::kPgnAddressClaim);
  }
  DrainRequests();
}

void Broker::Ingest(const can::Frame& f) {
  const uint8_t bus = f.bus;
  const uint8_t src = f.header.source;
  const uint32_t pgn = f.header.pgn;
  const uint64_t seq = opt_.replica ? f.seq : ring_->head();

  // Serialize once, outside the lock, into a buffer no reader can see.
  scratch_.clear();
  can::AppendFrameJson(seq, f.timestamp_us, f.header, f.data, &scratch_);
  JsonRef json = pool_.Take(scratch_);
  JsonRef decoded;  // ?decode=true subscribers' JSON, when one takes this frame

  {
    std::unique_lock lock(mu_);
    // 1-2. Registry and discovery; device events go out before the frame.
    // The ISO null address (254) belongs to no device: nodes that could not
    // claim an address use it, and so do our own ISO requests when the bus
    // echoes them back. Its frames are kept and streamed, never registered.
    const can::RegistryChange change = src == kNullAddress
                                           ? can::RegistryChange::kNone
                                           : devices_->Observe(bus, f.timestamp_us, src, pgn, f.data, now_us_);
    switch (change) {
      case can::RegistryChange::kNameChanged: {
        const can::Device& d = *devices_->Find(bus, src);
        if (logger_) logger_->Info("device discovered: bus {} src {} name {}", bus, src, can::NameHex(d.name));
        EmitDeviceEvent(bus, d, "device");
        DeviceDiscovery& disc = *devices_->FindDiscovery(bus, src);
        disc.info_requests = 0;
        disc.info_pending = false;
        if (!opt_.replica) QueueRequest(bus, src, can::kPgnProductInfo);
        break;
      }
      case can::RegistryChange::kProductInfo: {
        const can::Device& d = *devices_->Find(bus, src);
        if (logger_) logger_->Info("product info: bus {} src {} model {}", bus, src, d.product.model_id);
        EmitDeviceEvent(bus, d, "device");
        break;
      }
      case can::RegistryChange::kNewSource:
        if (!opt_.replica && pgn != can::kPgnAddressClaim && pgn != can::kPgnProductInfo) {
          QueueRequest(bus, src, can::kPgnAddressClaim);
        }
        break;
      case can::RegistryChange::kNone:
        break;
    }
    if (!pending_.empty()) DrainRequests();

    // 3-5. Seq and ring. The ring keeps no copy of the payload: every
    // reader of an entry needs only its header fields and its JSON.
    const JsonRef* shared = &json;
    if (RingEntry* e = ring_->SlotFor(seq)) {
      e->seq = seq;
      e->timestamp_us = f.timestamp_us;
      e->set_header(f.header);
      e->bus = bus;
      e->json.swap(json);  // json now holds the evicted frame's buffer
      shared = &e->json;
    }
    ring_->Publish(seq);

    // 6-7. Counters and values.
    frames_total_.fetch_add(1, std::memory_order_relaxed);
    last_frame_ts_.store(f.timestamp_us, std::memory_order_relaxed);
    values_->Record(bus, src, pgn, f.timestamp_us, f.data, seq);

    // 8. Fan-out (live registry).
    if (!subs_.empty()) {
      const can::Device* d = devices_->Find(bus, src);
      bool decode_tried = false;
      for (const auto& q : subs_) {
        if (!q->filter().empty() && !MatchesLive(q->filter(), pgn, src, d)) continue;
        const JsonRef* msg = shared;
        if (q->decoded()) {
          // Decoded once per frame, for every subscriber that asked.
          if (!decode_tried) {
            decode_tried = true;
            decoded = DecodedFrameJson(f, shared->view(), d);
          }
          if (decoded) msg = &decoded;
        }
        if (!q->Push(*msg)) subscriber_drops_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (decoded) pool_.Give(std::move(decoded));
  // The evicted frame's buffer (or, for a late replica frame the ring could
  // not keep, this frame's): back to the pool unless a reader still holds it.
  pool_.Give(std::move(json));

  // 9. Consumers.
  published_head_.store(ring_->head(), std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) > 0) Wake();

  // 10. Journal.
  if (opt_.journal_sink) {
    can::Frame out = f;
    out.seq = seq;
    opt_.journal_sink(out);
  }
}

void Broker::EmitDeviceEvent(uint8_t bus, const can::Device& d, const char* type) {
  if (subs_.empty()) return;
  std::string text;
  AppendDeviceJson(bus, d, type, &text);
  const JsonRef msg = JsonRef::Make(text);
  for (const auto& q : subs_) {
    if (!q->Push(msg)) subscriber_drops_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Broker::QueueRequest(uint8_t bus, uint8_t dst, uint32_t pgn) {
  if (dst != can::kBroadcast) {
    DeviceDiscovery* r = devices_->FindDiscovery(bus, dst);
    if (r == nullptr) return;
    bool& pending = pgn == can::kPgnAddressClaim ? r->claim_pending : r->info_pending;
    if (pending) return;
    pending = true;
  }
  pending_.push_back({bus, dst, pgn});
}

void Broker::DrainRequests() {
  while (!pending_.empty() && tokens_ >= 1.0) {
    const PendingRequest req = pending_.front();
    pending_.pop_front();
    if (req.dst != can::kBroadcast) {
      DeviceDiscovery* r = devices_->FindDiscovery(req.bus, req.dst);
      if (r == nullptr) continue;  // removed meanwhile
      const bool claim = req.pgn == can::kPgnAddressClaim;
      (claim ? r->claim_pending : r->info_pending) = false;
      // Answered while it waited: nothing to ask any more.
      const can::Device& d = *devices_->Find(req.bus, req.dst);
      if (claim ? d.named() : !d.product.empty()) continue;
      uint8_t& sent = claim ? r->claim_requests : r->info_requests;
      if (sent > 0) discovery_retries_.fetch_add(1, std::memory_order_relaxed);
      if (sent < 255) ++sent;
      (claim ? r->claim_requested_us : r->info_requested_us) = now_us_;
    }
    tokens_ -= 1.0;
    discovery_requests_.fetch_add(1, std::memory_order_relaxed);
    // A full tx queue drops the request (counted by the queue); the retry
    // timer asks again later.
    (void)tx_.TryPush(IsoRequest(req.bus, req.pgn, req.dst));
  }
}

void Broker::Tick() { Tick(clock_->MonotonicMicros()); }

void Broker::Tick(int64_t now_us) {
  std::vector<JsonRef> removed_events;
  {
    std::unique_lock lock(mu_);
    const int64_t dt = now_us - last_refill_us_;
    if (dt > 0) {
      const double burst = std::max(1.0, opt_.discovery_requests_per_second);
      tokens_ = std::min(burst, tokens_ + opt_.discovery_requests_per_second * static_cast<double>(dt) / 1e6);
      last_refill_us_ = now_us;
    }
    now_us_ = now_us;

    // Retries of unanswered requests, and idle removal.
    std::vector<std::pair<uint8_t, uint8_t>> idle;
    devices_->ForEach([&](uint8_t bus, const can::Device& d, DeviceDiscovery& r) {
      if (opt_.device_idle_timeout_us > 0 && now_us - r.last_rx_us > opt_.device_idle_timeout_us) {
        idle.emplace_back(bus, d.source);
        return;
      }
      if (opt_.replica) return;
      const int max = opt_.discovery_max_requests;
      if (!d.named()) {
        if (!r.claim_pending && r.claim_requests < max &&
            (r.claim_requests == 0 || now_us - r.claim_requested_us >= opt_.discovery_retry_delay_us)) {
          QueueRequest(bus, d.source, can::kPgnAddressClaim);
        }
      } else if (d.product.empty()) {
        if (!r.info_pending && r.info_requests < max &&
            (r.info_requests == 0 || now_us - r.info_requested_us >= opt_.discovery_retry_delay_us)) {
          QueueRequest(bus, d.source, can::kPgnProductInfo);
        }
      }
    });
    for (auto [bus, src] : idle) {
      if (logger_) logger_->Info("device removed after idle timeout: bus {} src {}", bus, src);
      EmitDeviceEvent(bus, *devices_->Find(bus, src), "device_removed");
      devices_->Remove(bus, src);
      values_->Forget(bus, src);
      devices_removed_.fetch_add(1, std::memory_order_relaxed);
    }
    DrainRequests();

    // Session expiry (§1.6).
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      const SessionInfo& s = it->second.info;
      if (s.buffer_timeout_us == 0 || now_us - s.last_activity_us > s.buffer_timeout_us) {
        it = sessions_.erase(it);
        sessions_expired_.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }

  // Bus silence.
  const uint64_t frames = frames_total_.load(std::memory_order_relaxed);
  if (frames != frames_at_tick_) {
    frames_at_tick_ = frames;
    last_activity_us_ = now_us;
    if (bus_silent_.exchange(false) && logger_) logger_->Info("bus activity resumed after silence");
  } else if (frames > 0 && opt_.bus_silence_timeout_us > 0 &&
             now_us - last_activity_us_ > opt_.bus_silence_timeout_us && !bus_silent_.load()) {
    bus_silent_.store(true);
    bus_silence_events_.fetch_add(1, std::memory_order_relaxed);
    if (logger_) logger_->Warn("bus silence detected: no frames received for {} s", (now_us - last_activity_us_) / kSecondUs);
  }
}

void Broker::Shutdown() {
  shutdown_.store(true);
  {
    std::unique_lock lock(mu_);
    for (const auto& q : subs_) q->Close();
  }
  tx_.Close();
  Wake();
}

void Broker::ReleaseMemory() {
  std::unique_lock lock(mu_);
  ring_->Release();
  pool_.Clear();
  std::string().swap(scratch_);
}

// ---- subscribers ---------------------------------------------------------

JsonRef Broker::DecodedFrameJson(const can::Frame& f, std::string_view plain, const can::Device* d) {
  if (!decoder_) decoder_ = std::make_unique<FrameDecoder>();
  std::optional<uint16_t> manufacturer;
  if (d != nullptr && d->named()) manufacturer = d->iso_name().manufacturer_code;
  decoded_scratch_.clear();
  if (!decoder_->Append(plain, f.bus, f.header, f.data, manufacturer, &decoded_scratch_)) return {};
  return pool_.Take(decoded_scratch_);
}

std::unique_ptr<Subscriber> Broker::Subscribe(FilterSpec filter, std::function<void()> on_ready, bool decoded) {
  auto q = std::make_shared<SubscriberQueue>(std::move(filter), opt_.subscriber_queue, std::move(on_ready), decoded);
  {
    std::unique_lock lock(mu_);
    if (shutdown_.load()) q->Close();
    subs_.push_back(q);
  }
  return std::unique_ptr<Subscriber>(new Subscriber(shared_from_this(), std::move(q)));
}

void Broker::Unsubscribe(const SubscriberQueue* q) {
  std::unique_lock lock(mu_);
  std::erase_if(subs_, [&](const std::shared_ptr<SubscriberQueue>& s) { return s.get() == q; });
}

Subscriber::~Subscriber() {
  queue_->Close();
  broker_->Unsubscribe(queue_.get());
}

// ---- consumers -----------------------------------------------------------

std::unique_ptr<Consumer> Broker::NewConsumer(uint64_t start_seq, const FilterSpec& filter) {
  ResolvedFilter rf;
  {
    std::shared_lock lock(mu_);
    rf = ResolvedFilter::Resolve(filter, [&](auto&& fn) {
      devices_->ForEach([&](uint8_t bus, const can::Device& d, const DeviceDiscovery&) { fn(bus, d); });
    });
  }
  return std::unique_ptr<Consumer>(new Consumer(shared_from_this(), std::max<uint64_t>(1, start_seq), std::move(rf)));
}

void Broker::Wake() {
  { std::lock_guard<std::mutex> lock(wait_mu_); }
  wait_cv_.notify_all();
}

bool Broker::WaitForHead(uint64_t cursor, std::chrono::steady_clock::time_point deadline,
                         const std::atomic<bool>& closed) {
  std::unique_lock<std::mutex> lock(wait_mu_);
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  const bool ok = wait_cv_.wait_until(lock, deadline, [&] {
    return published_head_.load(std::memory_order_seq_cst) > cursor || closed.load() || shutdown_.load();
  });
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return ok;
}

struct Consumer::Journal {
  JournalTier tier;
  can::Frame frame;
  std::string json;  // reused: each frame's JSON is built here, then copied into its own buffer
};

Consumer::Consumer(std::shared_ptr<Broker> broker, uint64_t cursor, ResolvedFilter filter)
    : broker_(std::move(broker)), cursor_(cursor), filter_(std::move(filter)) {
  broker_->active_consumers_.fetch_add(1, std::memory_order_relaxed);
}

Consumer::~Consumer() {
  Close();
  if (counted_) broker_->active_consumers_.fetch_sub(1, std::memory_order_relaxed);
}

void Consumer::Close() {
  if (closed_.exchange(true)) return;
  broker_->Wake();
}

NextResult Consumer::FromJournal(uint64_t tail, ConsumerItem* out, bool* got) {
  *got = false;
  Broker& b = *broker_;
  if (b.opt_.journal_dir.empty()) {
    error_ = Status::OutOfRange(fmt::format(
        "consumer fell behind: seq {} is no longer in the ring (oldest {}) and no journal is configured", cursor_,
        tail));
    b.fallen_behind_.fetch_add(1, std::memory_order_relaxed);
    return NextResult::kFallenBehind;
  }
  if (!journal_) journal_.reset(new Journal{JournalTier(b.opt_.journal_dir, b.fs_), {}, {}});
  auto r = journal_->tier.Read(cursor_, tail, &journal_->frame);
  if (!r.ok() || *r == JournalTier::ReadResult::kEnd) {
    error_ = r.ok() ? Status::OutOfRange(fmt::format(
                          "consumer fell behind: seq {} is no longer in the ring (oldest {}) and the journal in {} "
                          "does not hold it yet",
                          cursor_, tail, b.opt_.journal_dir))
                    : r.status();
    journal_.reset();
    b.fallen_behind_.fetch_add(1, std::memory_order_relaxed);
    return NextResult::kFallenBehind;
  }
  if (*r == JournalTier::ReadResult::kAtLimit) {
    // The journal lacks [cursor, tail): those frames are lost; go on from the ring.
    cursor_ = tail;
    journal_.reset();
    return NextResult::kFrame;
  }
  const can::Frame& f = journal_->frame;
  cursor_ = f.seq + 1;
  b.journal_frames_.fetch_add(1, std::memory_order_relaxed);
  if (!filter_.Matches(f.header.pgn, 0, f.header.source)) return NextResult::kFrame;
  out->seq = f.seq;
  out->timestamp_us = f.timestamp_us;
  out->header = f.header;
  out->bus = 0;
  journal_->json.clear();
  can::AppendFrameJson(f.seq, f.timestamp_us, f.header, f.data, &journal_->json);
  out->json = JsonRef::Make(journal_->json);
  *got = true;
  return NextResult::kFrame;
}

NextResult Consumer::Next(ConsumerItem* out, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Broker& b = *broker_;
  for (;;) {
    if (closed_.load() || b.shutdown_.load()) return NextResult::kClosed;
    const uint64_t tail = b.ring_->tail();
    if (cursor_ < tail) {
      bool got = false;
      const NextResult r = FromJournal(tail, out, &got);
      if (r != NextResult::kFrame || got) return r;
      continue;
    }
    journal_.reset();  // caught up with the ring: give the file back
    if (cursor_ < b.ring_->head()) {
      bool got = false;
      bool overwritten = false;
      {
        std::shared_lock lock(b.mu_);
        const RingEntry* e = b.ring_->Get(cursor_);
        if (e == nullptr) continue;  // the tail moved on (or the ring was released): look again
        if (e->seq == cursor_) {
          got = filter_.Matches(e->pgn, e->bus, e->source);
          if (got) {
            out->seq = e->seq;
            out->timestamp_us = e->timestamp_us;
            out->header = e->header();
            out->bus = e->bus;
            out->json = e->json;
          }
          ++cursor_;
        } else if (e->seq < cursor_) {
          ++cursor_;  // a replica gap: this seq was never written
        } else {
          overwritten = true;
        }
      }
      if (got) return NextResult::kFrame;
      if (overwritten && b.ring_->tail() <= cursor_) {
        error_ = Status::OutOfRange(fmt::format("consumer fell behind: seq {} was overwritten", cursor_));
        b.fallen_behind_.fetch_add(1, std::memory_order_relaxed);
        return NextResult::kFallenBehind;
      }
      continue;
    }
    if (!b.WaitForHead(cursor_, deadline, closed_)) return NextResult::kTimeout;
  }
}

// ---- sessions ------------------------------------------------------------

std::pair<SessionInfo, uint64_t> Broker::CreateSession(const std::string& id, int64_t buffer_timeout_us,
                                                       FilterSpec filter) {
  buffer_timeout_us = std::clamp<int64_t>(buffer_timeout_us, 0, opt_.max_buffer_duration_us);
  const int64_t now = clock_->MonotonicMicros();
  std::unique_lock lock(mu_);
  auto [it, inserted] = sessions_.try_emplace(id);
  SessionInfo& s = it->second.info;
  if (inserted) s.id = id;
  s.buffer_timeout_us = buffer_timeout_us;
  s.filter = std::move(filter);
  s.last_activity_us = now;
  if (buffer_timeout_us == 0) s.cursor = 0;
  return {s, ring_->head() - 1};
}

Status Broker::AckSession(const std::string& id, uint64_t seq) {
  const int64_t now = clock_->MonotonicMicros();
  std::unique_lock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Status::NotFound("session not found: " + id);
  it->second.info.cursor = seq;
  it->second.info.last_activity_us = now;
  return Status::Ok();
}

Result<std::unique_ptr<Consumer>> Broker::OpenSession(const std::string& id) {
  const int64_t now = clock_->MonotonicMicros();
  uint64_t start;
  ResolvedFilter rf;
  {
    std::unique_lock lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
      return Status::NotFound("session not found, create it first with PUT /clients/" + id);
    }
    SessionInfo& s = it->second.info;
    s.last_activity_us = now;
    start = s.cursor > 0 ? s.cursor + 1 : ring_->head();
    rf = ResolvedFilter::Resolve(s.filter, [&](auto&& fn) {
      devices_->ForEach([&](uint8_t bus, const can::Device& d, const DeviceDiscovery&) { fn(bus, d); });
    });
  }
  return std::unique_ptr<Consumer>(new Consumer(shared_from_this(), start, std::move(rf)));
}

std::optional<SessionInfo> Broker::GetSession(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.info;
}

// ---- tx --------------------------------------------------------------------

Status Broker::SendIsoRequest(uint8_t bus, uint32_t pgn, uint8_t dst) { return Send(IsoRequest(bus, pgn, dst)); }

Status Broker::Send(TxFrame frame) {
  if (!tx_.TryPush(std::move(frame))) return Status::IOError("tx queue full");
  return Status::Ok();
}

// ---- readers ---------------------------------------------------------------

std::string Broker::DevicesJson() const {
  std::shared_lock lock(mu_);
  return broker::DevicesJson(*devices_);
}

std::vector<DeviceRecord> Broker::Devices() const {
  std::shared_lock lock(mu_);
  std::vector<DeviceRecord> out;
  out.reserve(devices_->size());
  devices_->ForEach([&](uint8_t bus, const can::Device& d, const DeviceDiscovery& disc) {
    out.push_back(DeviceRecord{.bus = bus, .device = d, .discovery = disc});
  });
  return out;
}

std::string Broker::ValuesJson(const FilterSpec& filter) const {
  std::shared_lock lock(mu_);
  return broker::ValuesJson(values_->Snapshot(filter, *devices_), *devices_);
}

std::vector<SourceValues> Broker::Values(const FilterSpec& filter) const {
  std::shared_lock lock(mu_);
  return values_->Snapshot(filter, *devices_);
}

std::string Broker::DecodedValuesJson(const FilterSpec& filter) const {
  std::vector<SourceValues> groups;
  std::vector<std::optional<can::Device>> devices;
  {
    std::shared_lock lock(mu_);
    groups = values_->Snapshot(filter, *devices_);
    devices = GroupDevices(groups, *devices_);
  }
  return broker::DecodedValuesJson(groups, devices);
}

std::optional<uint16_t> Broker::ClaimedManufacturer(uint8_t bus, uint8_t source) const {
  std::shared_lock lock(mu_);
  const can::Device* d = devices_->Find(bus, source);
  if (d == nullptr || !d->named()) return std::nullopt;
  return d->iso_name().manufacturer_code;
}

uint64_t Broker::CurrentSeq() const { return ring_->head() - 1; }

BrokerStats Broker::Stats() const {
  BrokerStats s;
  {
    std::shared_lock lock(mu_);
    s.active_sessions = sessions_.size();
    s.active_subscribers = subs_.size();
    s.device_count = devices_->size();
    s.ring_entries = ring_->size();
    s.head_seq = ring_->head();
  }
  s.ring_capacity = ring_->capacity();
  s.frames_total = frames_total_.load(std::memory_order_relaxed);
  s.last_frame_time_us = last_frame_ts_.load(std::memory_order_relaxed);
  s.active_consumers = active_consumers_.load(std::memory_order_relaxed);
  s.bus_silent = bus_silent_.load(std::memory_order_relaxed);
  s.subscriber_drops = subscriber_drops_.load(std::memory_order_relaxed);
  s.consumers_fallen_behind = fallen_behind_.load(std::memory_order_relaxed);
  s.consumer_journal_frames = journal_frames_.load(std::memory_order_relaxed);
  s.discovery_requests = discovery_requests_.load(std::memory_order_relaxed);
  s.discovery_retries = discovery_retries_.load(std::memory_order_relaxed);
  s.tx_dropped = tx_.dropped();
  s.devices_removed = devices_removed_.load(std::memory_order_relaxed);
  s.sessions_expired = sessions_expired_.load(std::memory_order_relaxed);
  s.bus_silence_events = bus_silence_events_.load(std::memory_order_relaxed);
  return s;
}

void Broker::AppendMetrics(std::string* out) const {
  const BrokerStats s = Stats();
  auto metric = [out](std::string_view name, std::string_view type, std::string_view help, const auto& value) {
    AppendPrometheusMetric(out, name, type, help, value);
  };
  metric("lplex_frames_total", "counter", "Total CAN frames processed by the broker.", s.frames_total);
  metric("lplex_ring_buffer_entries", "gauge", "Current number of entries in the ring buffer.", s.ring_entries);
  metric("lplex_ring_buffer_capacity", "gauge", "Ring buffer capacity.", s.ring_capacity);
  metric("lplex_ring_buffer_utilization", "gauge", "Ring buffer utilization (entries / capacity).",
         fmt::format("{:.6f}", s.ring_capacity ? static_cast<double>(s.ring_entries) / s.ring_capacity : 0.0));
  metric("lplex_broker_head_seq", "gauge", "Next sequence number the broker will assign.", s.head_seq);
  metric("lplex_active_sessions", "gauge", "Number of buffered client sessions.", s.active_sessions);
  metric("lplex_active_subscribers", "gauge", "Number of ephemeral subscribers.", s.active_subscribers);
  metric("lplex_active_consumers", "gauge", "Number of pull consumers.", s.active_consumers);
  metric("lplex_devices_total", "gauge", "Number of devices in the registry.", s.device_count);
  metric("lplex_last_frame_timestamp_seconds", "gauge", "Timestamp of the last frame (unix seconds).",
         s.last_frame_time_us == 0 ? std::string("0")
                                   : fmt::format("{:.3f}", static_cast<double>(s.last_frame_time_us) / 1e6));
  metric("lplex_subscriber_dropped_messages_total", "counter",
         "Messages dropped because an ephemeral subscriber's queue was full.", s.subscriber_drops);
  metric("lplex_consumer_fallen_behind_total", "counter",
         "Consumer reads that ended because the cursor left the ring and the journal.", s.consumers_fallen_behind);
  metric("lplex_consumer_journal_frames_total", "counter", "Frames consumers read from the journal tier.",
         s.consumer_journal_frames);
  metric("lplex_discovery_requests_total", "counter", "ISO requests sent by device discovery.", s.discovery_requests);
  metric("lplex_discovery_retries_total", "counter", "Discovery requests re-sent after no answer.",
         s.discovery_retries);
  metric("lplex_tx_dropped_total", "counter", "Frames refused because the tx queue was full.", s.tx_dropped);
  metric("lplex_devices_removed_total", "counter", "Devices removed after the idle timeout.", s.devices_removed);
  metric("lplex_sessions_expired_total", "counter", "Buffered sessions removed by expiry.", s.sessions_expired);
  metric("lplex_bus_silent", "gauge", "1 while no frame arrived within the bus silence timeout.",
         s.bus_silent ? 1 : 0);
  metric("lplex_bus_silence_total", "counter", "Times the bus went silent.", s.bus_silence_events);
}

}  // namespace lplex::broker
