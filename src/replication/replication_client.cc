#include "replication/replication_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include "broker/broker.h"
#include "broker/device_table.h"
#include "can/can_id.h"
#include "core/clock.h"
#include "core/clock_condition.h"
#include "core/file_system.h"
#include "core/instance_id.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "journal/journal_spans.h"
#include "journal/stored_blocks.h"
#include "lplex/replication/v1/replication.grpc.pb.h"
#include "lplex/replication/v1/replication.pb.h"

namespace lplex::replication {

namespace pb = lplex::replication::v1;

namespace {

constexpr uint32_t kPgnIsoAddressClaim = 60928;
constexpr uint32_t kPgnProductInfo = 126996;
constexpr size_t kProductInfoLen = 134;
// gRPC's default receive limit on the cloud is 4 MiB for the whole message;
// a Block's other fields and framing take a few dozen bytes.
constexpr size_t kMaxBlockData = 4 * 1024 * 1024 - 1024;
// Where Debian (and most distributions) keep the system's trusted roots, added
// next to a private CA so that a public certificate still verifies.
constexpr const char* kSystemRoots = "/etc/ssl/certs/ca-certificates.crt";

Result<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return lplex::Status::IOError(fmt::format("replication: cannot read {} {}", what, path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) return lplex::Status::IOError(fmt::format("replication: {} {} is empty", what, path));
  return ss.str();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The payload of a frame's JSON ("data":"0011aabb", can/frame_json.h): the
// broker's ring keeps frames as JSON only. False when it is not there.
bool PayloadFromJson(std::string_view json, std::string* out) {
  constexpr std::string_view kKey = "\"data\":\"";
  const size_t at = json.find(kKey);
  if (at == std::string_view::npos) return false;
  const size_t begin = at + kKey.size();
  const size_t end = json.find('"', begin);
  if (end == std::string_view::npos || (end - begin) % 2 != 0) return false;
  out->resize((end - begin) / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    const int hi = HexDigit(json[begin + 2 * i]);
    const int lo = HexDigit(json[begin + 2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

void PutFixedString(std::string* body, size_t offset, size_t width, const std::string& s) {
  body->replace(offset, std::min(width, s.size()), s, 0, std::min(width, s.size()));
}

std::string GrpcError(const grpc::Status& s) {
  return fmt::format("{} ({})", s.error_message().empty() ? "no message" : s.error_message(),
                     static_cast<int>(s.error_code()));
}

uint64_t Missing(const std::vector<SeqRange>& holes) {
  uint64_t n = 0;
  for (const auto& h : holes) n += h.end > h.start ? h.end - h.start : 0;
  return n;
}

// "1085..1135, 2000..2009 (61 seqs)" for a log line: seqs inclusive, the
// first few ranges only.
std::string DescribeSeqs(const std::vector<SeqRange>& ranges) {
  constexpr size_t kShown = 4;
  std::string out;
  for (size_t i = 0; i < ranges.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("{}..{}", ranges[i].start, ranges[i].end - 1);
  }
  if (ranges.size() > kShown) out += fmt::format(" and {} more range(s)", ranges.size() - kShown);
  return fmt::format("{} ({} seqs)", out, Missing(ranges));
}

// `range` minus the ranges in `covered` (any order, may overlap), ascending.
std::vector<SeqRange> Uncovered(SeqRange range, std::vector<SeqRange> covered) {
  std::sort(covered.begin(), covered.end(), [](const SeqRange& a, const SeqRange& b) { return a.start < b.start; });
  std::vector<SeqRange> out;
  uint64_t at = range.start;
  for (const SeqRange& c : covered) {
    if (at >= range.end) break;
    if (c.end <= at) continue;
    if (c.start > at) out.push_back({at, std::min(c.start, range.end)});
    at = std::max(at, c.end);
  }
  if (at < range.end) out.push_back({at, range.end});
  return out;
}

// The part of [start, end) inside [lo, hi), appended to *out when not empty.
void AppendClipped(uint64_t start, uint64_t end, uint64_t lo, uint64_t hi, std::vector<SeqRange>* out) {
  const uint64_t s = std::max(start, lo);
  const uint64_t e = std::min(end, hi);
  if (s < e) out->push_back({s, e});
}

}  // namespace

class ReplicationClient::Impl {
 public:
  Impl(ReplicationClientOptions o, std::shared_ptr<grpc::ChannelCredentials> creds, std::unique_ptr<Logger> log)
      : opt_(std::move(o)),
        clock_(opt_.clock ? opt_.clock : Clock::Real()),
        fs_(opt_.fs ? opt_.fs : FileSystem::Default()),
        log_(std::move(log)),
        creds_(std::move(creds)),
        cond_(clock_) {
    status_.instance_id = opt_.instance_id;
  }
  ~Impl() { Stop(); }

  void Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      for (grpc::ClientContext* c : contexts_) c->TryCancel();
      if (consumer_) consumer_->Close();
    }
    cond_.NotifyAll();
    if (thread_.joinable()) thread_.join();
  }

  ReplicationStatus GetStatus() const {
    ReplicationStatus s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = status_;
    }
    s.local_head_seq = opt_.broker->CurrentSeq();
    s.live_lag = s.local_head_seq > s.cloud_cursor ? s.local_head_seq - s.cloud_cursor : 0;
    s.backfill_remaining_seqs = Missing(s.holes);
    return s;
  }

 private:
  // How a session ended, besides its error.
  struct SessionEnd {
    bool handshake_ok = false;
    bool lag = false;
    bool acked = false;  // the cloud acknowledged something during the session
    bool throttled = false;  // the cloud ended the live stream over its rate limit
  };

  // What the two streams of one session know of each other (guarded by mu_).
  struct Session {
    bool live_over = false;             // RunLive returned: the boat ends the backfill too
    bool backfill_failed = false;       // the backfill failed first: the boat cancelled Live
    bool backfill_stream_over = false;  // the backfill stream's reader saw the stream end
  };

  using BackfillStream = grpc::ClientReaderWriter<pb::BackfillUpstream, pb::BackfillDownstream>;

  void Run() {
    SetCurrentThreadName("replication");
    int64_t backoff = opt_.backoff_min_us;
    int64_t last_lag_reconnect = INT64_MIN;
    for (bool first = true;; first = false) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        if (!first) ++status_.reconnects;
      }
      SessionEnd end;
      const uint64_t acks_before = AcksReceived();
      const lplex::Status st = RunSession(&end);
      end.acked = AcksReceived() != acks_before;
      int64_t wait = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        status_.connected = false;
        status_.last_error = st.ok() ? "" : st.message();
        if (stop_) return;
      }
      // P11: a good session resets the backoff. Good = the cloud took frames
      // (acknowledged something), not merely answered the handshake: a cloud
      // that shakes hands and then fails every stream would otherwise be
      // retried at the minimum backoff forever.
      // A stream the cloud ended over its rate limit is not good either: the
      // boat would reconnect every second into the same limit.
      if (end.handshake_ok && end.acked && !end.throttled) backoff = opt_.backoff_min_us;
      if (end.lag) {
        // §6.1: a lagging stream is restarted at once (the cloud then lists
        // the skipped seqs as a hole), but not more often than the interval.
        const int64_t now = clock_->MonotonicMicros();
        if (last_lag_reconnect != INT64_MIN) wait = std::max<int64_t>(0, last_lag_reconnect + opt_.min_lag_reconnect_interval_us - now);
        last_lag_reconnect = now + wait;
        backoff = opt_.backoff_min_us;
        log_->Warn("live stream to {} fell {} (max {}); reconnecting in {} ms", opt_.target, st.message(),
                   opt_.max_live_lag, wait / 1000);
      } else {
        wait = backoff;
        backoff = std::min(backoff * 2, opt_.backoff_max_us);
        log_->Warn("session with {} ended: {}; reconnecting in {} ms", opt_.target, st.message(), wait / 1000);
      }
      std::unique_lock<std::mutex> lock(mu_);
      cond_.WaitUntil(lock, clock_->Monotonic() + std::chrono::microseconds(wait), [&] { return stop_; });
      if (stop_) return;
    }
  }

  // Registers a context so that Stop() can cancel it; false when stopping.
  bool Register(grpc::ClientContext* c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    contexts_.push_back(c);
    return true;
  }
  void Unregister(grpc::ClientContext* c) {
    std::lock_guard<std::mutex> lock(mu_);
    contexts_.erase(std::remove(contexts_.begin(), contexts_.end(), c), contexts_.end());
  }
  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  uint64_t CloudCursor() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_.cloud_cursor;
  }

  // True when the seq after the cloud's cursor lies in a hole the cloud has
  // listed (handshake, or its latest backfill answer): the cursor waits
  // there for backfill, or for ever when the boat no longer has those seqs
  // (the protocol cannot say "gone"). A new handshake would list the same
  // hole, so a cursor parked there is no reason to reconnect.
  bool CursorAtKnownHole(uint64_t cursor) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const SeqRange& h : status_.holes) {
      if (h.start <= cursor + 1 && cursor + 1 < h.end) return true;
    }
    return false;
  }

  uint64_t AcksReceived() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_received_;
  }

  void OnAck(uint64_t cursor, const pb::BackfillDownstream* backfill) {
    std::lock_guard<std::mutex> lock(mu_);
    ++acks_received_;
    status_.cloud_cursor = cursor;
    status_.last_ack_us = clock_->NowMicros();
    if (backfill) {
      status_.holes.clear();
      for (const auto& r : backfill->remaining()) status_.holes.push_back({r.start(), r.end()});
    }
  }

  // Sum of the *.lpj files in the journal dir (0 without one).
  uint64_t JournalBytes() const {
    if (opt_.journal_dir.empty()) return 0;
    auto list = fs_->ListDir(opt_.journal_dir);
    if (!list.ok()) return 0;
    uint64_t total = 0;
    for (const DirEntry& e : list.value()) {
      if (e.is_dir || e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".lpj") != 0) continue;
      auto size = fs_->FileSize(opt_.journal_dir + "/" + e.name);
      if (size.ok()) total += size.value();
    }
    return total;
  }

  lplex::Status RunSession(SessionEnd* end) {
    grpc::ChannelArguments args;
    // Keepalive pings, so a link that died silently (a cellular handover, a
    // NAT timeout) ends the session in ~40 s instead of the 15+ minutes of
    // TCP retransmissions; the cloud permits pings every 10 s.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    auto channel = grpc::CreateCustomChannel(opt_.target, creds_, args);
    auto stub = pb::Replication::NewStub(channel);

    pb::HandshakeRequest req;
    req.set_instance_id(opt_.instance_id);
    req.set_head_seq(opt_.broker->CurrentSeq());
    req.set_journal_bytes(JournalBytes());
    pb::HandshakeResponse resp;
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(opt_.handshake_timeout_us));
      if (!Register(&ctx)) return lplex::Status::Ok();
      const grpc::Status s = stub->Handshake(&ctx, req, &resp);
      Unregister(&ctx);
      if (!s.ok()) return lplex::Status::IOError(fmt::format("handshake with {} failed: {}", opt_.target, GrpcError(s)));
    }
    end->handshake_ok = true;
    std::vector<SeqRange> holes;
    for (const auto& r : resp.holes()) holes.push_back({r.start(), r.end()});
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.connected = true;
      status_.cloud_cursor = resp.cursor();
      status_.holes = holes;
    }
    log_->Info("connected to {} as {}: cloud cursor {}, {} hole(s), live from {}", opt_.target, opt_.instance_id,
               resp.cursor(), holes.size(), resp.live_start_from());

    grpc::ClientContext live_ctx;
    live_ctx.AddMetadata("x-instance-id", opt_.instance_id);
    grpc::ClientContext backfill_ctx;
    backfill_ctx.AddMetadata("x-instance-id", opt_.instance_id);
    if (!Register(&live_ctx)) return lplex::Status::Ok();
    if (!Register(&backfill_ctx)) {
      Unregister(&live_ctx);
      return lplex::Status::Ok();
    }

    Session session;
    lplex::Status backfill_status;
    std::thread backfill;
    if (!holes.empty()) {
      if (opt_.journal_dir.empty()) {
        log_->Warn("the cloud reports {} hole(s) but this boat keeps no journal: nothing to backfill", holes.size());
      } else {
        backfill = std::thread([&] {
          SetCurrentThreadName("repl-backfill");
          backfill_status = RunBackfill(stub.get(), &backfill_ctx, holes, &session);
          if (backfill_status.ok()) return;
          bool first = false;
          {
            std::lock_guard<std::mutex> lock(mu_);
            first = !session.live_over;
            session.backfill_failed = first;
          }
          if (first) live_ctx.TryCancel();  // either stream failing ends the session
        });
      }
    }
    lplex::Status live_status = RunLive(stub.get(), &live_ctx, resp.live_start_from(), &end->lag, &end->throttled, &session);
    {
      std::lock_guard<std::mutex> lock(mu_);
      session.live_over = true;
    }
    cond_.NotifyAll();  // a backfill waiting for the journal ends now
    backfill_ctx.TryCancel();
    if (backfill.joinable()) backfill.join();
    Unregister(&live_ctx);
    Unregister(&backfill_ctx);
    // The stream that failed first tells why the session ended: a failed
    // live stream cancels the backfill, whose error then only says so.
    if (session.backfill_failed) return backfill_status;
    return live_status;
  }

  bool LiveOver(const Session& session) const {
    std::lock_guard<std::mutex> lock(mu_);
    return session.live_over;
  }
  bool BackfillFailed(const Session& session) const {
    std::lock_guard<std::mutex> lock(mu_);
    return session.backfill_failed;
  }

  // The first seq the boat can still serve: the ring's tail, or the first
  // journaled seq when that is older.
  uint64_t OldestAvailableSeq() const {
    const broker::BrokerStats st = opt_.broker->Stats();
    uint64_t oldest = st.head_seq - std::min(st.ring_entries, st.head_seq);
    if (!opt_.journal_dir.empty()) {
      auto spans = journal::ListJournalSpans(opt_.journal_dir, opt_.journal_prefix, fs_);
      if (spans.ok() && !spans.value().empty()) oldest = std::min(oldest, spans.value().front().first_seq);
    }
    return std::max<uint64_t>(oldest, 1);
  }

  // The device snapshot (§1.5): every named device as a seq-0 60928 claim,
  // and its 126996 product info when known, so that the replica's registry
  // knows the devices without ever asking the bus.
  bool SendDeviceSnapshot(grpc::ClientReaderWriter<pb::LiveUpstream, pb::LiveDownstream>* stream) {
    const int64_t now = clock_->NowMicros();
    pb::LiveUpstream up;
    for (const broker::DeviceRecord& rec : opt_.broker->Devices()) {
      const can::Device& d = rec.device;
      if (!d.named()) continue;
      pb::LiveFrame* f = up.mutable_frame();
      f->set_seq(0);
      f->set_timestamp_us(now);
      f->set_can_id(can::BuildCanId({.priority = 6, .pgn = kPgnIsoAddressClaim, .source = d.source, .destination = 0xFF}));
      std::string name(8, '\0');
      for (int i = 0; i < 8; ++i) name[i] = static_cast<char>((d.name >> (8 * i)) & 0xFF);
      f->set_data(std::move(name));
      if (!stream->Write(up)) return false;
      if (d.product.empty()) continue;
      std::string body(kProductInfoLen, '\0');
      body[2] = static_cast<char>(d.product.product_code & 0xFF);
      body[3] = static_cast<char>(d.product.product_code >> 8);
      PutFixedString(&body, 4, 32, d.product.model_id);
      PutFixedString(&body, 36, 40, d.product.software_version);
      PutFixedString(&body, 76, 24, d.product.model_version);
      PutFixedString(&body, 100, 32, d.product.model_serial);
      f->set_can_id(can::BuildCanId({.priority = 6, .pgn = kPgnProductInfo, .source = d.source, .destination = 0xFF}));
      f->set_data(std::move(body));
      if (!stream->Write(up)) return false;
    }
    return true;
  }

  lplex::Status RunLive(pb::Replication::Stub* stub, grpc::ClientContext* ctx, uint64_t live_start_from, bool* lag,
                        bool* throttled, const Session* session) {
    auto stream = stub->Live(ctx);
    // The cloud ends a stream by its status, which only a read sees: the
    // sender, idle while the bus is quiet, looks at this between waits.
    std::atomic<bool> ended{false};
    std::thread reader([&] {
      SetCurrentThreadName("repl-live-ack");
      pb::LiveDownstream down;
      while (stream->Read(&down)) OnAck(down.acked_through(), nullptr);
      ended = true;
    });

    bool gone = false;  // the stream is over: the cloud's status is on its way, do not cancel it
    lplex::Status result = RunLiveFrames(stream.get(), live_start_from, ended, *session, &gone, lag);
    if (!gone) ctx->TryCancel();
    reader.join();
    const grpc::Status fin = stream->Finish();
    // The cloud's rate limit (§6.1): reconnecting sooner only hits it again.
    *throttled = fin.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
                 fin.error_message().find("rate limit") != std::string::npos;
    if (!*lag && !stopping() && !BackfillFailed(*session) && !fin.ok() &&
        fin.error_code() != grpc::StatusCode::CANCELLED) {
      result = lplex::Status::IOError(fmt::format("live stream to {} closed: {}", opt_.target, GrpcError(fin)));
    }
    return result;
  }

  lplex::Status RunLiveFrames(grpc::ClientReaderWriter<pb::LiveUpstream, pb::LiveDownstream>* stream,
                              uint64_t live_start_from, const std::atomic<bool>& ended, const Session& session,
                              bool* gone, bool* lag) {
    const auto closed = [&] {
      *gone = true;
      if (BackfillFailed(session)) {
        return lplex::Status::IOError(
            fmt::format("live stream to {} cancelled by this boat: its backfill stream failed", opt_.target));
      }
      return lplex::Status::IOError(fmt::format("live stream to {} closed by the cloud", opt_.target));
    };
    if (!SendDeviceSnapshot(stream)) return closed();

    // The start (§1.5 step 3, P3): what the cloud asked for, never past the
    // head, and never before the oldest seq the boat still has.
    const uint64_t head = opt_.broker->CurrentSeq();
    uint64_t start = live_start_from;
    if (start == 0 || start > head + 1) start = head + 1;
    const uint64_t oldest = OldestAvailableSeq();
    if (start < oldest) {
      log_->Info("the cloud asked for seqs from {}; the oldest this boat still has is {}: live starts there", start,
                 oldest);
      start = oldest;
    }
    std::unique_ptr<broker::Consumer> consumer = opt_.broker->NewConsumer(start, {});
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return lplex::Status::Ok();
      consumer_ = consumer.get();
    }
    struct Unset {
      Impl* self;
      ~Unset() {
        std::lock_guard<std::mutex> lock(self->mu_);
        self->consumer_ = nullptr;
      }
    } unset{this};

    pb::LiveUpstream frame_msg;
    pb::LiveUpstream status_msg;
    broker::ConsumerItem item;
    int64_t next_status = clock_->MonotonicMicros() + opt_.status_interval_us;
    uint64_t since_lag_check = 0;
    // The cloud cursor as last seen moving, and since when (monotonic).
    uint64_t watched_cursor = CloudCursor();
    int64_t watched_since = clock_->MonotonicMicros();
    for (;;) {
      if (clock_->MonotonicMicros() >= next_status) {
        const int64_t now = clock_->MonotonicMicros();
        next_status = now + opt_.status_interval_us;
        const uint64_t cursor = CloudCursor();
        if (cursor != watched_cursor) {
          watched_cursor = cursor;
          watched_since = now;
        } else if (opt_.ack_stall_reconnect_us > 0 && now - watched_since >= opt_.ack_stall_reconnect_us &&
                   consumer->cursor() > cursor + 1 && !CursorAtKnownHole(cursor)) {
          return lplex::Status::IOError(fmt::format(
              "the cloud has acknowledged nothing past seq {} for {} s while this boat sent up to seq {} (it is "
              "missing a seq); reconnecting so that it lists the hole for backfill",
              cursor, (now - watched_since) / 1'000'000, consumer->cursor() - 1));
        }
        pb::LiveStatus* st = status_msg.mutable_status();
        st->set_head_seq(opt_.broker->CurrentSeq());
        st->set_journal_bytes(JournalBytes());
        if (!stream->Write(status_msg)) return closed();
      }
      if (ended) return closed();
      const broker::NextResult r = consumer->Next(&item, std::chrono::milliseconds(100));
      if (r == broker::NextResult::kTimeout) continue;
      if (r == broker::NextResult::kClosed) {
        if (stopping()) return lplex::Status::Ok();
        return lplex::Status::IOError("the broker shut down");
      }
      if (r == broker::NextResult::kFallenBehind) {
        return lplex::Status::IOError(fmt::format("live consumer fell behind at seq {}: {}", consumer->cursor(),
                                                  consumer->error().message()));
      }
      pb::LiveFrame* f = frame_msg.mutable_frame();
      f->set_seq(item.seq);
      f->set_timestamp_us(item.timestamp_us);
      f->set_can_id(can::BuildCanId(item.header));
      if (!PayloadFromJson(item.json.view(), f->mutable_data())) {
        log_->Warn("frame {} has no payload in its JSON; sent empty", item.seq);
        f->clear_data();
      }
      if (!stream->Write(frame_msg)) return closed();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++status_.live_frames_sent;
      }
      if (opt_.max_live_lag > 0 && ++since_lag_check >= std::max<uint64_t>(opt_.lag_check_frames, 1)) {
        since_lag_check = 0;
        const uint64_t now_head = opt_.broker->CurrentSeq();
        const uint64_t behind = now_head >= consumer->cursor() ? now_head - consumer->cursor() + 1 : 0;
        if (behind > opt_.max_live_lag) {
          *lag = true;
          return lplex::Status::IOError(fmt::format("{} seqs behind the head", behind));
        }
      }
    }
  }

  lplex::Status RunBackfill(pb::Replication::Stub* stub, grpc::ClientContext* ctx, std::vector<SeqRange> holes,
                            Session* session) {
    auto stream = stub->Backfill(ctx);
    std::thread reader([&] {
      SetCurrentThreadName("repl-bf-ack");
      pb::BackfillDownstream down;
      while (stream->Read(&down)) OnAck(down.continuous_through(), &down);
      {
        std::lock_guard<std::mutex> lock(mu_);
        session->backfill_stream_over = true;
      }
      cond_.NotifyAll();  // a backfill waiting for the journal learns the stream is gone
    });
    lplex::Status result = SendHoles(stream.get(), std::move(holes), session);
    if (result.ok()) {
      stream->WritesDone();  // the cloud answers the last blocks, then ends the stream
    } else {
      ctx->TryCancel();
    }
    reader.join();
    const grpc::Status fin = stream->Finish();
    if (!stopping() && !LiveOver(*session) && !fin.ok() && fin.error_code() != grpc::StatusCode::CANCELLED) {
      // The cloud's own words, when it ended the stream with an error.
      result = lplex::Status::IOError(
          result.ok() ? fmt::format("backfill stream to {} failed: {}", opt_.target, GrpcError(fin))
                      : fmt::format("{}: {}", result.message(), GrpcError(fin)));
    }
    return result;
  }

  // Why a write on the backfill stream failed: the boat cancels it when the
  // live stream ended; otherwise the cloud closed it.
  lplex::Status BackfillClosed(const Session& session) const {
    if (LiveOver(session)) {
      return lplex::Status::IOError(
          fmt::format("backfill stream to {} cancelled by this boat: the live stream ended", opt_.target));
    }
    return lplex::Status::IOError(fmt::format("backfill stream to {} closed by the cloud", opt_.target));
  }

  // Sends the journal blocks that hold the holes' seqs, newest hole first,
  // each block once. Seqs not journaled yet (still in the journal's open
  // block) are waited for: every backfill_recheck interval the journal files
  // are looked at, and when they grew, another pass sends what they now
  // hold. Ends when nothing the boat can serve is left (Ok), on Stop (Ok),
  // or when a stream ends (an error saying which).
  lplex::Status SendHoles(BackfillStream* stream, std::vector<SeqRange> holes, Session* session) {
    // Newest first: the recent past is what the cloud's users look at.
    std::sort(holes.begin(), holes.end(), [](const SeqRange& a, const SeqRange& b) { return a.start > b.start; });
    std::map<uint64_t, uint64_t> sent;  // base seq → end seq of every block sent in this session
    bool told_wait = false;
    for (;;) {
      // Read before listing: a block written during the pass changes it.
      const uint64_t journal_bytes = JournalBytes();
      PassResult pass;
      lplex::Status st = SendPass(stream, holes, *session, &sent, &pass);
      if (!st.ok() || stopping()) return st;
      if (pass.unjournaled.empty()) return lplex::Status::Ok();
      holes = std::move(pass.unjournaled);
      if (!told_wait) {
        told_wait = true;
        log_->Info(
            "backfill: seqs {} are not in this boat's journal files yet (they end before seq {}; the head is {}): "
            "they are sent once the journal writes its open block",
            DescribeSeqs(holes), pass.journal_end, pass.head);
      }
      for (;;) {
        std::unique_lock<std::mutex> lock(mu_);
        cond_.WaitUntil(lock, clock_->Monotonic() + std::chrono::microseconds(opt_.backfill_recheck_interval_us),
                        [&] { return stop_ || session->live_over || session->backfill_stream_over; });
        if (stop_) return lplex::Status::Ok();
        if (session->live_over) {
          return lplex::Status::IOError(fmt::format(
              "backfill stream to {} cancelled by this boat while seqs {} waited for its journal: the live "
              "stream ended",
              opt_.target, DescribeSeqs(holes)));
        }
        if (session->backfill_stream_over) {
          return lplex::Status::IOError(
              fmt::format("backfill stream to {} closed by the cloud while seqs {} waited for this boat's journal",
                          opt_.target, DescribeSeqs(holes)));
        }
        lock.unlock();
        if (JournalBytes() != journal_bytes) break;  // the journal grew: another pass
      }
    }
  }

  struct PassResult {
    std::vector<SeqRange> unjournaled;  // not in the journal yet, at or before the head (newest first)
    uint64_t journal_end = 0;           // one past the journal's last seq
    uint64_t head = 0;
  };

  // One pass over the journal files as they are now: sends every block that
  // holds seqs of `holes` (in their order; a hole's blocks in seq order) and
  // is not in *sent yet. What no block covers goes to pass->unjournaled when
  // the journal may still get it (past its last seq, at or before the head);
  // the rest the boat can never send, and the log says so, once.
  lplex::Status SendPass(BackfillStream* stream, const std::vector<SeqRange>& holes, const Session& session,
                         std::map<uint64_t, uint64_t>* sent, PassResult* pass) {
    std::vector<std::string> skipped;
    auto listed = journal::ListJournalSpans(opt_.journal_dir, opt_.journal_prefix, fs_, &skipped);
    if (!listed.ok()) return listed.status();
    for (const std::string& s : skipped) log_->Debug("backfill skips {}", s);
    const std::vector<journal::JournalSpan>& spans = listed.value();
    // With no journal file yet, every seq up to the head may still come.
    const uint64_t journal_first = spans.empty() ? 1 : spans.front().first_seq;
    pass->journal_end = spans.empty() ? 1 : JournalEnd(spans);
    pass->head = opt_.broker->CurrentSeq();

    std::vector<SeqRange> older;   // before the journal's first seq: gone
    std::vector<SeqRange> gaps;    // inside the journal's span, in no block it can send
    std::vector<SeqRange> beyond;  // past the head
    std::vector<SeqRange> never;   // older, and gaps of holes whose files read cleanly: never sendable
    pb::BackfillUpstream up;
    for (const SeqRange& hole : holes) {
      std::vector<SeqRange> covered;
      bool trouble = false;  // a file or block of this hole could not be read: its gaps may be there
      for (const journal::JournalSpan& span : journal::SelectSpansForSeqRange(spans, hole.start, hole.end)) {
        if (stopping()) return lplex::Status::Ok();
        auto reader = journal::StoredBlockReader::OpenPath(span.path, fs_);
        if (!reader.ok()) {
          log_->Warn("backfill cannot open {}: {}", span.path, reader.status().message());
          trouble = true;
          continue;
        }
        journal::StoredBlockReader& r = *reader.value();
        auto range = r.BlocksForSeqRange(hole.start, hole.end);
        if (!range.ok()) {
          log_->Warn("backfill cannot search {}: {}", span.path, range.status().message());
          trouble = true;
          continue;
        }
        for (uint64_t n = range.value().first; n < range.value().end; ++n) {
          if (stopping()) return lplex::Status::Ok();
          // A block already sent (it held an earlier hole too) is not read
          // or sent again: its outer header names it.
          if (auto meta = r.BlockMeta(n); meta.ok()) {
            if (auto it = sent->find(meta.value().base_seq); it != sent->end()) {
              covered.push_back({it->first, it->second});
              continue;
            }
          }
          auto block = r.ReadBackfillBlock(n);
          if (!block.ok()) {
            log_->Warn("backfill skips a block: {}", block.status().message());
            trouble = true;
            continue;
          }
          const journal::BackfillBlock& b = block.value();
          if (b.frame_count == 0 || b.base_seq + b.frame_count <= hole.start || b.base_seq >= hole.end) continue;
          if (b.data.size() > kMaxBlockData) {
            log_->Warn("backfill skips block {} of {}: {} bytes (block size {}) exceed the 4 MiB gRPC message limit",
                       n, span.path, b.data.size(), b.block_size);
            trouble = true;
            continue;
          }
          pb::Block* m = up.mutable_block();
          m->set_base_seq(b.base_seq);
          m->set_base_time_us(b.base_time_us);
          m->set_frame_count(b.frame_count);
          m->set_data(b.data.data(), b.data.size());
          m->set_compressed(b.compressed);
          m->set_block_size(b.block_size);
          if (!stream->Write(up)) return BackfillClosed(session);
          (*sent)[b.base_seq] = b.base_seq + b.frame_count;
          covered.push_back({b.base_seq, b.base_seq + b.frame_count});
          std::lock_guard<std::mutex> lock(mu_);
          ++status_.backfill_blocks_sent;
          status_.backfill_bytes_sent += b.data.size();
        }
      }
      for (const SeqRange& part : Uncovered(hole, std::move(covered))) {
        AppendClipped(part.start, part.end, 0, journal_first, &older);
        AppendClipped(part.start, part.end, 0, journal_first, &never);
        AppendClipped(part.start, part.end, journal_first, pass->journal_end, &gaps);
        if (!trouble) AppendClipped(part.start, part.end, journal_first, pass->journal_end, &never);
        AppendClipped(part.start, part.end, pass->journal_end, pass->head + 1, &pass->unjournaled);
        AppendClipped(part.start, part.end, std::max(pass->journal_end, pass->head + 1), UINT64_MAX, &beyond);
      }
    }
    if (!older.empty()) {
      log_->Warn("backfill: seqs {} are older than this boat's journal (it starts at seq {}): not sent",
                 DescribeSeqs(older), journal_first);
    }
    if (!gaps.empty()) {
      log_->Warn("backfill: seqs {} are not in this boat's journal (never journaled, or in blocks it cannot read or "
                 "send): not sent",
                 DescribeSeqs(gaps));
    }
    if (!beyond.empty()) {
      log_->Warn("backfill: seqs {} are past this boat's head (seq {}): not sent", DescribeSeqs(beyond), pass->head);
    }
    // Only a pass that read every journal file can say what the boat does not
    // have: a file skipped now (it could not be opened) may hold those seqs.
    if (!never.empty() && skipped.empty()) {
      // Our extension (see the .proto): the cloud stops owing them, so its
      // cursor can pass. A reference cloud skips the message.
      pb::BackfillUpstream gone;
      for (const SeqRange& r : never) {
        pb::SeqRange* m = gone.add_unavailable();
        m->set_start(r.start);
        m->set_end(r.end);
      }
      if (!stream->Write(gone)) return BackfillClosed(session);
    }
    return lplex::Status::Ok();
  }

  // One past the last seq the journal files hold: the end of the last block
  // of the file whose blocks reach furthest (one block decompressed). When
  // that block cannot be read, one past its base seq.
  uint64_t JournalEnd(const std::vector<journal::JournalSpan>& spans) const {
    const journal::JournalSpan& last = *std::max_element(
        spans.begin(), spans.end(),
        [](const journal::JournalSpan& a, const journal::JournalSpan& b) { return a.last_base_seq < b.last_base_seq; });
    const uint64_t fallback = last.last_base_seq + 1;
    auto reader = journal::StoredBlockReader::OpenPath(last.path, fs_);
    if (!reader.ok()) return fallback;
    auto n = reader.value()->FindBlockForSeq(last.last_base_seq);
    if (!n.ok()) return fallback;
    auto block = reader.value()->ReadVerifiedBlock(n.value());
    if (!block.ok()) return fallback;
    return std::max(fallback, block.value().meta.base_seq + block.value().frame_count);
  }

  const ReplicationClientOptions opt_;
  Clock* const clock_;
  FileSystem* const fs_;
  std::unique_ptr<Logger> log_;
  std::shared_ptr<grpc::ChannelCredentials> creds_;

  mutable std::mutex mu_;  // guards everything below
  ClockCondition cond_;    // the backoff wait; Stop() cuts it short
  bool started_ = false;
  bool stop_ = false;
  std::vector<grpc::ClientContext*> contexts_;  // calls in flight, for Stop()
  broker::Consumer* consumer_ = nullptr;       // the live consumer, for Stop()
  ReplicationStatus status_;
  uint64_t acks_received_ = 0;  // acknowledgements over every session (mu_)
  std::thread thread_;
};

Result<std::unique_ptr<ReplicationClient>> ReplicationClient::Create(ReplicationClientOptions o) {
  if (o.target.empty()) return lplex::Status::InvalidArgument("replication: target is empty (want host:port)");
  if (lplex::Status s = ValidateInstanceId(o.instance_id); !s.ok()) {
    return lplex::Status::InvalidArgument("replication: " + s.message());
  }
  if (!o.broker) return lplex::Status::InvalidArgument("replication: no broker to replicate");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return lplex::Status::InvalidArgument(fmt::format(
        "replication: a client certificate needs its key (cert \"{}\", key \"{}\"): set both or neither",
        o.tls_cert_file, o.tls_key_file));
  }
  if (o.backoff_min_us <= 0 || o.backoff_max_us < o.backoff_min_us) {
    return lplex::Status::InvalidArgument(fmt::format(
        "replication: backoff {}..{} us is not valid (want 0 < min <= max)", o.backoff_min_us, o.backoff_max_us));
  }
  if (o.ack_stall_reconnect_us < 0) {
    return lplex::Status::InvalidArgument(fmt::format(
        "replication: ack stall reconnect {} us is not valid (want 0 = never, or > 0)", o.ack_stall_reconnect_us));
  }
  if (o.status_interval_us <= 0) {
    return lplex::Status::InvalidArgument(
        fmt::format("replication: status interval {} us is not valid (want > 0)", o.status_interval_us));
  }
  if (o.backfill_recheck_interval_us <= 0) {
    return lplex::Status::InvalidArgument(fmt::format(
        "replication: backfill recheck interval {} us is not valid (want > 0)", o.backfill_recheck_interval_us));
  }

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (o.insecure) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!o.tls_ca_file.empty()) {
      auto ca = ReadPem(o.tls_ca_file, "CA file");
      if (!ca.ok()) return ca.status();
      // gRPC replaces its roots with the ones given: keep the system's too,
      // so the private CA is an addition, not a restriction.
      std::string roots = std::move(ca).value();
      std::ifstream system(kSystemRoots, std::ios::binary);
      if (system) {
        std::ostringstream ss;
        ss << system.rdbuf();
        roots += "\n" + ss.str();
      }
      ssl.pem_root_certs = std::move(roots);
    }
    if (!o.tls_cert_file.empty()) {
      auto cert = ReadPem(o.tls_cert_file, "client certificate");
      if (!cert.ok()) return cert.status();
      auto key = ReadPem(o.tls_key_file, "client key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = std::move(cert).value();
      ssl.pem_private_key = std::move(key).value();
    }
    creds = grpc::SslCredentials(ssl);
  }
  auto log = WithPrefix(o.logger ? o.logger : Logger::Default(), "replication: ");
  return std::unique_ptr<ReplicationClient>(
      new ReplicationClient(std::make_unique<Impl>(std::move(o), std::move(creds), std::move(log))));
}

ReplicationClient::ReplicationClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplicationClient::~ReplicationClient() { Stop(); }
void ReplicationClient::Start() { impl_->Start(); }
void ReplicationClient::Stop() { impl_->Stop(); }
ReplicationStatus ReplicationClient::Status() const { return impl_->GetStatus(); }

}  // namespace lplex::replication
