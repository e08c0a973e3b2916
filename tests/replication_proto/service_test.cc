// Pins the gRPC side of the replication protocol: the service and method
// names that make up the HTTP/2 paths a Go boat or Go cloud uses, and the
// shape (unary or bidirectional stream) of each method. The raw-path tests
// talk to the generated service through gRPC's generic stub with the paths
// and message bytes spelled out by hand, the way a Go peer would send them.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "lplex/replication/v1/replication.grpc.pb.h"
#include "lplex/replication/v1/replication.pb.h"

namespace lplex::replication::v1 {
namespace {

// A stand-in cloud whose answers echo what it decoded, so a test can see
// that each request field arrived under the right number.
class EchoCloud final : public Replication::Service {
 public:
  grpc::Status Handshake(grpc::ServerContext*, const HandshakeRequest* req,
                         HandshakeResponse* resp) override {
    if (req->instance_id() != "boat-1") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "instance_id " + req->instance_id());
    }
    resp->set_cursor(req->head_seq());
    resp->set_live_start_from(req->head_seq() + 1);
    return grpc::Status::OK;
  }

  grpc::Status Live(grpc::ServerContext*,
                    grpc::ServerReaderWriter<LiveDownstream, LiveUpstream>* stream) override {
    LiveUpstream up;
    while (stream->Read(&up)) {
      LiveDownstream down;
      down.set_acked_through(up.has_frame() ? up.frame().seq() : up.status().head_seq());
      stream->Write(down);
    }
    return grpc::Status::OK;
  }

  grpc::Status Backfill(grpc::ServerContext*,
                        grpc::ServerReaderWriter<BackfillDownstream, BackfillUpstream>* stream) override {
    BackfillUpstream up;
    while (stream->Read(&up)) {
      if (!up.has_block()) continue;
      BackfillDownstream down;
      down.set_continuous_through(up.block().base_seq() + up.block().frame_count() - 1);
      stream->Write(down);
    }
    return grpc::Status::OK;
  }
};

class ReplicationService : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&cloud_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  struct RawResult {
    grpc::Status status;
    std::vector<std::string> replies;
  };

  // Calls `path` with exactly the bytes `request` as the one request message,
  // half-closes, and collects every reply message's bytes. Works for unary
  // and streaming methods alike: on the wire both are a stream of messages.
  RawResult RawCall(const std::string& path, const std::string& request) {
    grpc::GenericStub stub(channel_);
    grpc::CompletionQueue cq;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto call = stub.PrepareCall(&ctx, path, &cq);
    RawResult out;
    int tag = 0;
    auto wait = [&]() {
      void* got = nullptr;
      bool ok = false;
      EXPECT_TRUE(cq.Next(&got, &ok));
      EXPECT_EQ(got, &tag);
      return ok;
    };
    call->StartCall(&tag);
    if (wait()) {
      grpc::Slice slice(request);
      grpc::ByteBuffer buf(&slice, 1);
      call->Write(buf, &tag);
      if (wait()) {
        call->WritesDone(&tag);
        wait();
      }
      grpc::ByteBuffer reply;
      for (call->Read(&reply, &tag); wait(); call->Read(&reply, &tag)) {
        std::vector<grpc::Slice> slices;
        EXPECT_TRUE(reply.Dump(&slices).ok());
        std::string bytes;
        for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
        out.replies.push_back(bytes);
      }
    }
    call->Finish(&out.status, &tag);
    wait();
    cq.Shutdown();
    void* ignored_tag;
    bool ignored_ok;
    while (cq.Next(&ignored_tag, &ignored_ok)) {
    }
    return out;
  }

  EchoCloud cloud_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

TEST_F(ReplicationService, ServiceFullNameIsPackageDotReplication) {
  EXPECT_STREQ(Replication::service_full_name(), "lplex.replication.v1.Replication");
}

// The descriptor compiled into the library lists exactly the three methods,
// with Go's request/response types and streaming shape.
TEST_F(ReplicationService, DescriptorMethodsMatchGoPathsAndShapes) {
  const auto* svc = HandshakeRequest::descriptor()->file()->FindServiceByName("Replication");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->full_name(), "lplex.replication.v1.Replication");
  ASSERT_EQ(svc->method_count(), 3);
  struct Want {
    const char* path;
    const char* in;
    const char* out;
    bool client_streaming;
    bool server_streaming;
  };
  const Want want[] = {
      {"/lplex.replication.v1.Replication/Handshake", "lplex.replication.v1.HandshakeRequest",
       "lplex.replication.v1.HandshakeResponse", false, false},
      {"/lplex.replication.v1.Replication/Live", "lplex.replication.v1.LiveUpstream",
       "lplex.replication.v1.LiveDownstream", true, true},
      {"/lplex.replication.v1.Replication/Backfill", "lplex.replication.v1.BackfillUpstream",
       "lplex.replication.v1.BackfillDownstream", true, true},
  };
  for (int i = 0; i < svc->method_count(); ++i) {
    const auto* m = svc->method(i);
    SCOPED_TRACE(m->name());
    EXPECT_EQ("/" + svc->full_name() + "/" + m->name(), want[i].path);
    EXPECT_EQ(m->input_type()->full_name(), want[i].in);
    EXPECT_EQ(m->output_type()->full_name(), want[i].out);
    EXPECT_EQ(m->client_streaming(), want[i].client_streaming);
    EXPECT_EQ(m->server_streaming(), want[i].server_streaming);
  }
}

// HandshakeRequest{instance_id "boat-1", head_seq 300} by hand on the Go path;
// the reply is HandshakeResponse{cursor 300, live_start_from 301}.
TEST_F(ReplicationService, HandshakeAnswersOnGoMethodPath) {
  auto r = RawCall("/lplex.replication.v1.Replication/Handshake",
                   Bytes({0x0a, 0x06, 'b', 'o', 'a', 't', '-', '1', 0x10, 0xac, 0x02}));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0], Bytes({0x08, 0xac, 0x02, 0x18, 0xad, 0x02}));
}

// LiveUpstream{frame{seq 5}} -> LiveDownstream{acked_through 5}.
TEST_F(ReplicationService, LiveAnswersOnGoMethodPath) {
  auto r = RawCall("/lplex.replication.v1.Replication/Live", Bytes({0x0a, 0x02, 0x08, 0x05}));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0], Bytes({0x08, 0x05}));
}

// BackfillUpstream{block{base_seq 10, frame_count 4}} ->
// BackfillDownstream{continuous_through 13}.
TEST_F(ReplicationService, BackfillAnswersOnGoMethodPath) {
  auto r = RawCall("/lplex.replication.v1.Replication/Backfill",
                   Bytes({0x0a, 0x04, 0x08, 0x0a, 0x18, 0x04}));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0], Bytes({0x08, 0x0d}));
}

// The Go .proto lives in proto/replication/v1/, but the path comes from the
// package, not the folder: a peer that left out "lplex." (or changed the
// case of a method) would find nothing.
TEST_F(ReplicationService, PathWithoutLplexPackageIsUnimplemented) {
  for (const char* path : {"/replication.v1.Replication/Handshake",
                           "/lplex.replication.v1.Replication/handshake"}) {
    SCOPED_TRACE(path);
    auto r = RawCall(path, Bytes({0x0a, 0x06, 'b', 'o', 'a', 't', '-', '1'}));
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_TRUE(r.replies.empty());
  }
}

// The generated client stub reaches the generated service: unary Handshake
// and a bidirectional Live stream with a frame and a status in one stream.
TEST_F(ReplicationService, GeneratedStubReachesGeneratedService) {
  auto stub = Replication::NewStub(channel_);
  {
    grpc::ClientContext ctx;
    HandshakeRequest req;
    req.set_instance_id("boat-1");
    req.set_head_seq(41);
    HandshakeResponse resp;
    auto s = stub->Handshake(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.cursor(), 41u);
    EXPECT_EQ(resp.live_start_from(), 42u);
  }
  {
    grpc::ClientContext ctx;
    HandshakeRequest req;
    req.set_instance_id("boat-2");
    HandshakeResponse resp;
    auto s = stub->Handshake(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "instance_id boat-2");
  }
  {
    grpc::ClientContext ctx;
    auto stream = stub->Live(&ctx);
    // Lock-step: the in-process transport hands a message over only when the
    // other side reads, so writing twice before reading would deadlock.
    LiveUpstream up;
    LiveDownstream down;
    up.mutable_frame()->set_seq(7);
    ASSERT_TRUE(stream->Write(up));
    ASSERT_TRUE(stream->Read(&down));
    EXPECT_EQ(down.acked_through(), 7u);
    up.mutable_status()->set_head_seq(9);
    ASSERT_TRUE(stream->Write(up));
    ASSERT_TRUE(stream->Read(&down));
    EXPECT_EQ(down.acked_through(), 9u);
    ASSERT_TRUE(stream->WritesDone());
    EXPECT_FALSE(stream->Read(&down));
    auto s = stream->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

}  // namespace
}  // namespace lplex::replication::v1
