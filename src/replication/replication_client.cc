#include "replication/replication_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
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
  };

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
      const lplex::Status st = RunSession(&end);
      int64_t wait = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        status_.connected = false;
        status_.last_error = st.ok() ? "" : st.message();
        if (stop_) return;
      }
      if (end.handshake_ok) backoff = opt_.backoff_min_us;  // P11: a good session resets the backoff
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

  void OnAck(uint64_t cursor, const pb::BackfillDownstream* backfill) {
    std::lock_guard<std::mutex> lock(mu_);
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

    lplex::Status backfill_status;
    std::thread backfill;
    if (!holes.empty()) {
      if (opt_.journal_dir.empty()) {
        log_->Warn("the cloud reports {} hole(s) but this boat keeps no journal: nothing to backfill", holes.size());
      } else {
        backfill = std::thread([&] {
          SetCurrentThreadName("repl-backfill");
          backfill_status = RunBackfill(stub.get(), &backfill_ctx, holes);
          if (!backfill_status.ok()) live_ctx.TryCancel();  // either stream failing ends the session
        });
      }
    }
    lplex::Status live_status = RunLive(stub.get(), &live_ctx, resp.live_start_from(), &end->lag);
    backfill_ctx.TryCancel();
    if (backfill.joinable()) backfill.join();
    Unregister(&live_ctx);
    Unregister(&backfill_ctx);
    if (!backfill_status.ok()) return backfill_status;
    return live_status;
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

  lplex::Status RunLive(pb::Replication::Stub* stub, grpc::ClientContext* ctx, uint64_t live_start_from, bool* lag) {
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
    lplex::Status result = RunLiveFrames(stream.get(), live_start_from, ended, &gone, lag);
    if (!gone) ctx->TryCancel();
    reader.join();
    const grpc::Status fin = stream->Finish();
    if (!*lag && !stopping() && !fin.ok() && fin.error_code() != grpc::StatusCode::CANCELLED) {
      result = lplex::Status::IOError(fmt::format("live stream to {} closed: {}", opt_.target, GrpcError(fin)));
    }
    return result;
  }

  lplex::Status RunLiveFrames(grpc::ClientReaderWriter<pb::LiveUpstream, pb::LiveDownstream>* stream,
                              uint64_t live_start_from, const std::atomic<bool>& ended, bool* gone, bool* lag) {
    const auto closed = [&] {
      *gone = true;
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
    for (;;) {
      if (clock_->MonotonicMicros() >= next_status) {
        next_status = clock_->MonotonicMicros() + opt_.status_interval_us;
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

  lplex::Status RunBackfill(pb::Replication::Stub* stub, grpc::ClientContext* ctx, std::vector<SeqRange> holes) {
    auto stream = stub->Backfill(ctx);
    std::thread reader([&] {
      SetCurrentThreadName("repl-bf-ack");
      pb::BackfillDownstream down;
      while (stream->Read(&down)) OnAck(down.continuous_through(), &down);
    });
    lplex::Status result = SendHoles(stream.get(), std::move(holes));
    if (result.ok()) {
      stream->WritesDone();  // the cloud answers the last blocks, then ends the stream
    } else {
      ctx->TryCancel();
    }
    reader.join();
    const grpc::Status fin = stream->Finish();
    if (result.ok() && !stopping() && !fin.ok() && fin.error_code() != grpc::StatusCode::CANCELLED) {
      result = lplex::Status::IOError(fmt::format("backfill stream to {} failed: {}", opt_.target, GrpcError(fin)));
    }
    return result;
  }

  lplex::Status SendHoles(grpc::ClientReaderWriter<pb::BackfillUpstream, pb::BackfillDownstream>* stream,
                          std::vector<SeqRange> holes) {
    std::vector<std::string> skipped;
    auto spans = journal::ListJournalSpans(opt_.journal_dir, opt_.journal_prefix, fs_, &skipped);
    if (!spans.ok()) return spans.status();
    for (const std::string& s : skipped) log_->Debug("backfill skips {}", s);
    // Newest first: the recent past is what the cloud's users look at.
    std::sort(holes.begin(), holes.end(), [](const SeqRange& a, const SeqRange& b) { return a.start > b.start; });
    pb::BackfillUpstream up;
    for (const SeqRange& hole : holes) {
      for (const journal::JournalSpan& span : journal::SelectSpansForSeqRange(spans.value(), hole.start, hole.end)) {
        if (stopping()) return lplex::Status::Ok();
        auto reader = journal::StoredBlockReader::OpenPath(span.path, fs_);
        if (!reader.ok()) {
          log_->Warn("backfill cannot open {}: {}", span.path, reader.status().message());
          continue;
        }
        journal::StoredBlockReader& r = *reader.value();
        auto range = r.BlocksForSeqRange(hole.start, hole.end);
        if (!range.ok()) {
          log_->Warn("backfill cannot search {}: {}", span.path, range.status().message());
          continue;
        }
        for (uint64_t n = range.value().first; n < range.value().end; ++n) {
          if (stopping()) return lplex::Status::Ok();
          auto block = r.ReadBackfillBlock(n);
          if (!block.ok()) {
            log_->Warn("backfill skips a block: {}", block.status().message());
            continue;
          }
          const journal::BackfillBlock& b = block.value();
          if (b.frame_count == 0 || b.base_seq + b.frame_count <= hole.start || b.base_seq >= hole.end) continue;
          if (b.data.size() > kMaxBlockData) {
            log_->Warn("backfill skips block {} of {}: {} bytes (block size {}) exceed the 4 MiB gRPC message limit",
                       n, span.path, b.data.size(), b.block_size);
            continue;
          }
          pb::Block* m = up.mutable_block();
          m->set_base_seq(b.base_seq);
          m->set_base_time_us(b.base_time_us);
          m->set_frame_count(b.frame_count);
          m->set_data(b.data.data(), b.data.size());
          m->set_compressed(b.compressed);
          m->set_block_size(b.block_size);
          if (!stream->Write(up)) {
            return lplex::Status::IOError(fmt::format("backfill stream to {} closed by the cloud", opt_.target));
          }
          std::lock_guard<std::mutex> lock(mu_);
          ++status_.backfill_blocks_sent;
          status_.backfill_bytes_sent += b.data.size();
        }
      }
    }
    return lplex::Status::Ok();
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
  if (o.status_interval_us <= 0) {
    return lplex::Status::InvalidArgument(
        fmt::format("replication: status interval {} us is not valid (want > 0)", o.status_interval_us));
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
