#include "replication/replication_server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "can/can_id.h"
#include "can/frame.h"
#include "cloud/instance_manager.h"
#include "core/instance_id.h"
#include "journal/block_decoder.h"
#include "journal/block_writer.h"
#include "journal/format.h"
#include "journal/stored_blocks.h"
#include "journal/writer.h"
#include "lplex/replication/v1/replication.grpc.pb.h"
#include "lplex/replication/v1/replication.pb.h"
#include "replication/instance_state.h"
#include "replication/replica_progress.h"
#include "replication/written_seqs_recovery.h"

namespace lplex::replication {

namespace {

namespace pb = ::lplex::replication::v1;

// state.json is rewritten at most this often by a stream (and at its end):
// acks can be far more frequent (ack_interval_us 0) and each save fsyncs.
constexpr int64_t kStateSaveIntervalUs = 5'000'000;
// Backfill: state.json every this many blocks (the reference's 10).
constexpr uint64_t kBackfillSaveEveryBlocks = 10;
// A `checkpoint` event every this many live frames (§1.11).
constexpr uint64_t kCheckpointEveryFrames = 50'000;

grpc::Status ToGrpc(const Status& s) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (s.code()) {
    case Status::Code::kOk:
      return grpc::Status::OK;
    case Status::Code::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case Status::Code::kNotFound:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case Status::Code::kCorruption:  // a damaged state.json: out of service until repaired
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case Status::Code::kUnsupported:  // the manager is shut down
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    default:
      code = grpc::StatusCode::INTERNAL;
      break;
  }
  return grpc::Status(code, s.message());
}

Result<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(fmt::format("{} {}: cannot be read: {}", what, path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.find("-----BEGIN ") == std::string::npos) {
    return Status::InvalidArgument(fmt::format("{} {}: not a PEM file (no \"-----BEGIN\" line)", what, path));
  }
  return text;
}

// What one instance's streams share. Lock order: Replica::mu, then the
// instance's own lock (UpdateState, SaveState); never the other way round.
struct Replica {
  std::mutex mu;
  ReplicaProgress progress;  // restored from the instance's state once, then the source of truth
  ReplicaRuntime rt;
  EventLog events;  // its own lock; no entry costs anything until a stream records one
  bool restored = false;  // progress restored from state.json and the files (mu)
  std::mutex backfill_mu;  // held while one backfill block is checked, written and counted
  int live_streams = 0;
  grpc::ServerContext* live_ctx = nullptr;  // the newest Live stream (an older one is cancelled)
};

// Copies what the streams keep in memory into the persisted state.
void PushProgress(cloud::Instance& instance, const ReplicaProgress& p, std::optional<int64_t> last_seen_us) {
  instance.UpdateState([&](InstanceState& s) {
    s.SetProgress(p);
    if (last_seen_us) s.last_seen_us = last_seen_us;
  });
}

}  // namespace

class ReplicationServer::Impl final : public pb::Replication::Service {
 public:
  explicit Impl(ReplicationServerOptions options)
      : opt_(std::move(options)),
        clock_(opt_.clock ? opt_.clock : Clock::Real()),
        log_(opt_.log ? opt_.log : Logger::Default()) {}

  Status Start() {
    std::shared_ptr<grpc::ServerCredentials> creds;
    if (opt_.insecure_plaintext) {
      creds = grpc::InsecureServerCredentials();
    } else {
      LPLEX_ASSIGN_OR_RETURN(std::string cert, ReadPem("TLS certificate", opt_.tls_cert_file));
      LPLEX_ASSIGN_OR_RETURN(std::string key, ReadPem("TLS key", opt_.tls_key_file));
      LPLEX_ASSIGN_OR_RETURN(std::string ca, ReadPem("TLS client CA", opt_.tls_client_ca_file));
      grpc::SslServerCredentialsOptions o(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      o.pem_root_certs = std::move(ca);
      o.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
      creds = grpc::SslServerCredentials(o);
    }
    grpc::ServerBuilder b;
    b.AddListeningPort(opt_.listen_address, creds, &port_);
    b.RegisterService(this);
    b.SetMaxReceiveMessageSize(opt_.max_receive_message_bytes);
    // P8: ping every connection after keepalive_time of silence (with or
    // without calls, and however long no data flowed); no answer within
    // keepalive_timeout closes it, which ends its streams.
    // gRPC binds with SO_REUSEPORT by default: a second cloud on the same
    // port would start without an error and take half of the boats.
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(opt_.keepalive_time_ms));
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(opt_.keepalive_timeout_ms));
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    b.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    // Boats may ping too (ours does); accept one every 10 s without data.
    b.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
    server_ = b.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      server_.reset();
      if (opt_.insecure_plaintext) {
        return Status::IOError(fmt::format("replication server: cannot listen on {} (address in use or invalid)",
                                           opt_.listen_address));
      }
      return Status::IOError(fmt::format(
          "replication server: cannot listen on {} (address in use or invalid, or the TLS certificate, key "
          "and client CA ({}, {}, {}) do not load)",
          opt_.listen_address, opt_.tls_cert_file, opt_.tls_key_file, opt_.tls_client_ca_file));
    }
    if (opt_.insecure_plaintext) {
      log_->Error(
          "replication: INSECURE PLAINTEXT listener on {} (port {}): no TLS, and any client may claim any "
          "instance id. Use only for tests or on a trusted network.",
          opt_.listen_address, port_);
    } else {
      log_->Info("replication: mTLS listener on {} (port {}); instance id = client certificate CN", opt_.listen_address,
                 port_);
    }
    return Status::Ok();
  }

  void Shutdown(int64_t grace_us) {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (server_ == nullptr) return;
    // A live stream never ends on its own (a boat streams for as long as it
    // runs): waiting for it would always cost the whole grace. Each is
    // cancelled now; its handler still writes out and saves what it took.
    // Backfill streams, which do end, get the grace to finish.
    CancelLiveStreams();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::microseconds(std::max<int64_t>(grace_us, 0)));
    server_->Wait();
    server_.reset();
  }

  int port() const { return port_; }

  void CancelLiveStreams() {
    std::vector<std::shared_ptr<Replica>> replicas;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, r] : replicas_) replicas.push_back(r);
    }
    for (const auto& r : replicas) {
      std::lock_guard<std::mutex> lock(r->mu);
      if (r->live_ctx != nullptr) r->live_ctx->TryCancel();
    }
  }

  std::optional<ReplicaRuntime> Runtime(std::string_view id) const {
    std::shared_ptr<Replica> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = replicas_.find(id);
      if (it == replicas_.end()) return std::nullopt;
      r = it->second;
    }
    std::lock_guard<std::mutex> lock(r->mu);
    return r->rt;
  }

  std::vector<EventLogEntry> Events(std::string_view id, size_t limit) const {
    std::shared_ptr<Replica> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = replicas_.find(id);
      if (it == replicas_.end()) return {};
      r = it->second;
    }
    return r->events.Recent(limit);
  }

  // -------------------------------------------------------------------------
  // Handshake (§1.4)

  grpc::Status Handshake(grpc::ServerContext* ctx, const pb::HandshakeRequest* req,
                         pb::HandshakeResponse* resp) override {
    const std::string& id = req->instance_id();
    std::string cn;
    if (!opt_.insecure_plaintext) {
      cn = ClientCn(ctx);
      if (cn.empty()) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no verified client certificate with a subject CN");
      }
    }
    // Validated before anything builds a path from it (Register builds the
    // instance directory only from a valid id, too).
    if (Status v = ValidateInstanceId(id); !v.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, v.message());
    if (!opt_.insecure_plaintext && cn != id) {
      log_->Warn("replication: handshake refused: instance_id \"{}\" but client certificate CN \"{}\"", id, cn);
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          fmt::format("instance_id \"{}\" does not match the client certificate's CN \"{}\"", id, cn));
    }
    Result<std::shared_ptr<cloud::Instance>> reg = opt_.instances->Register(id);
    if (!reg.ok()) return ToGrpc(reg.status());
    Result<std::shared_ptr<cloud::Instance>> ensured = opt_.instances->Ensure(id);
    if (!ensured.ok()) return ToGrpc(ensured.status());
    cloud::Instance& instance = **ensured;
    std::shared_ptr<Replica> replica = ReplicaFor(instance);

    // What the instance holds is what is in its journal files: frames a
    // previous stream left queued are written out first, so they are
    // neither asked for again (a hole) nor acknowledged unwritten.
    WriteOut(instance);
    ReplicaProgress::HandshakeReply reply;
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      ApplyWrittenLocked(instance, *replica);
      reply = replica->progress.OnHandshake(req->head_seq());
      const int64_t now = clock_->NowMicros();
      instance.UpdateState([&](InstanceState& s) {
        s.SetProgress(replica->progress);
        s.boat_head_seq = req->head_seq();
        s.boat_journal_bytes = req->journal_bytes();
        s.last_seen_us = now;
      });
    }
    if (Status s = instance.SaveState(); !s.ok()) {
      log_->Warn("replication: [{}] handshake: saving state: {}", id, s.ToString());
    }
    if (req->head_seq() < reply.cursor) {
      // P2: a boat that lost its seq numbering (a Go boat, or one without a
      // journal, restarts at 1). Its new frames reuse seqs held here.
      log_->Warn("replication: [{}] the boat's head {} is below what this cloud holds (cursor {}): the boat lost its "
                 "seq numbering (restarted without its journal?); frames it sends now reuse seqs held here",
                 id, req->head_seq(), reply.cursor);
    }
    resp->set_cursor(reply.cursor);
    for (const SeqRange& h : reply.holes) {
      pb::SeqRange* r = resp->add_holes();
      r->set_start(h.start);
      r->set_end(h.end);
    }
    resp->set_live_start_from(reply.live_start_from);
    log_->Info("replication: [{}] handshake: boat head {}, cursor {}, {} hole(s), live from {}", id, req->head_seq(),
               reply.cursor, reply.holes.size(), reply.live_start_from);
    return grpc::Status::OK;
  }

  // -------------------------------------------------------------------------
  // Live (§1.5)

  grpc::Status Live(grpc::ServerContext* ctx,
                    grpc::ServerReaderWriter<pb::LiveDownstream, pb::LiveUpstream>* stream) override {
    std::shared_ptr<cloud::Instance> instance;
    if (grpc::Status s = Resolve(ctx, "live stream", &instance); !s.ok()) return s;
    const std::string& id = instance->id();
    std::shared_ptr<Replica> replica = ReplicaFor(*instance);
    uint64_t boat_head = 0;
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      // A boat that reconnects before its old connection timed out: the old
      // stream is superseded (it would otherwise look connected).
      if (replica->live_ctx != nullptr) replica->live_ctx->TryCancel();
      replica->live_ctx = ctx;
      ++replica->live_streams;
      replica->rt.connected = true;
      replica->rt.last_live_seq = 0;
    }
    boat_head = instance->state().boat_head_seq;
    log_->Info("replication: [{}] live_start (boat head {})", id, boat_head);
    replica->events.RecordLiveStart(clock_->NowMicros(), boat_head);
    uint64_t reported_head = boat_head;
    LiveStopReason stop_reason = LiveStopReason::kEnded;
    uint64_t stop_lag = 0;
    // Seqs up to here the instance holds already (its handshake wrote out and
    // counted everything before): a frame among them that is not a hole is
    // not journaled again. A clean reconnect re-sends the boat's head frame
    // (live_start_from = head, §1.4). A Go boat that restarted its seqs at 1
    // (P2) sends seqs below this ceiling only up to its new head's first
    // frame, which the boat's own new numbering then passes.
    uint64_t duplicate_ceiling = 0;
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      duplicate_ceiling = std::min(boat_head, replica->progress.seen_through());
    }
    bool first_frame = true;

    const bool limited = opt_.rate_limit_per_s > 0;
    double tokens = opt_.rate_burst;
    int64_t last_refill = clock_->MonotonicMicros();
    // The first frame is answered at once (the boat learns the cloud takes
    // its stream), later ones every ack interval.
    int64_t last_ack = last_refill - opt_.ack_interval_us;
    int64_t last_save = last_refill;
    uint64_t last_acked = std::numeric_limits<uint64_t>::max();
    uint64_t frames = 0;
    uint64_t last_live_seq = 0;
    grpc::Status result = grpc::Status::OK;

    pb::LiveUpstream up;
    while (stream->Read(&up)) {
      const int64_t now = clock_->MonotonicMicros();
      if (up.has_frame()) {
        if (limited) {
          tokens = std::min(opt_.rate_burst, tokens + (now - last_refill) * opt_.rate_limit_per_s / 1e6);
          last_refill = now;
          if (tokens < 1) {
            log_->Warn("replication: [{}] live_stop: rate_limit_exceeded ({} frames/s, burst {})", id,
                       opt_.rate_limit_per_s, opt_.rate_burst);
            stop_reason = LiveStopReason::kRateLimitExceeded;
            result = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  fmt::format("live stream of \"{}\": over the rate limit of {} frames/s (burst {})",
                                              id, opt_.rate_limit_per_s, opt_.rate_burst));
            break;
          }
          tokens -= 1;
        }
        const pb::LiveFrame& pf = up.frame();
        if (pf.seq() != 0) {
          std::lock_guard<std::mutex> lock(replica->mu);
          if (first_frame) {
            first_frame = false;
            // A new instance's origin is where its first live frame starts,
            // written or not (a first frame dropped is still owed).
            replica->progress.OnFirstLiveFrame(pf.seq());
          }
          if (pf.seq() <= duplicate_ceiling && !replica->progress.holes().Contains(pf.seq())) {
            ++replica->rt.live_duplicates;
            ++frames;
            continue;
          }
        }
        can::Frame f;
        f.timestamp_us = pf.timestamp_us();
        f.header = can::ParseCanId(pf.can_id());
        f.data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pf.data().data()), pf.data().size());
        f.seq = pf.seq();
        Result<bool> accepted = instance->Ingest(f);
        if (!accepted.ok()) {
          log_->Error("replication: [{}] live frame {}: {}", id, pf.seq(), accepted.status().ToString());
          result = ToGrpc(accepted.status());
          break;
        }
        ++frames;
        last_live_seq = std::max(last_live_seq, pf.seq());
        std::lock_guard<std::mutex> lock(replica->mu);
        ++replica->rt.live_frames;
        replica->rt.last_live_seq = last_live_seq;
        // P4 and crash safety: a frame moves the cursor only once the
        // journal has written it to a file (Checkpoint applies what the
        // journal reports); a dropped one never is, and stays a hole that
        // backfill fetches.
        if (!*accepted) ++replica->rt.live_dropped;
        if (frames % kCheckpointEveryFrames == 0) {
          replica->events.RecordCheckpoint(clock_->NowMicros(), frames, replica->progress.cursor(), reported_head);
        }
      } else if (up.has_status()) {
        const uint64_t head = up.status().head_seq();
        const uint64_t jbytes = up.status().journal_bytes();
        reported_head = head;
        instance->UpdateState([&](InstanceState& s) {
          s.boat_head_seq = head;
          s.boat_journal_bytes = jbytes;
          s.last_seen_us = clock_->NowMicros();
        });
        const uint64_t lag = head > last_live_seq ? head - last_live_seq : 0;  // clamped at 0
        if (opt_.max_live_lag > 0 && last_live_seq > 0 && lag > opt_.max_live_lag) {
          log_->Warn("replication: [{}] live_stop: cloud_lag_exceeded (boat head {}, last live seq {}, lag {} > {})",
                     id, head, last_live_seq, lag, opt_.max_live_lag);
          stop_reason = LiveStopReason::kCloudLagExceeded;
          stop_lag = lag;
          result = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                fmt::format("live stream of \"{}\" lags the boat by {} seqs (limit {})", id, lag,
                                            opt_.max_live_lag));
          break;
        }
      } else {
        continue;  // an empty oneof (a newer peer's message kind): nothing to do
      }
      if (opt_.ack_interval_us == 0 || now - last_ack >= opt_.ack_interval_us) {
        last_ack = now;
        const bool save = now - last_save >= kStateSaveIntervalUs;
        if (save) last_save = now;
        const uint64_t cursor = Checkpoint(*instance, *replica, save);
        if (cursor != last_acked) {
          pb::LiveDownstream down;
          down.set_acked_through(cursor);
          if (!stream->Write(down)) break;
          last_acked = cursor;
        }
      }
    }
    // Whatever ended the stream, what it delivered is written out, the
    // progress persisted and, if the boat still listens (a half-close),
    // told once more.
    WriteOut(*instance);
    const uint64_t cursor = Checkpoint(*instance, *replica, /*save=*/true);
    if (result.ok() && cursor != last_acked && !ctx->IsCancelled()) {
      pb::LiveDownstream down;
      down.set_acked_through(cursor);
      stream->Write(down);
    }
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      if (replica->live_ctx == ctx) replica->live_ctx = nullptr;
      --replica->live_streams;
      // P8: an EOF disconnects too, not only an error.
      replica->rt.connected = replica->live_streams > 0;
    }
    log_->Info("replication: [{}] live_stop: {} frames, cursor {}{}", id, frames, cursor,
               result.ok() ? std::string() : ", " + result.error_message());
    replica->events.RecordLiveStop(clock_->NowMicros(), frames, stop_reason, stop_lag);
    return result;
  }

  // -------------------------------------------------------------------------
  // Backfill (§1.6, P6)

  grpc::Status Backfill(grpc::ServerContext* ctx,
                        grpc::ServerReaderWriter<pb::BackfillDownstream, pb::BackfillUpstream>* stream) override {
    std::shared_ptr<cloud::Instance> instance;
    if (grpc::Status s = Resolve(ctx, "backfill", &instance); !s.ok()) return s;
    const std::string id = instance->id();
    std::shared_ptr<Replica> replica = ReplicaFor(*instance);
    Result<std::string> instance_dir = InstanceDirFor(opt_.data_dir, id);
    if (!instance_dir.ok()) return ToGrpc(instance_dir.status());
    const std::string dir = *instance_dir + "/journal";
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      log_->Info("replication: [{}] backfill_start ({} hole(s))", id, replica->progress.holes().Len());
      replica->events.RecordBackfillStart(clock_->NowMicros(), replica->progress.holes().Len());
    }

    std::unique_ptr<journal::BlockWriter> writer;  // whole blocks, copied as stored
    uint32_t writer_block_size = 0;
    // The frames of blocks the instance holds only in part, re-encoded (a
    // block is never trimmed by the boat, §1.6; journaled whole it would
    // hold seqs twice). Runs it wrote land in `trimmed_runs`.
    std::unique_ptr<journal::JournalWriter> trimmed;
    uint32_t trimmed_block_size = 0;
    std::vector<SeqRange> trimmed_runs;
    uint64_t blocks = 0;
    uint64_t rejected = 0;
    uint64_t duplicates = 0;
    uint64_t trims = 0;
    pb::BackfillUpstream up;
    while (stream->Read(&up)) {
      if (!up.has_block()) {
        if (up.unavailable_size() > 0) {
          if (!stream->Write(OnUnavailable(*instance, *replica, up))) break;
        }
        continue;
      }
      const pb::Block& b = up.block();
      Status s = CheckBlock(b);
      const uint32_t block_size = b.block_size() == 0 ? journal::kDefaultBlockSize : b.block_size();
      // P6: one file per block size. (BlockWriter itself starts a new file
      // when the compression changes.)
      if (s.ok() && (writer == nullptr || writer_block_size != block_size)) {
        if (writer != nullptr) (void)writer->Close();
        writer.reset();
        Result<std::unique_ptr<journal::BlockWriter>> w = journal::BlockWriter::Create(WriterOptions(id, dir, block_size));
        if (w.ok()) {
          writer = std::move(*w);
          writer_block_size = block_size;
        } else {
          s = w.status();
        }
      }
      const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(b.data().data()), b.data().size());
      const journal::Compression kind = b.compressed() ? journal::Compression::kZstd : journal::Compression::kNone;
      journal::BlockWriter::CheckedBlock checked;
      if (s.ok()) s = writer->CheckBlock(b.base_seq(), b.base_time_us(), kind, data, {}, &checked);
      if (s.ok() && checked.layout.frame_count != b.frame_count()) {
        // P6: the seqs a block covers are its own trailer's, never the
        // sender's word (which the reference trusted for compressed blocks).
        s = Status::InvalidArgument(fmt::format("block base seq {} was sent with frame_count {}, but its trailer "
                                                "says {}",
                                                b.base_seq(), b.frame_count(), checked.layout.frame_count));
      }
      // One block at a time per instance, from finding what it misses to
      // counting what was written: two backfill streams of one boat (an old
      // one not yet gone) cannot both write the same missing seqs.
      std::lock_guard<std::mutex> one_block(replica->backfill_mu);
      // The parts of the block the instance is missing (its holes).
      std::vector<SeqRange> missing;
      uint64_t missing_len = 0;
      const uint64_t start = b.base_seq();
      const uint64_t end = start + b.frame_count();
      if (s.ok()) {
        std::lock_guard<std::mutex> lock(replica->mu);
        for (const SeqRange& h : replica->progress.holes().ranges()) {
          if (h.end <= start) continue;
          if (h.start >= end) break;
          missing.push_back({std::max(h.start, start), std::min(h.end, end)});
          missing_len += missing.back().end - missing.back().start;
        }
      }
      std::vector<SeqRange> written;
      if (s.ok() && missing_len == end - start) {
        s = writer->AppendCheckedBlock(b.base_seq(), b.base_time_us(), kind, data);
        if (s.ok()) written.push_back({start, end});
      } else if (s.ok() && missing_len == 0) {
        ++duplicates;  // every seq is held already: nothing to write
      } else if (s.ok()) {
        ++trims;
        if (trimmed == nullptr || trimmed_block_size != block_size) {
          if (trimmed != nullptr) (void)trimmed->Close();
          trimmed.reset();
          Result<std::unique_ptr<journal::JournalWriter>> w =
              journal::JournalWriter::Create(TrimmedWriterOptions(id, dir, block_size, &trimmed_runs));
          if (w.ok()) {
            trimmed = std::move(*w);
            trimmed_block_size = block_size;
          } else {
            s = w.status();
          }
        }
        size_t next = 0;  // missing is sorted: walk it with the frames
        if (s.ok()) {
          s = journal::ForEachBlockFrame(checked.block, checked.layout, [&](const can::Frame& f) {
            while (next < missing.size() && missing[next].end <= f.seq) ++next;
            if (next < missing.size() && missing[next].start <= f.seq) (void)trimmed->Append(f);
          });
        }
        // Written now: the seqs count once they are in the file.
        if (s.ok()) s = trimmed->WriteOpenBlock();
        if (!s.ok() && trimmed != nullptr) {
          // Nothing of this block may stay pending in the writer (a retry
          // would write it again beside the boat's next copy).
          (void)trimmed->Close();
          trimmed.reset();
        }
        written.swap(trimmed_runs);  // whatever reached the file, even on an error
      }
      if (!s.ok()) {
        // As the reference: the block is not acknowledged; the hole stays
        // (except for seqs that did reach a file, which are counted).
        ++rejected;
        log_->Warn("replication: [{}] backfill block base seq {} ({} frames) rejected: {}", id, b.base_seq(),
                   b.frame_count(), s.ToString());
        std::lock_guard<std::mutex> lock(replica->mu);
        ++replica->rt.backfill_rejected;
        for (const SeqRange& r : written) replica->progress.OnBackfillBlockWritten(r.start, r.end);
        continue;
      }
      ++blocks;
      pb::BackfillDownstream down;
      {
        std::lock_guard<std::mutex> lock(replica->mu);
        ++replica->rt.backfill_blocks;
        replica->events.RecordBlockReceived(clock_->NowMicros(), b.base_seq(), b.frame_count(), b.data().size(),
                                            b.compressed());
        for (const SeqRange& r : written) replica->progress.OnBackfillBlockWritten(r.start, r.end);
        PushProgress(*instance, replica->progress, clock_->NowMicros());
        down.set_continuous_through(replica->progress.cursor());
        for (const SeqRange& h : replica->progress.holes().ranges()) {
          pb::SeqRange* r = down.add_remaining();
          r->set_start(h.start);
          r->set_end(h.end);
        }
      }
      if (blocks % kBackfillSaveEveryBlocks == 0) SaveState(*instance);
      if (!stream->Write(down)) break;
    }
    if (writer != nullptr) {
      if (Status s = writer->Close(); !s.ok()) {
        log_->Error("replication: [{}] backfill: finishing {}: {}", id, writer->current_path(), s.ToString());
      }
    }
    if (trimmed != nullptr) {
      std::lock_guard<std::mutex> one_block(replica->backfill_mu);
      if (Status s = trimmed->Close(); !s.ok()) {
        log_->Error("replication: [{}] backfill: finishing the trimmed blocks' file: {}", id, s.ToString());
      }
      // Blocks Close wrote (none normally: each was written out) count too.
      std::lock_guard<std::mutex> lock(replica->mu);
      for (const SeqRange& r : trimmed_runs) replica->progress.OnBackfillBlockWritten(r.start, r.end);
      PushProgress(*instance, replica->progress, std::nullopt);
    }
    SaveState(*instance);
    replica->events.RecordBackfillStop(clock_->NowMicros(), blocks);
    log_->Info("replication: [{}] backfill_stop: {} block(s) taken ({} held already, {} in part), {} rejected", id,
               blocks, duplicates, trims, rejected);
    return grpc::Status::OK;
  }

 private:
  // The CN of the verified client certificate ("" when there is none).
  static std::string ClientCn(const grpc::ServerContext* ctx) {
    std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) return {};
    std::vector<grpc::string_ref> cns = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (cns.empty()) return {};
    return std::string(cns.front().data(), cns.front().size());
  }

  // The instance a Live or Backfill stream belongs to (§1.3, P7).
  grpc::Status Resolve(grpc::ServerContext* ctx, std::string_view what, std::shared_ptr<cloud::Instance>* out) {
    std::string header;
    const auto& md = ctx->client_metadata();
    if (auto it = md.find("x-instance-id"); it != md.end()) header.assign(it->second.data(), it->second.size());
    std::string id;
    if (!opt_.insecure_plaintext) {
      id = ClientCn(ctx);
      if (id.empty()) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no verified client certificate with a subject CN");
      }
      // No header fallback on TLS; a header naming someone else is refused.
      if (!header.empty() && header != id) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            fmt::format("x-instance-id \"{}\" does not match the client certificate's CN \"{}\"",
                                        header, id));
      }
    } else {
      id = header;
      if (id.empty()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no x-instance-id metadata");
    }
    if (Status v = ValidateInstanceId(id); !v.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, v.message());
    std::shared_ptr<cloud::Instance> instance = opt_.instances->Get(id);
    if (instance == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          fmt::format("instance \"{}\": handshake required before {}", id, what));
    }
    if (!instance->load_error().ok()) return ToGrpc(instance->load_error());
    *out = std::move(instance);
    return grpc::Status::OK;
  }

  Status CheckBlock(const pb::Block& b) const {
    if (b.base_seq() == 0) return Status::InvalidArgument("block base_seq 0 (valid: 1 or more)");
    if (b.frame_count() == 0) return Status::InvalidArgument(fmt::format("block base seq {}: frame_count 0", b.base_seq()));
    if (b.base_seq() > std::numeric_limits<uint64_t>::max() - 1 - b.frame_count()) {
      return Status::InvalidArgument(
          fmt::format("block base seq {} + frame_count {} overflows the seq space", b.base_seq(), b.frame_count()));
    }
    const uint32_t block_size = b.block_size() == 0 ? journal::kDefaultBlockSize : b.block_size();
    LPLEX_RETURN_IF_ERROR(journal::ValidateBlockSize(block_size));
    if (b.frame_count() > journal::MaxFramesPerBlock(block_size)) {
      return Status::InvalidArgument(fmt::format("block base seq {}: frame_count {} does not fit a {}-byte block (max {})",
                                                 b.base_seq(), b.frame_count(), block_size,
                                                 journal::MaxFramesPerBlock(block_size)));
    }
    return Status::Ok();
  }

  journal::BlockWriterOptions WriterOptions(const std::string& id, const std::string& dir, uint32_t block_size) const {
    journal::BlockWriterOptions o;
    o.dir = dir;
    o.prefix = "backfill";
    o.block_size = block_size;
    if (opt_.on_backfill_rotate) {
      o.on_rotate = [fn = opt_.on_backfill_rotate, id](const journal::RotatedFile& f) {
        journal::RotatedFile named = f;
        named.instance_id = id;
        fn(named);
      };
    }
    o.on_open_change = opt_.on_backfill_open_change;
    return o;
  }

  // The writer of a backfill stream's trimmed blocks: the frames a block
  // adds, re-encoded as zstd blocks of the boat's block size into their own
  // backfill-*.lpj file. Blocks are written only when asked (WriteOpenBlock),
  // and each written run of seqs is appended to *runs.
  journal::WriterOptions TrimmedWriterOptions(const std::string& id, const std::string& dir, uint32_t block_size,
                                              std::vector<SeqRange>* runs) const {
    journal::BlockWriterOptions whole = WriterOptions(id, dir, block_size);
    journal::WriterOptions o;
    o.dir = whole.dir;
    o.prefix = whole.prefix;
    o.block_size = block_size;
    o.compression = journal::Compression::kZstd;
    o.flush_interval_us = 0;
    o.on_rotate = whole.on_rotate;
    o.on_open_change = whole.on_open_change;
    o.on_block_written = [runs](uint64_t base_seq, uint64_t n) {
      if (n > 0) runs->push_back({base_seq, base_seq + n});
    };
    return o;
  }

  // The shared runtime of `instance`, its progress restored from the
  // persisted state the first time.
  std::shared_ptr<Replica> ReplicaFor(cloud::Instance& instance) {
    std::shared_ptr<Replica> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = replicas_.find(instance.id());
      if (it != replicas_.end()) {
        r = it->second;
      } else {
        r = std::make_shared<Replica>();
        replicas_.emplace(instance.id(), r);
      }
    }
    std::lock_guard<std::mutex> lock(r->mu);
    if (!r->restored) {
      r->restored = true;
      r->progress = instance.state().Progress();
      RecoverFromFiles(instance, *r);
    }
    return r;
  }

  // The first touch of an instance in this process: seqs its files hold
  // that the saved state does not know (written after its last save by a
  // cloud that was then killed) are counted, so they are not asked for
  // again and journaled twice. r.mu held.
  void RecoverFromFiles(cloud::Instance& instance, Replica& r) {
    Result<std::string> dir = InstanceDirFor(opt_.data_dir, instance.id());
    if (!dir.ok()) return;
    std::vector<std::string> skipped;
    const uint64_t cursor_before = r.progress.cursor();
    Result<RecoveredSeqs> found = RecoverWrittenSeqs(*dir + "/journal", &r.progress, nullptr, &skipped);
    for (const std::string& line : skipped) log_->Warn("replication: [{}] recovery skips {}", instance.id(), line);
    if (!found.ok()) {
      log_->Warn("replication: [{}] reading its journal for seqs written after the last saved state: {}",
                 instance.id(), found.status().ToString());
      return;
    }
    if (found->seqs_found == 0) return;
    log_->Info("replication: [{}] {} seq(s) in its journal files were written after the last saved state "
               "(cursor {} -> {}); counted, not asked for again",
               instance.id(), found->seqs_found, cursor_before, r.progress.cursor());
    PushProgress(instance, r.progress, std::nullopt);
    SaveState(instance);
  }

  // The boat can never send these seqs (our extension, see the .proto):
  // the holes among them are no longer owed. Returns the answer.
  pb::BackfillDownstream OnUnavailable(cloud::Instance& instance, Replica& replica, const pb::BackfillUpstream& up) {
    pb::BackfillDownstream down;
    std::lock_guard<std::mutex> lock(replica.mu);
    for (const pb::SeqRange& r : up.unavailable()) {
      const uint64_t dropped = replica.progress.OnSeqsUnavailable(r.start(), r.end());
      replica.rt.unavailable_seqs += dropped;
      if (dropped > 0) {
        log_->Warn("replication: [{}] the boat can never send seqs {}..{} (never issued after a crash, or no longer "
                   "kept): {} missing seq(s) no longer owed",
                   instance.id(), r.start(), r.end() - 1, dropped);
      }
    }
    PushProgress(instance, replica.progress, clock_->NowMicros());
    down.set_continuous_through(replica.progress.cursor());
    for (const SeqRange& h : replica.progress.holes().ranges()) {
      pb::SeqRange* r = down.add_remaining();
      r->set_start(h.start);
      r->set_end(h.end);
    }
    return down;
  }

  // Writes out what the instance's journal has queued (the seqs then come
  // from TakeWrittenSeqs); a failure is logged, and those seqs stay holes.
  void WriteOut(cloud::Instance& instance) {
    if (Status s = instance.WriteOutJournal(); !s.ok()) {
      log_->Warn("replication: [{}] writing out the live journal: {}", instance.id(), s.ToString());
    }
  }

  // Counts the live seqs the instance's journal has written since the last
  // call. replica.mu held.
  static void ApplyWrittenLocked(cloud::Instance& instance, Replica& replica) {
    for (const SeqRange& run : instance.TakeWrittenSeqs()) replica.progress.OnLiveSeqsWritten(run.start, run.end);
  }

  // Counts what the journal wrote, copies the progress into the instance's
  // state (and saves it when `save`); returns the cursor to acknowledge.
  uint64_t Checkpoint(cloud::Instance& instance, Replica& replica, bool save) {
    uint64_t cursor;
    {
      std::lock_guard<std::mutex> lock(replica.mu);
      ApplyWrittenLocked(instance, replica);
      PushProgress(instance, replica.progress, clock_->NowMicros());
      cursor = replica.progress.cursor();
    }
    if (save) SaveState(instance);
    return cursor;
  }

  void SaveState(cloud::Instance& instance) {
    if (Status s = instance.SaveState(); !s.ok()) {
      log_->Warn("replication: [{}] saving state: {}", instance.id(), s.ToString());
    }
  }

  const ReplicationServerOptions opt_;
  Clock* const clock_;
  Logger* const log_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  std::unique_ptr<grpc::Server> server_;

  mutable std::mutex mu_;  // guards replicas_
  std::map<std::string, std::shared_ptr<Replica>, std::less<>> replicas_;
};

Result<std::unique_ptr<ReplicationServer>> ReplicationServer::Start(ReplicationServerOptions options) {
  if (options.instances == nullptr) return Status::InvalidArgument("replication server: no instance manager given");
  if (options.data_dir.empty()) return Status::InvalidArgument("replication server: data-dir is empty");
  if (options.listen_address.empty()) return Status::InvalidArgument("replication server: listen address is empty");
  const bool any_tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty() ||
                       !options.tls_client_ca_file.empty();
  if (options.insecure_plaintext && any_tls) {
    return Status::InvalidArgument(
        "replication server: insecure plaintext and TLS files both given (choose one: TLS certificate, key and "
        "client CA, or insecure plaintext)");
  }
  if (!options.insecure_plaintext &&
      (options.tls_cert_file.empty() || options.tls_key_file.empty() || options.tls_client_ca_file.empty())) {
    return Status::InvalidArgument(fmt::format(
        "replication server: mTLS needs a certificate, a key and a client CA (got cert \"{}\", key \"{}\", client CA "
        "\"{}\"); or set insecure plaintext for tests and trusted networks",
        options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file));
  }
  if (options.ack_interval_us < 0 || options.ack_interval_us > 3'600'000'000LL) {
    return Status::InvalidArgument(
        fmt::format("replication server: ack interval {} us out of range (valid: 0..3600000000, at most an hour)",
                    options.ack_interval_us));
  }
  if (options.rate_limit_per_s < 0 || (options.rate_limit_per_s > 0 && options.rate_burst < 1)) {
    return Status::InvalidArgument(fmt::format(
        "replication server: rate limit {} frames/s with burst {} out of range (valid: limit 0 = off, or > 0 with "
        "burst >= 1)",
        options.rate_limit_per_s, options.rate_burst));
  }
  if (options.keepalive_time_ms <= 0 || options.keepalive_timeout_ms <= 0 ||
      options.keepalive_time_ms > std::numeric_limits<int>::max() ||
      options.keepalive_timeout_ms > std::numeric_limits<int>::max()) {
    return Status::InvalidArgument(fmt::format(
        "replication server: keepalive time {} ms / timeout {} ms out of range (valid: 1..2147483647)",
        options.keepalive_time_ms, options.keepalive_timeout_ms));
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  LPLEX_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<ReplicationServer>(new ReplicationServer(std::move(impl)));
}

ReplicationServer::ReplicationServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ReplicationServer::~ReplicationServer() { Shutdown(0); }

int ReplicationServer::port() const { return impl_->port(); }

void ReplicationServer::Shutdown(int64_t grace_us) { impl_->Shutdown(grace_us); }

std::optional<ReplicaRuntime> ReplicationServer::Runtime(std::string_view id) const { return impl_->Runtime(id); }

std::vector<EventLogEntry> ReplicationServer::Events(std::string_view id, size_t limit) const {
  return impl_->Events(id, limit);
}

}  // namespace lplex::replication
