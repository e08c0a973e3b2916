// Who may replicate into the real lplex-cloud binary on an mTLS listener
// (issue 8 acceptance 4): the instance id is the client certificate's CN
// (wrong CN -> PermissionDenied), a client without a certificate is refused,
// and an id that is not a safe file name ("../x", "a/b", ".x", "", 300
// characters) is refused before any path is built from it, whether it comes
// in a HandshakeRequest or as the CN of a CA-signed certificate. Nothing is
// created for a refused client, inside `{data-dir}/instances/` or beside it.
// The unit tests of the same rules (tests/replication/replication_server_test.cc)
// run ReplicationServer in-process; these go through the binary's flags, its
// TLS setup and its HTTP view.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cloud_app/cloud_e2e_support.h"
#include "lplex/replication/v1/replication.grpc.pb.h"
#include "server/server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

namespace fs = std::filesystem;
namespace pb = ::lplex::replication::v1;
using ::testing::HasSubstr;
using lplex::testing::ChildServer;
using lplex::testing::FileText;
using lplex::testing::HttpGet;
using lplex::testing::PortFromLog;
using lplex::testing::TempDir;
using lplex::testing::TestPki;
using lplex::testing::TreeListing;
using std::chrono::seconds;

// The ids a boat must not be able to turn into a path.
const std::vector<std::string>& BadIds() {
  static const std::vector<std::string> ids = {"../x", "a/b", ".x", "", std::string(300, 'a')};
  return ids;
}

std::chrono::system_clock::time_point Deadline() { return std::chrono::system_clock::now() + seconds(20); }

// Writes `up` as the only message of a bidirectional stream, reads until the
// server ends it, and returns its final status.
template <typename Up, typename Down>
grpc::Status SendOneAndFinish(grpc::ClientReaderWriter<Up, Down>& stream, const Up& up) {
  stream.Write(up);
  stream.WritesDone();
  Down down;
  while (stream.Read(&down)) {
  }
  return stream.Finish();
}

// One lplex-cloud with an mTLS listener for the whole suite (the PKI holds a
// certificate for boat-1, for "other", and one whose CN is each bad id).
// Every test compares the tree under the temp dir (certificates and logs
// aside) before and after: a refused client leaves no trace.
class CloudSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!lplex::testing::HaveOpenssl()) return;
    dir_ = new TempDir();
    pki_ = new TestPki();
    fs::create_directories(dir_->Sub("pki"));
    fs::create_directories(dir_->Sub("logs"));
    std::vector<std::string> cns = {"boat-1", "other"};
    for (const auto& id : BadIds()) cns.push_back(id);
    std::string error;
    if (!pki_->Make(dir_->Sub("pki"), cns, &error)) {
      setup_error_ = new std::string("openssl: " + error);
      return;
    }
    grpc_port_ = lplex::testing::FreeLoopbackPort();
    std::vector<std::string> args = {"-data-dir", dir_->Sub("data"), "-grpc-listen",
                                     "127.0.0.1:" + std::to_string(grpc_port_), "-http-listen", "127.0.0.1:0"};
    for (const auto& f : pki_->CloudFlags()) args.push_back(f);
    cloud_ = new ChildServer(lplex::testing::kCloudBinary);
    if (!cloud_->Start(args, dir_->Sub("logs/cloud.log")) ||
        !cloud_->WaitForLog("lplex-cloud: ready", seconds(20))) {
      setup_error_ = new std::string("lplex-cloud did not start:\n" + cloud_->Log());
      return;
    }
    http_port_ = PortFromLog(cloud_->Log());
  }

  static void TearDownTestSuite() {
    delete cloud_;  // kills it
    delete pki_;
    delete dir_;
    delete setup_error_;
    cloud_ = nullptr;
    pki_ = nullptr;
    dir_ = nullptr;
    setup_error_ = nullptr;
  }

  void SetUp() override {
    if (!lplex::testing::HaveOpenssl()) GTEST_SKIP() << "openssl not found";
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    ASSERT_GT(http_port_, 0) << cloud_->Log();
    before_ = Tree();
  }

  // Files and folders under the temp dir but for the PKI and the logs: the
  // data dir, and whatever an escaping id would have created beside it.
  static std::vector<std::string> Tree() { return TreeListing(dir_->path(), {"pki", "logs"}); }

  // Nothing new anywhere, no instance in the cloud's list.
  void ExpectNothingCreated() {
    EXPECT_EQ(Tree(), before_);
    std::vector<std::string> instances;
    for (const auto& e : fs::directory_iterator(dir_->Sub("data") + "/instances")) {
      instances.push_back(e.path().filename().string());
    }
    EXPECT_THAT(instances, ::testing::IsEmpty());
    EXPECT_EQ(HttpGet(http_port_, "/instances").body, "{\"instances\":null}\n");
  }

  // A stub presenting `cn`'s certificate (nullopt: no client certificate).
  static std::unique_ptr<pb::Replication::Stub> Stub(const std::optional<std::string>& cn) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = FileText(pki_->ca_file());
    if (cn) {
      o.pem_private_key = FileText(pki_->client_key_file(*cn));
      o.pem_cert_chain = FileText(pki_->client_cert_file(*cn));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return pb::Replication::NewStub(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                                              grpc::SslCredentials(o), args));
  }

  static grpc::Status Handshake(pb::Replication::Stub& stub, const std::string& id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    pb::HandshakeRequest req;
    req.set_instance_id(id);
    req.set_head_seq(10);
    pb::HandshakeResponse resp;
    return stub.Handshake(&ctx, req, &resp);
  }

  // A Live stream carrying one frame; `header` is sent as x-instance-id
  // unless empty. The stream's final status.
  static grpc::Status Live(pb::Replication::Stub& stub, const std::string& header) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    if (!header.empty()) ctx.AddMetadata("x-instance-id", header);
    auto stream = stub.Live(&ctx);
    pb::LiveUpstream up;
    up.mutable_frame()->set_seq(1);
    up.mutable_frame()->set_timestamp_us(1'700'000'000'000'000);
    up.mutable_frame()->set_data(std::string(8, '\x01'));
    return SendOneAndFinish(*stream, up);
  }

  // A Backfill stream carrying one (uncompressed, invalid) block.
  static grpc::Status Backfill(pb::Replication::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto stream = stub.Backfill(&ctx);
    pb::BackfillUpstream up;
    up.mutable_block()->set_base_seq(1);
    up.mutable_block()->set_frame_count(1);
    up.mutable_block()->set_data(std::string(16, '\0'));
    return SendOneAndFinish(*stream, up);
  }

  static TempDir* dir_;
  static TestPki* pki_;
  static ChildServer* cloud_;
  static std::string* setup_error_;
  static int grpc_port_;
  static int http_port_;
  std::vector<std::string> before_;
};

TempDir* CloudSecurityTest::dir_ = nullptr;
TestPki* CloudSecurityTest::pki_ = nullptr;
ChildServer* CloudSecurityTest::cloud_ = nullptr;
std::string* CloudSecurityTest::setup_error_ = nullptr;
int CloudSecurityTest::grpc_port_ = 0;
int CloudSecurityTest::http_port_ = 0;

TEST_F(CloudSecurityTest, CertificateOfAnotherBoatIsPermissionDeniedOnEveryCall) {
  auto other = Stub("other");
  const grpc::Status h = Handshake(*other, "boat-1");
  EXPECT_EQ(h.error_code(), grpc::StatusCode::PERMISSION_DENIED) << h.error_message();
  EXPECT_THAT(h.error_message(), HasSubstr("\"boat-1\""));
  EXPECT_THAT(h.error_message(), HasSubstr("\"other\""));
  // No x-instance-id fallback on TLS: naming boat-1 in the header is refused too.
  const grpc::Status l = Live(*other, "boat-1");
  EXPECT_EQ(l.error_code(), grpc::StatusCode::PERMISSION_DENIED) << l.error_message();
  EXPECT_THAT(cloud_->Log(), HasSubstr("handshake refused: instance_id \"boat-1\" but client certificate CN \"other\""));
  ExpectNothingCreated();
}

TEST_F(CloudSecurityTest, ClientWithoutCertificateIsRefusedOnEveryCall) {
  auto anonymous = Stub(std::nullopt);
  const grpc::Status h = Handshake(*anonymous, "boat-1");
  EXPECT_FALSE(h.ok());
  // The TLS handshake itself fails (the listener requires a client
  // certificate): the call never reaches the service.
  EXPECT_EQ(h.error_code(), grpc::StatusCode::UNAVAILABLE) << h.error_message();
  EXPECT_FALSE(Live(*anonymous, "boat-1").ok());
  EXPECT_FALSE(Backfill(*anonymous).ok());
  // Nor does a plaintext client get in by naming itself.
  auto plain = pb::Replication::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), grpc::InsecureChannelCredentials()));
  EXPECT_FALSE(Handshake(*plain, "boat-1").ok());
  EXPECT_FALSE(Live(*plain, "boat-1").ok());
  ExpectNothingCreated();
}

class CloudRefusesInstanceId : public CloudSecurityTest, public ::testing::WithParamInterface<std::string> {};

// A boat with a good certificate (CN boat-1) asking for a bad id: refused
// as an invalid id, not as a CN mismatch, so the message tells the operator
// what is wrong with the id.
TEST_P(CloudRefusesInstanceId, InHandshakeRequestBeforeAnyPathIsBuilt) {
  const std::string& id = GetParam();
  auto boat = Stub("boat-1");
  const grpc::Status s = Handshake(*boat, id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("instance id"));
  ExpectNothingCreated();
}

// A certificate the fleet's CA signed whose CN is a bad id (an empty id is
// a certificate without a CN): the CN is the identity on TLS, and it is
// validated before it becomes a path, on every call.
TEST_P(CloudRefusesInstanceId, AsTheClientCertificateCnOnEveryCall) {
  const std::string& id = GetParam();
  auto holder = Stub(id);
  const grpc::StatusCode expected =
      id.empty() ? grpc::StatusCode::UNAUTHENTICATED : grpc::StatusCode::INVALID_ARGUMENT;
  const grpc::Status h = Handshake(*holder, id);
  EXPECT_EQ(h.error_code(), expected) << h.error_message();
  const grpc::Status l = Live(*holder, "");
  EXPECT_EQ(l.error_code(), expected) << l.error_message();
  const grpc::Status b = Backfill(*holder);
  EXPECT_EQ(b.error_code(), expected) << b.error_message();
  if (!id.empty()) {
    EXPECT_THAT(h.error_message(), HasSubstr("instance id"));
    EXPECT_THAT(l.error_message(), HasSubstr("instance id"));
  }
  ExpectNothingCreated();
}

std::string IdName(const ::testing::TestParamInfo<std::string>& info) {
  const std::string& id = info.param;
  if (id.empty()) return "Empty";
  if (id == "../x") return "DotDotSlash";
  if (id == "a/b") return "Slash";
  if (id == ".x") return "LeadingDot";
  return "Chars" + std::to_string(id.size());
}

INSTANTIATE_TEST_SUITE_P(BadIds, CloudRefusesInstanceId, ::testing::ValuesIn(BadIds()), IdName);

}  // namespace
}  // namespace lplex::cloud_app
