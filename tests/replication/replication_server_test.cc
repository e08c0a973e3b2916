// ReplicationServer over a real loopback port, with the generated stub as the
// boat: handshake, live, backfill, and identity under mTLS (certificates made
// by openssl here).
#include "replication/replication_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "can/can_id.h"
#include "cloud/cloud_test_util.h"
#include "cloud/instance_manager.h"
#include "core/log.h"
#include "journal/stored_blocks.h"
#include "journal/writer.h"
#include "lplex/replication/v1/replication.grpc.pb.h"
#include "replication/instance_state.h"
#include "support/temp_dir.h"

namespace lplex::replication {
namespace {

namespace pb = ::lplex::replication::v1;
namespace fs = std::filesystem;
using cloud::testing::kT0;
using cloud::testing::LpjFiles;
using cloud::testing::ReadJournal;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(20);
}

pb::LiveUpstream FrameMsg(uint64_t seq) {
  can::CanHeader h;
  h.priority = 2;
  h.pgn = 127250;
  h.source = 1;
  h.destination = 255;
  pb::LiveUpstream up;
  pb::LiveFrame* f = up.mutable_frame();
  f->set_seq(seq);
  f->set_timestamp_us(kT0 + static_cast<int64_t>(seq) * 1000);
  f->set_can_id(can::BuildCanId(h));
  f->set_data(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  return up;
}

class ReplicationServerTest : public ::testing::Test {
 protected:
  void OpenManager(bool journal_threads = true, size_t queue_bytes = 256 << 10) {
    cloud::InstanceManagerOptions o;
    o.data_dir = dir_.path();
    o.start_journal_threads = journal_threads;
    o.journal.queue_bytes = queue_bytes;
    o.log = &log_;
    auto m = cloud::InstanceManager::Open(std::move(o));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(*m);
  }

  // `keep_limits`: the rate and lag limits of `o` apply (else the rate limit is off).
  void StartServer(ReplicationServerOptions o = {}, bool keep_limits = false) {
    if (manager_ == nullptr) OpenManager();
    o.listen_address = "127.0.0.1:0";
    if (o.tls_cert_file.empty()) o.insecure_plaintext = true;
    o.ack_interval_us = 0;
    if (!keep_limits) o.rate_limit_per_s = 0;
    o.instances = manager_.get();
    o.data_dir = dir_.path();
    o.log = &log_;
    o.on_backfill_rotate = [this](const journal::RotatedFile& f) { rotated_.push_back(f); };
    auto s = ReplicationServer::Start(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    stub_ = pb::Replication::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(1'000'000);
    if (manager_) (void)manager_->Shutdown();
  }

  grpc::Status Handshake(const std::string& id, uint64_t head, pb::HandshakeResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    pb::HandshakeRequest req;
    req.set_instance_id(id);
    req.set_head_seq(head);
    return stub_->Handshake(&ctx, req, resp);
  }

  struct LiveResult {
    grpc::Status status;
    std::vector<uint64_t> acks;
  };

  // Sends `msgs` on one Live stream as boat `id`, half-closes, and collects
  // every ack.
  LiveResult Live(const std::string& id, const std::vector<pb::LiveUpstream>& msgs) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    ctx.AddMetadata("x-instance-id", id);
    auto stream = stub_->Live(&ctx);
    for (const auto& m : msgs) {
      if (!stream->Write(m)) break;
    }
    stream->WritesDone();
    LiveResult r;
    pb::LiveDownstream down;
    while (stream->Read(&down)) r.acks.push_back(down.acked_through());
    r.status = stream->Finish();
    return r;
  }

  std::string InstanceDir(const std::string& id) const { return dir_.path() + "/instances/" + id; }

  lplex::testing::TempDir dir_;
  RecordingLogger log_;
  std::unique_ptr<cloud::InstanceManager> manager_;
  std::unique_ptr<ReplicationServer> server_;
  std::unique_ptr<pb::Replication::Stub> stub_;
  std::vector<journal::RotatedFile> rotated_;
};

TEST_F(ReplicationServerTest, HandshakeRegistersTheInstanceAndAnswersItsCursor) {
  // boat-2 is known from a previous run: the cloud holds 1..100.
  fs::create_directories(InstanceDir("boat-2"));
  InstanceState saved;
  saved.id = "boat-2";
  saved.cursor = 100;
  saved.seen_through = 100;
  ASSERT_TRUE(SaveInstanceState(InstanceDir("boat-2"), saved).ok());
  StartServer();

  pb::HandshakeResponse fresh;
  grpc::Status s = Handshake("boat-1", 0, &fresh);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(fresh.cursor(), 0u);
  EXPECT_EQ(fresh.holes_size(), 0);
  EXPECT_EQ(fresh.live_start_from(), 1u);
  EXPECT_NE(manager_->Get("boat-1"), nullptr);
  EXPECT_TRUE(fs::exists(InstanceDir("boat-1") + "/state.json"));

  pb::HandshakeResponse known;
  s = Handshake("boat-2", 100, &known);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(known.cursor(), 100u);
  EXPECT_EQ(known.holes_size(), 0);
  EXPECT_EQ(known.live_start_from(), 100u);
  EXPECT_EQ(manager_->Get("boat-2")->state().boat_head_seq, 100u);
}

TEST_F(ReplicationServerTest, HandshakeRefusesAnIdThatWouldLeaveTheInstancesDir) {
  StartServer();
  for (const std::string& id : {std::string("../x"), std::string("a/b"), std::string(".x"), std::string(),
                                std::string(129, 'a')}) {
    SCOPED_TRACE("id \"" + id + "\"");
    pb::HandshakeResponse resp;
    grpc::Status s = Handshake(id, 5, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find("instance id"), std::string::npos) << s.error_message();
  }
  // Nothing was created: not inside instances/, not beside it.
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/instances"));
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(dir_.path())) top.push_back(e.path().filename().string());
  EXPECT_EQ(top, std::vector<std::string>{"instances"});
  EXPECT_EQ(manager_->size(), 0u);
}

TEST_F(ReplicationServerTest, LiveFramesAreJournaledWithTheirOwnSeqAndAdvanceTheCursor) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 45, &resp).ok());
  ASSERT_EQ(resp.live_start_from(), 1u);
  // The boat no longer has 1..40: it starts at 41 (its oldest), after the
  // seq-0 device snapshot.
  std::vector<pb::LiveUpstream> msgs;
  pb::LiveUpstream snapshot = FrameMsg(0);
  msgs.push_back(snapshot);
  for (uint64_t seq = 41; seq <= 45; ++seq) msgs.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", msgs);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_FALSE(r.acks.empty());
  EXPECT_EQ(r.acks.back(), 45u);
  for (size_t i = 1; i < r.acks.size(); ++i) EXPECT_GE(r.acks[i], r.acks[i - 1]);
  EXPECT_EQ(manager_->Get("boat-1")->state().cursor, 45u);
  auto rt = server_->Runtime("boat-1");
  ASSERT_TRUE(rt.has_value());
  EXPECT_FALSE(rt->connected);  // P8: an EOF disconnects too
  EXPECT_EQ(rt->live_frames, 6u);

  ASSERT_TRUE(manager_->Shutdown().ok());  // finishes the live file
  std::vector<uint64_t> seqs;
  for (const auto& f : LpjFiles(InstanceDir("boat-1") + "/journal")) {
    auto c = ReadJournal(f);
    seqs.insert(seqs.end(), c.seqs.begin(), c.seqs.end());
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{41, 42, 43, 44, 45}));
}

TEST_F(ReplicationServerTest, LiveFrameTheJournalDroppedIsNotAcked) {
  // No journal thread drains the 4 KiB queue: it fills, and later frames are
  // dropped (P4).
  OpenManager(/*journal_threads=*/false, /*queue_bytes=*/4096);
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::vector<pb::LiveUpstream> msgs;
  const uint64_t n = 2000;
  for (uint64_t seq = 1; seq <= n; ++seq) msgs.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", msgs);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  // What the journal itself says it dropped (not the server's own count).
  const uint64_t dropped = manager_->Get("boat-1")->journal_metrics().frames_dropped;
  ASSERT_GT(dropped, 0u) << "the queue never filled; the test provokes nothing";
  const uint64_t accepted = n - dropped;
  auto rt = server_->Runtime("boat-1");
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->live_dropped, dropped);
  ASSERT_FALSE(r.acks.empty());
  // The cursor stops below the first dropped frame and never acks it.
  EXPECT_EQ(r.acks.back(), accepted);
  for (uint64_t a : r.acks) EXPECT_LT(a, accepted + 1);
  InstanceState st = manager_->Get("boat-1")->state();
  EXPECT_EQ(st.cursor, accepted);
  // The dropped tail was never written: the next session asks for it back.
  pb::HandshakeResponse again;
  ASSERT_TRUE(Handshake("boat-1", n + 1, &again).ok());
  EXPECT_EQ(again.cursor(), accepted);
  ASSERT_EQ(again.holes_size(), 1);
  EXPECT_EQ(again.holes(0).start(), accepted + 1);
  EXPECT_EQ(again.holes(0).end(), n + 1);
}

// The reference acknowledged a live frame once it was queued for the
// journal; a cloud killed before the block reached the file lost frames the
// boat had been told were safe, and they never became holes.
TEST_F(ReplicationServerTest, LiveFramesAreAckedOnlyOnceTheJournalWroteThem) {
  // No journal thread: queued frames stay in memory until the stream's end
  // writes them out.
  OpenManager(/*journal_threads=*/false);
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::vector<pb::LiveUpstream> msgs;
  for (uint64_t seq = 1; seq <= 300; ++seq) msgs.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", msgs);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_GE(r.acks.size(), 2u);
  for (size_t i = 0; i + 1 < r.acks.size(); ++i) EXPECT_EQ(r.acks[i], 0u) << "ack " << i << " of queued frames";
  EXPECT_EQ(r.acks.back(), 300u);  // the end of the stream wrote them out
  EXPECT_EQ(manager_->Get("boat-1")->journal_metrics().frames_on_disk, 300u);
}

// A clean reconnect answers live_start_from = the boat's head, which the
// cloud already holds: journaled again it would be a duplicate seq.
TEST_F(ReplicationServerTest, CleanReconnectDoesNotJournalTheHeadFrameTwice) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::vector<pb::LiveUpstream> first;
  for (uint64_t seq = 1; seq <= 10; ++seq) first.push_back(FrameMsg(seq));
  ASSERT_TRUE(Live("boat-1", first).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());
  EXPECT_EQ(resp.live_start_from(), 10u);
  EXPECT_EQ(resp.holes_size(), 0);
  std::vector<pb::LiveUpstream> second;
  for (uint64_t seq = 10; seq <= 15; ++seq) second.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", second);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.acks.back(), 15u);
  EXPECT_EQ(server_->Runtime("boat-1")->live_duplicates, 1u);
  ASSERT_TRUE(manager_->Shutdown().ok());
  std::vector<uint64_t> seqs;
  for (const auto& f : LpjFiles(InstanceDir("boat-1") + "/journal")) {
    auto c = ReadJournal(f);
    seqs.insert(seqs.end(), c.seqs.begin(), c.seqs.end());
  }
  std::sort(seqs.begin(), seqs.end());
  std::vector<uint64_t> want;
  for (uint64_t seq = 1; seq <= 15; ++seq) want.push_back(seq);
  EXPECT_EQ(seqs, want);
}

// A frame below the handshake's head that the cloud is missing (a hole) is
// journaled when live brings it, not taken for a duplicate.
TEST_F(ReplicationServerTest, LiveFrameInsideAHoleIsJournaledNotSkipped) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::vector<pb::LiveUpstream> first;
  for (uint64_t seq = 1; seq <= 5; ++seq) first.push_back(FrameMsg(seq));
  ASSERT_TRUE(Live("boat-1", first).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 9, &resp).ok());  // 6..8 become a hole
  ASSERT_EQ(resp.holes_size(), 1);
  std::vector<pb::LiveUpstream> second;
  for (uint64_t seq = 6; seq <= 12; ++seq) second.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", second);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.acks.back(), 12u);
  EXPECT_EQ(server_->Runtime("boat-1")->live_duplicates, 0u);
}

TEST_F(ReplicationServerTest, ReconnectWithAHigherHeadOpensAHole) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  LiveResult r = Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.back(), 3u);

  // The boat was away while it recorded 4..9; 10 arrives on live.
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());
  EXPECT_EQ(resp.cursor(), 3u);
  ASSERT_EQ(resp.holes_size(), 1);
  EXPECT_EQ(resp.holes(0).start(), 4u);
  EXPECT_EQ(resp.holes(0).end(), 10u);
  EXPECT_EQ(resp.live_start_from(), 10u);
  // While the hole is open the cursor stays below it.
  r = Live("boat-1", {FrameMsg(10), FrameMsg(11)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.acks.back(), 3u);
}

TEST_F(ReplicationServerTest, LiveBeforeAnyHandshakeIsFailedPrecondition) {
  StartServer();
  LiveResult r = Live("boat-9", {FrameMsg(1)});
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << r.status.error_message();
  EXPECT_FALSE(fs::exists(InstanceDir("boat-9")));
}

// Backfill: one block written by a boat journal (uncompressed, 4 KiB),
// taken from it as the boat's client does.
class BoatJournal {
 public:
  explicit BoatJournal(const std::string& dir, uint64_t first, uint64_t last,
                       journal::Compression compression = journal::Compression::kNone) {
    journal::WriterOptions o;
    o.dir = dir;
    o.block_size = 4096;
    o.compression = compression;
    auto w = journal::JournalWriter::Create(o);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    for (uint64_t seq = first; seq <= last; ++seq) {
      can::Frame f = cloud::testing::Replica(seq, kT0 + static_cast<int64_t>(seq) * 1000);
      EXPECT_TRUE((*w)->Append(f).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    auto files = LpjFiles(dir);
    EXPECT_EQ(files.size(), 1u);
    auto r = journal::StoredBlockReader::OpenPath(files.at(0));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    auto b = (*r)->ReadBackfillBlock(0);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    pb::Block* block = msg.mutable_block();
    block->set_base_seq(b->base_seq);
    block->set_base_time_us(b->base_time_us);
    block->set_frame_count(b->frame_count);
    block->set_data(std::string(reinterpret_cast<const char*>(b->data.data()), b->data.size()));
    block->set_compressed(b->compressed);
    block->set_block_size(b->block_size);
  }
  pb::BackfillUpstream msg;
};

TEST_F(ReplicationServerTest, BackfillClosesTheHoleAndTheCursorJumpsPastLive) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());
  ASSERT_EQ(resp.holes_size(), 1);
  ASSERT_EQ(Live("boat-1", {FrameMsg(10), FrameMsg(11), FrameMsg(12)}).acks.back(), 3u);

  lplex::testing::TempDir boat;
  BoatJournal good(boat.path(), 4, 9);
  pb::BackfillUpstream bad = good.msg;
  bad.mutable_block()->set_frame_count(7);  // P6: the trailer says 6

  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ctx.AddMetadata("x-instance-id", "boat-1");
  auto stream = stub_->Backfill(&ctx);
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Write(good.msg));
  pb::BackfillDownstream down;
  ASSERT_TRUE(stream->Read(&down));
  // P1: not stuck at the last reported head (10) but past every live frame.
  EXPECT_EQ(down.continuous_through(), 12u);
  EXPECT_EQ(down.remaining_size(), 0);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&down));  // the bad block got no answer
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();

  auto rt = server_->Runtime("boat-1");
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->backfill_blocks, 1u);
  EXPECT_EQ(rt->backfill_rejected, 1u);
  ASSERT_EQ(rotated_.size(), 1u);
  EXPECT_EQ(rotated_[0].instance_id, "boat-1");
  EXPECT_NE(rotated_[0].path.find("/instances/boat-1/journal/backfill-"), std::string::npos) << rotated_[0].path;
  EXPECT_EQ(ReadJournal(rotated_[0].path).seqs, (std::vector<uint64_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(manager_->Get("boat-1")->state().cursor, 12u);
}

// Sends `msgs` on one Backfill stream as boat-1 and returns every answer.
std::vector<pb::BackfillDownstream> SendBackfill(pb::Replication::Stub* stub,
                                                 const std::vector<pb::BackfillUpstream>& msgs) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ctx.AddMetadata("x-instance-id", "boat-1");
  auto stream = stub->Backfill(&ctx);
  for (const auto& m : msgs) EXPECT_TRUE(stream->Write(m));
  stream->WritesDone();
  std::vector<pb::BackfillDownstream> answers;
  pb::BackfillDownstream down;
  while (stream->Read(&down)) answers.push_back(down);
  EXPECT_TRUE(stream->Finish().ok());
  return answers;
}

// Every seq in the instance's journal files, sorted (duplicates kept).
std::vector<uint64_t> JournaledSeqs(const std::string& journal_dir) {
  std::vector<uint64_t> seqs;
  for (const auto& f : LpjFiles(journal_dir)) {
    auto c = ReadJournal(f);
    seqs.insert(seqs.end(), c.seqs.begin(), c.seqs.end());
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

std::vector<uint64_t> SeqsFromTo(uint64_t first, uint64_t last) {
  std::vector<uint64_t> v;
  for (uint64_t s = first; s <= last; ++s) v.push_back(s);
  return v;
}

// A boat sends whole journal blocks (§1.6); one that reaches past the hole
// into seqs live already delivered was journaled whole by the reference, so
// those seqs were held twice.
TEST_F(ReplicationServerTest, BackfillBlockReachingPastTheHoleKeepsOnlyTheMissingSeqs) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());  // hole 4..9
  ASSERT_EQ(Live("boat-1", {FrameMsg(10), FrameMsg(11), FrameMsg(12)}).acks.back(), 3u);
  lplex::testing::TempDir boat;
  BoatJournal whole(boat.path(), 1, 15);  // 1..3 and 10..12 held, 13..15 not yet seen
  auto answers = SendBackfill(stub_.get(), {whole.msg});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].continuous_through(), 12u);
  EXPECT_EQ(answers[0].remaining_size(), 0);
  ASSERT_TRUE(manager_->Shutdown().ok());
  server_->Shutdown(1'000'000);
  EXPECT_EQ(JournaledSeqs(InstanceDir("boat-1") + "/journal"), SeqsFromTo(1, 12));
}

// A block that covers several holes is sent once per hole by a boat that
// looks each hole up separately: it is journaled once.
TEST_F(ReplicationServerTest, SameBackfillBlockSentTwiceIsJournaledOnce) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(10)}).status.ok());
  lplex::testing::TempDir boat;
  BoatJournal block(boat.path(), 4, 9);
  auto answers = SendBackfill(stub_.get(), {block.msg, block.msg});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].continuous_through(), 10u);
  ASSERT_TRUE(manager_->Shutdown().ok());
  server_->Shutdown(1'000'000);
  EXPECT_EQ(JournaledSeqs(InstanceDir("boat-1") + "/journal"), SeqsFromTo(1, 10));
}

// P6: the reference took a compressed block's frame_count on trust, so a
// wrong count acknowledged seqs the block does not hold.
TEST_F(ReplicationServerTest, CompressedBlockWhoseFrameCountIsWrongIsRejected) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 20, &resp).ok());  // hole 4..19
  lplex::testing::TempDir boat;
  BoatJournal block(boat.path(), 4, 9, journal::Compression::kZstd);
  ASSERT_TRUE(block.msg.block().compressed());
  pb::BackfillUpstream lying = block.msg;
  lying.mutable_block()->set_frame_count(16);  // would claim 4..19
  EXPECT_TRUE(SendBackfill(stub_.get(), {lying}).empty());
  EXPECT_EQ(server_->Runtime("boat-1")->backfill_rejected, 1u);
  EXPECT_EQ(manager_->Get("boat-1")->state().cursor, 3u);
  auto answers = SendBackfill(stub_.get(), {block.msg});
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_EQ(answers[0].remaining_size(), 1);
  EXPECT_EQ(answers[0].remaining(0).start(), 10u);
}

// §1.11: the instance's replication event log, newest first.
TEST_F(ReplicationServerTest, LiveAndBackfillStreamsAreLoggedNewestFirst) {
  StartServer();
  EXPECT_TRUE(server_->Events("boat-1", 10).empty());
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 10, &resp).ok());
  lplex::testing::TempDir boat;
  BoatJournal block(boat.path(), 4, 9);
  ASSERT_EQ(SendBackfill(stub_.get(), {block.msg}).size(), 1u);
  std::vector<EventLogEntry> events = server_->Events("boat-1", 10);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, "backfill_stop");
  EXPECT_EQ(events[0].detail_json, R"({"blocks_received":1})");
  EXPECT_EQ(events[1].type, "block_received");
  EXPECT_NE(events[1].detail_json.find(R"("base_seq":4)"), std::string::npos) << events[1].detail_json;
  EXPECT_NE(events[1].detail_json.find(R"("frame_count":6)"), std::string::npos) << events[1].detail_json;
  EXPECT_EQ(events[2].type, "backfill_start");
  EXPECT_EQ(events[2].detail_json, R"({"holes":1})");
  EXPECT_EQ(events[3].type, "live_stop");
  EXPECT_EQ(events[3].detail_json, R"({"frames_received":3})");
  EXPECT_EQ(events[4].type, "live_start");
  EXPECT_EQ(events[4].detail_json, R"({"boat_head_seq":3})");
  EXPECT_GE(events[0].time_us, events[4].time_us);
}

// HEAD's rate limit (§6.1, TestReplicationRateLimit): past the burst a
// boat sending faster than the limit is ended with RESOURCE_EXHAUSTED.
TEST_F(ReplicationServerTest, LiveStreamFasterThanTheRateLimitEndsAfterTheBurst) {
  ReplicationServerOptions o;
  o.rate_limit_per_s = 10;
  o.rate_burst = 20;
  StartServer(o, /*keep_limits=*/true);
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::vector<pb::LiveUpstream> msgs;
  for (uint64_t seq = 1; seq <= 200; ++seq) msgs.push_back(FrameMsg(seq));
  LiveResult r = Live("boat-1", msgs);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("rate limit of 10 frames/s"), std::string::npos) << r.status.error_message();
  const uint64_t taken = server_->Runtime("boat-1")->live_frames;
  EXPECT_GE(taken, 20u);
  EXPECT_LT(taken, 40u) << "a burst of 20 at 10 frames/s";
  std::vector<EventLogEntry> events = server_->Events("boat-1", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].detail_json.find("rate_limit_exceeded"), std::string::npos) << events[0].detail_json;
}

// HEAD's lag limit (§6.1): a live stream whose last frame trails the head
// the boat reports by more than max_live_lag is ended, so that the boat
// reconnects and the skipped seqs become a hole.
TEST_F(ReplicationServerTest, LiveStreamLaggingTheBoatsHeadBeyondTheLimitIsEnded) {
  ReplicationServerOptions o;
  o.rate_limit_per_s = 0;
  o.max_live_lag = 100;
  StartServer(o, /*keep_limits=*/true);
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  pb::LiveUpstream status;
  status.mutable_status()->set_head_seq(1000);
  LiveResult r = Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3), status, FrameMsg(4)});
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("lags the boat by 997 seqs (limit 100)"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(server_->Runtime("boat-1")->live_frames, 3u);
  std::vector<EventLogEntry> events = server_->Events("boat-1", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detail_json, R"({"frames_received":3,"lag":997,"reason":"cloud_lag_exceeded"})");
}

TEST_F(ReplicationServerTest, LagLimitZeroLetsALaggingBoatCatchUp) {
  ReplicationServerOptions o;
  o.rate_limit_per_s = 0;
  o.max_live_lag = 0;
  StartServer(o, /*keep_limits=*/true);
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  pb::LiveUpstream status;
  status.mutable_status()->set_head_seq(1000);
  LiveResult r = Live("boat-1", {FrameMsg(1), status, FrameMsg(2), FrameMsg(3)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.acks.back(), 3u);
}

// TestReplicationMultipleInstances: two boats at once, each into its own
// instance and journal.
TEST_F(ReplicationServerTest, TwoBoatsReplicatingAtOnceKeepTheirOwnCursorsAndJournals) {
  StartServer();
  for (const char* id : {"boat-1", "boat-2"}) {
    pb::HandshakeResponse resp;
    ASSERT_TRUE(Handshake(id, 0, &resp).ok());
  }
  std::vector<pb::LiveUpstream> msgs;
  for (uint64_t seq = 1; seq <= 50; ++seq) msgs.push_back(FrameMsg(seq));
  LiveResult r1, r2;
  std::thread t1([&] { r1 = Live("boat-1", msgs); });
  std::thread t2([&] { r2 = Live("boat-2", msgs); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.status.ok() && r2.status.ok());
  EXPECT_EQ(r1.acks.back(), 50u);
  EXPECT_EQ(r2.acks.back(), 50u);
  EXPECT_EQ(manager_->List().size(), 2u);
  ASSERT_TRUE(manager_->Shutdown().ok());
  EXPECT_EQ(JournaledSeqs(InstanceDir("boat-1") + "/journal"), SeqsFromTo(1, 50));
  EXPECT_EQ(JournaledSeqs(InstanceDir("boat-2") + "/journal"), SeqsFromTo(1, 50));
}

// TestReplicationCloudConsumerDuringLive: readers of the instance's broker
// opened before the data see every live frame.
TEST_F(ReplicationServerTest, ConsumersOpenedBeforeTheDataReadEveryLiveFrame) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  std::shared_ptr<broker::Broker> broker = manager_->Get("boat-1")->broker();
  ASSERT_NE(broker, nullptr) << "the handshake makes the instance active";
  std::vector<std::unique_ptr<broker::Consumer>> consumers;
  for (int i = 0; i < 3; ++i) consumers.push_back(broker->NewConsumer(1, {}));
  std::vector<pb::LiveUpstream> msgs;
  for (uint64_t seq = 1; seq <= 20; ++seq) msgs.push_back(FrameMsg(seq));
  ASSERT_TRUE(Live("boat-1", msgs).status.ok());
  for (auto& c : consumers) {
    std::vector<uint64_t> seqs;
    broker::ConsumerItem item;
    while (seqs.size() < 20 && c->Next(&item, std::chrono::seconds(5)) == broker::NextResult::kFrame) {
      seqs.push_back(item.seq);
    }
    EXPECT_EQ(seqs, SeqsFromTo(1, 20));
  }
}

// A boat's live stream never ends by itself: a graceful stop that waited
// for it always cost the whole grace (a cloud restart took its full 5 s,
// or a minute with a longer grace). What it took is still saved.
TEST_F(ReplicationServerTest, ShutdownEndsAnOpenLiveStreamWithoutWaitingOutTheGrace) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 0, &resp).ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-instance-id", "boat-1");
  auto stream = stub_->Live(&ctx);
  for (uint64_t seq = 1; seq <= 5; ++seq) ASSERT_TRUE(stream->Write(FrameMsg(seq)));
  const auto served = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server_->Runtime("boat-1")->live_frames < 5 && std::chrono::steady_clock::now() < served) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(server_->Runtime("boat-1")->live_frames, 5u);
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown(60'000'000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(manager_->Get("boat-1")->state().cursor, 5u) << "the frames it took were written out and saved";
  pb::LiveDownstream down;
  while (stream->Read(&down)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// A boat killed with seqs in memory resumes past a seq lease: the seqs in
// between were never issued, and the hole the cloud opens for them could
// never close (its cursor and lag stuck forever). The boat names them.
TEST_F(ReplicationServerTest, SeqsTheBoatCanNeverSendAreNoLongerOwed) {
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-1", 3, &resp).ok());
  ASSERT_TRUE(Live("boat-1", {FrameMsg(1), FrameMsg(2), FrameMsg(3)}).status.ok());
  ASSERT_TRUE(Handshake("boat-1", 100, &resp).ok());  // hole 4..99
  ASSERT_TRUE(Live("boat-1", {FrameMsg(100), FrameMsg(101)}).status.ok());
  lplex::testing::TempDir boat;
  BoatJournal block(boat.path(), 4, 9);
  pb::BackfillUpstream gone;
  pb::SeqRange* r = gone.add_unavailable();
  r->set_start(10);
  r->set_end(100);
  auto answers = SendBackfill(stub_.get(), {block.msg, gone});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].continuous_through(), 101u);
  EXPECT_EQ(answers[1].remaining_size(), 0);
  EXPECT_EQ(server_->Runtime("boat-1")->unavailable_seqs, 90u);
  EXPECT_TRUE(manager_->Get("boat-1")->state().holes.empty());
  EXPECT_TRUE(log_.Contains("can never send seqs 10..99")) << log_.Text();
}

// P2: a boat that restarted its seqs at 1 (a Go boat, or ours without a
// journal) reuses seqs the cloud holds; the cloud cannot fix that, but it
// must say so instead of carrying on silently.
TEST_F(ReplicationServerTest, BoatHeadBelowWhatTheCloudHoldsIsLoggedAsLostNumbering) {
  fs::create_directories(InstanceDir("boat-2"));
  InstanceState saved;
  saved.id = "boat-2";
  saved.cursor = 100;
  saved.seen_through = 100;
  ASSERT_TRUE(SaveInstanceState(InstanceDir("boat-2"), saved).ok());
  StartServer();
  pb::HandshakeResponse resp;
  ASSERT_TRUE(Handshake("boat-2", 100, &resp).ok());
  EXPECT_FALSE(log_.Contains("lost its seq numbering")) << "a boat at the cloud's cursor is fine";
  ASSERT_TRUE(Handshake("boat-2", 5, &resp).ok());
  EXPECT_TRUE(log_.Contains("the boat's head 5 is below what this cloud holds (cursor 100)")) << log_.Text();
}

// --- mTLS ------------------------------------------------------------------

bool HaveOpenssl() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CA, a server certificate for localhost/127.0.0.1, and client
// certificates with CN boat-1 and CN other, made by openssl in `dir`.
bool MakeCertificates(const std::string& dir) {
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string script = "set -e; cd '" + dir + "'; exec >openssl.log 2>&1\n";
  script += "openssl req -x509 " + key + " -keyout ca.key -out ca.crt -days 2 -subj /CN=lplex-test-ca\n";
  script += "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n";
  script += "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n";
  for (const char* name : {"server", "boat-1", "other"}) {
    const std::string n = name;
    const std::string cn = n == "server" ? "localhost" : n;
    script += "openssl req -new " + key + " -keyout " + n + ".key -out " + n + ".csr -subj /CN=" + cn + "\n";
    script += "openssl x509 -req -in " + n + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out " + n +
              ".crt -extfile " + (n == "server" ? "server.ext" : "client.ext") + "\n";
  }
  std::ofstream(dir + "/make.sh") << script;
  return std::system(("sh '" + dir + "/make.sh'").c_str()) == 0;
}

class ReplicationServerTlsTest : public ReplicationServerTest {
 protected:
  void SetUp() override {
    if (!HaveOpenssl()) GTEST_SKIP() << "openssl not found";
    ASSERT_TRUE(MakeCertificates(certs_.path())) << Slurp(certs_.Sub("openssl.log"));
    ReplicationServerOptions o;
    o.tls_cert_file = certs_.Sub("server.crt");
    o.tls_key_file = certs_.Sub("server.key");
    o.tls_client_ca_file = certs_.Sub("ca.crt");
    StartServer(std::move(o));
  }

  // A boat stub presenting `client` ("" = no client certificate).
  std::unique_ptr<pb::Replication::Stub> TlsStub(const std::string& client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Slurp(certs_.Sub("ca.crt"));
    if (!client.empty()) {
      o.pem_private_key = Slurp(certs_.Sub(client + ".key"));
      o.pem_cert_chain = Slurp(certs_.Sub(client + ".crt"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return pb::Replication::NewStub(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                                              grpc::SslCredentials(o), args));
  }

  grpc::Status TlsHandshake(pb::Replication::Stub& stub, const std::string& id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    pb::HandshakeRequest req;
    req.set_instance_id(id);
    pb::HandshakeResponse resp;
    return stub.Handshake(&ctx, req, &resp);
  }

  lplex::testing::TempDir certs_;
};

TEST_F(ReplicationServerTlsTest, WrongCnIsPermissionDenied) {
  auto other = TlsStub("other");
  grpc::Status s = TlsHandshake(*other, "boat-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("\"other\""), std::string::npos) << s.error_message();
  EXPECT_FALSE(fs::exists(InstanceDir("boat-1")));

  // The same boat with its own certificate is let in (so TLS itself works).
  auto boat = TlsStub("boat-1");
  s = TlsHandshake(*boat, "boat-1");
  EXPECT_TRUE(s.ok()) << s.error_message();
  // No header fallback on TLS: "other" cannot stream into boat-1 by naming it.
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  ctx.AddMetadata("x-instance-id", "boat-1");
  auto stream = other->Live(&ctx);
  stream->Write(FrameMsg(1));
  stream->WritesDone();
  pb::LiveDownstream down;
  while (stream->Read(&down)) {
  }
  s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(ReplicationServerTlsTest, NoClientCertificateIsRefused) {
  auto anonymous = TlsStub("");
  grpc::Status s = TlsHandshake(*anonymous, "boat-1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_code(), grpc::StatusCode::OK);
  EXPECT_FALSE(fs::exists(InstanceDir("boat-1")));
  EXPECT_EQ(manager_->size(), 0u);
}

}  // namespace
}  // namespace lplex::replication
