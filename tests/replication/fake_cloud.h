// FakeCloud: a stand-in lplex-cloud for the replication client's tests. It
// implements the generated Replication service on a real loopback port,
// answers handshakes with the cursor, holes and live start a test chose,
// and records everything a boat sends, so a test asserts on the wire.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lplex/replication/v1/replication.grpc.pb.h"
#include "lplex/replication/v1/replication.pb.h"

namespace lplex::replication::testing {

namespace pb = lplex::replication::v1;

class FakeCloud final : public pb::Replication::Service {
 public:
  // What the cloud answers and how it misbehaves (set before the boat
  // connects, or under lock() later).
  struct Script {
    uint64_t cursor = 0;
    std::vector<std::pair<uint64_t, uint64_t>> holes = {};
    uint64_t live_start_from = 1;
    int fail_handshakes = 0;         // the first n handshakes answer UNAVAILABLE
    size_t drop_live_after = 0;      // end every Live stream with UNAVAILABLE after n seq>0 frames (0 = never)
    uint64_t ack_every = 1;          // acked_through = last seq after every n-th frame
    bool hold_backfill = false;      // Backfill reads nothing until the boat cancels it (flow control stalls it)
    bool drop_as_rate_limit = false; // drop_live_after ends with RESOURCE_EXHAUSTED "over the rate limit"
  };

  ~FakeCloud() override { Shutdown(); }

  // Listens on 127.0.0.1 (or `host`) on a free port; "" on failure.
  std::string Listen(std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials(),
                     const std::string& host = "127.0.0.1") {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(host + ":0", std::move(creds), &port);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) return "";
    return host + ":" + std::to_string(port);
  }
  void Shutdown() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_.reset();
  }

  void SetScript(Script s) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(s);
  }

  // Waits (real time, at most `limit`) until pred() holds under the lock.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, pred);
  }

  // Recorded traffic; read under WaitFor's predicate or after it.
  std::vector<pb::HandshakeRequest> handshakes;
  std::vector<std::string> peer_common_names;  // of each handshake's TLS client ("" = none)
  std::vector<std::string> live_instance_ids;   // x-instance-id of each Live stream
  std::vector<pb::LiveFrame> frames;            // every frame, seq-0 snapshot frames included
  std::vector<pb::LiveStatus> statuses;
  std::vector<pb::Block> blocks;
  int live_streams = 0;
  int backfill_streams_started = 0;
  int backfill_streams_done = 0;
  std::vector<std::pair<uint64_t, uint64_t>> unavailable;  // seqs the boat said it can never send

  std::vector<uint64_t> FrameSeqs() const {
    std::vector<uint64_t> out;
    for (const auto& f : frames) out.push_back(f.seq());
    return out;
  }
  std::mutex& mu() { return mu_; }

  grpc::Status Handshake(grpc::ServerContext* ctx, const pb::HandshakeRequest* req,
                         pb::HandshakeResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    handshakes.push_back(*req);
    std::string cn;
    for (const auto& v : ctx->auth_context()->FindPropertyValues("x509_common_name")) cn.assign(v.data(), v.size());
    peer_common_names.push_back(cn);
    cv_.notify_all();
    if (script_.fail_handshakes > 0) {
      --script_.fail_handshakes;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake cloud refuses this handshake");
    }
    resp->set_cursor(script_.cursor);
    for (const auto& [s, e] : script_.holes) {
      auto* r = resp->add_holes();
      r->set_start(s);
      r->set_end(e);
    }
    resp->set_live_start_from(script_.live_start_from);
    return grpc::Status::OK;
  }

  grpc::Status Live(grpc::ServerContext* ctx,
                    grpc::ServerReaderWriter<pb::LiveDownstream, pb::LiveUpstream>* stream) override {
    size_t seq_frames = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++live_streams;
      const auto md = ctx->client_metadata().find("x-instance-id");
      live_instance_ids.push_back(md == ctx->client_metadata().end() ? "" : std::string(md->second.data(), md->second.size()));
      cv_.notify_all();
    }
    pb::LiveUpstream up;
    while (stream->Read(&up)) {
      std::unique_lock<std::mutex> lock(mu_);
      if (up.has_status()) {
        statuses.push_back(up.status());
        cv_.notify_all();
        continue;
      }
      frames.push_back(up.frame());
      cv_.notify_all();
      if (up.frame().seq() == 0) continue;
      ++seq_frames;
      if (script_.ack_every > 0 && seq_frames % script_.ack_every == 0) {
        pb::LiveDownstream down;
        down.set_acked_through(up.frame().seq());
        lock.unlock();
        stream->Write(down);
        lock.lock();
      }
      if (script_.drop_live_after > 0 && seq_frames >= script_.drop_live_after) {
        if (script_.drop_as_rate_limit) {
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "fake cloud: over the rate limit of 1 frames/s");
        }
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake cloud drops the live stream");
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Backfill(grpc::ServerContext* ctx,
                        grpc::ServerReaderWriter<pb::BackfillDownstream, pb::BackfillUpstream>* stream) override {
    bool hold = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++backfill_streams_started;
      hold = script_.hold_backfill;
      cv_.notify_all();
    }
    if (hold) {
      while (!ctx->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return grpc::Status(grpc::StatusCode::CANCELLED, "fake cloud held the backfill stream");
    }
    pb::BackfillUpstream up;
    while (stream->Read(&up)) {
      if (!up.has_block()) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& r : up.unavailable()) unavailable.emplace_back(r.start(), r.end());
        cv_.notify_all();
        continue;
      }
      pb::BackfillDownstream down;
      {
        std::lock_guard<std::mutex> lock(mu_);
        blocks.push_back(up.block());
        cv_.notify_all();
        down.set_continuous_through(script_.cursor);
      }
      stream->Write(down);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++backfill_streams_done;
    cv_.notify_all();
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Script script_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace lplex::replication::testing
