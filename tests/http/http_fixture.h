// A broker plus a started Server on 127.0.0.1:<free port> for the HTTP tests.
// The test thread is the broker's owner (it calls Ingest).
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "broker/broker.h"
#include "broker/broker_fixture.h"
#include "core/clock.h"
#include "http/http_client.h"
#include "http/server.h"

namespace lplex::http::testing {

using broker::testing::ClaimFrame;
using broker::testing::kT0;
using broker::testing::MakeFrame;
using broker::testing::MakeName;
using broker::testing::TestFrame;

class HttpTest : public ::testing::Test {
 protected:
  void Launch(ServerOptions o = {}, broker::BrokerOptions bo = {}) {
    if (bo.ring_capacity == 65536) bo.ring_capacity = 1024;
    bo.clock = &clock_;
    auto b = broker::Broker::Create(std::move(bo));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(b).value();
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.clock = &clock_;
    auto s = Server::Create(std::move(o), broker_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(500));
  }

  void Ingest(TestFrame f) { broker_->Ingest(f.get()); }
  HttpResponse Get(std::string_view target, std::string_view extra = {}) { return Fetch(port_, "GET", target, {}, extra); }

  FakeClock clock_{kT0, kT0};
  std::shared_ptr<broker::Broker> broker_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

}  // namespace lplex::http::testing
