// The reference's broker tests (spec/boat.md §8 broker_test.go, numbers in
// comments) and the issue-7 fixes: seq continuity, discovery retry and
// pacing, idle removal, bounded subscribers, replica mode.
#include <nlohmann/json.hpp>

#include "broker_fixture.h"

namespace lplex::broker::testing {
namespace {

using nlohmann::json;

// #1
TEST_F(BrokerTest, SeqsStartAtOneAndFollowArrivalOrder) {
  auto b = Make();
  auto c = b->NewConsumer(1, {});
  for (int i = 0; i < 3; ++i) Ingest(*b, MakeFrame(129025, 10));
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(items[i].seq, i + 1);
    EXPECT_EQ(items[i].header.pgn, 129025u);
    EXPECT_EQ(json::parse(items[i].json.view())["seq"], i + 1);
  }
}

// #2
TEST_F(BrokerTest, SessionStreamAfterAckReplaysFromCursorPlusOne) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  for (int i = 0; i < 5; ++i) Ingest(*b, MakeFrame(129025, 10));
  ASSERT_TRUE(b->AckSession("helm", 3).ok());
  auto c = b->OpenSession("helm");
  ASSERT_TRUE(c.ok());
  auto items = DrainConsumer(**c);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].seq, 4u);
  EXPECT_EQ(items[1].seq, 5u);
}

// #3
TEST_F(BrokerTest, AckOfUnknownSessionIsNotFoundNamingTheId) {
  auto b = Make();
  Status s = b->AckSession("ghost", 1);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "session not found: ghost");
  EXPECT_FALSE(b->OpenSession("ghost").ok());
}

// #4
TEST_F(BrokerTest, AddressClaimCreatesGarminDevice) {
  auto b = Make();
  Ingest(*b, ClaimFrame(5, MakeName(229)));
  auto devices = b->Devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].device.source, 5);
  auto j = json::parse(b->DevicesJson());
  EXPECT_EQ(j[0]["manufacturer"], "Garmin");
}

// #5
TEST_F(BrokerTest, BufferTimeoutIsCappedAtMaxBufferDuration) {
  BrokerOptions o;
  o.max_buffer_duration_us = 60 * kSecondUs;
  auto b = Make(o);
  auto [s, seq] = b->CreateSession("helm", 600 * kSecondUs, {});
  EXPECT_EQ(s.buffer_timeout_us, 60 * kSecondUs);
  EXPECT_EQ(seq, 0u);
}

// #6
TEST_F(BrokerTest, ReconnectKeepsSessionAndUpdatesTimeout) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  ASSERT_TRUE(b->AckSession("helm", 7).ok());
  auto [s, seq] = b->CreateSession("helm", 120 * kSecondUs, {});
  EXPECT_EQ(s.buffer_timeout_us, 120 * kSecondUs);
  EXPECT_EQ(s.cursor, 7u);
  EXPECT_EQ(b->Stats().active_sessions, 1u);
}

// #7
TEST_F(BrokerTest, StartBroadcastsIsoRequestForAddressClaims) {
  auto b = Make();
  b->Start();
  auto tx = DrainTx(*b);
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].header.pgn, 59904u);
  EXPECT_EQ(tx[0].header.source, 254);
  EXPECT_EQ(tx[0].header.destination, 255);
  EXPECT_EQ(tx[0].header.priority, 6);
  EXPECT_EQ(tx[0].data, (std::vector<uint8_t>{0x00, 0xee, 0x00}));
}

// #8
TEST_F(BrokerTest, FirstNonClaimFrameFromNewSourceRequestsItsClaim) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 42));
  auto tx = DrainTx(*b);
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].header.pgn, 59904u);
  EXPECT_EQ(tx[0].header.destination, 42);
  EXPECT_EQ(tx[0].data, (std::vector<uint8_t>{0x00, 0xee, 0x00}));
  Ingest(*b, MakeFrame(129025, 42));
  EXPECT_TRUE(DrainTx(*b).empty());
}

// #9
TEST_F(BrokerTest, NewClaimRequestsProductInfoExactlyOnce) {
  auto b = Make();
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  auto tx = DrainTx(*b);
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].header.destination, 10);
  EXPECT_EQ(tx[0].data, (std::vector<uint8_t>{0x14, 0xf0, 0x01}));
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  EXPECT_TRUE(DrainTx(*b).empty());
}

class FilteredConsumerTest : public BrokerTest {
 protected:
  void SetUp() override {
    b_ = Make();
    Ingest(*b_, ClaimFrame(5, MakeName(229, 1, 2)));   // Garmin, instance 2
    Ingest(*b_, ClaimFrame(6, MakeName(358, 2, 0)));   // Victron
    Ingest(*b_, MakeFrame(129025, 10));                // unknown source
  }
  std::vector<std::pair<uint32_t, uint8_t>> Run(const FilterSpec& f) {
    auto c = b_->NewConsumer(b_->CurrentSeq() + 1, f);
    Ingest(*b_, MakeFrame(129025, 5));
    Ingest(*b_, MakeFrame(129026, 5));
    Ingest(*b_, MakeFrame(129025, 6));
    Ingest(*b_, MakeFrame(129025, 10));
    Ingest(*b_, MakeFrame(130306, 5));
    std::vector<std::pair<uint32_t, uint8_t>> out;
    for (auto& i : DrainConsumer(*c)) out.emplace_back(i.header.pgn, i.header.source);
    return out;
  }
  std::shared_ptr<Broker> b_;
};

using Got = std::vector<std::pair<uint32_t, uint8_t>>;

// #10
TEST_F(FilteredConsumerTest, ManufacturerNameKeepsGarminAndDropsUnknownSource) {
  FilterSpec f;
  f.manufacturer = {"Garmin"};
  EXPECT_EQ(Run(f), (Got{{129025, 5}, {129026, 5}, {130306, 5}}));
}

// #11
TEST_F(FilteredConsumerTest, ManufacturerCodeMatchesGarminNotVictron) {
  FilterSpec f;
  f.manufacturer = {"229"};
  EXPECT_EQ(Run(f), (Got{{129025, 5}, {129026, 5}, {130306, 5}}));
}

// #12
TEST_F(FilteredConsumerTest, InstanceFilterPassesInstanceTwoDevice) {
  FilterSpec f;
  f.instance = {2};
  EXPECT_EQ(Run(f), (Got{{129025, 5}, {129026, 5}, {130306, 5}}));
}

// #13
TEST_F(FilteredConsumerTest, PgnAndManufacturerAreAnded) {
  FilterSpec f;
  f.pgn = {129025};
  f.manufacturer = {"Garmin"};
  EXPECT_EQ(Run(f), (Got{{129025, 5}}));
}

// #14
TEST_F(BrokerTest, ExcludePgnDropsClaimAndProductInfo) {
  auto b = Make();
  FilterSpec f;
  f.exclude_pgn = {60928, 126996};
  auto c = b->NewConsumer(1, f);
  Ingest(*b, ClaimFrame(5, MakeName(229)));
  Ingest(*b, MakeFrame(129025, 5));
  Ingest(*b, ProductFrame(5, 1234, "GPS 19x"));
  Ingest(*b, MakeFrame(130306, 5));
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].header.pgn, 129025u);
  EXPECT_EQ(items[1].header.pgn, 130306u);
}

// #15
TEST_F(FilteredConsumerTest, ExclusionBeatsInclusion) {
  FilterSpec f;
  f.pgn = {129025, 129026};
  f.exclude_pgn = {129026};
  EXPECT_EQ(Run(f), (Got{{129025, 5}, {129025, 6}, {129025, 10}}));
}

// #16
TEST_F(FilteredConsumerTest, ExcludeNameDropsThatDeviceOnly) {
  FilterSpec f;
  f.exclude_name = {MakeName(358, 2, 0)};
  EXPECT_EQ(Run(f), (Got{{129025, 5}, {129026, 5}, {129025, 10}, {130306, 5}}));
}

TEST_F(FilteredConsumerTest, SrcFilterKeepsOnlyListedSources) {
  FilterSpec f;
  f.src = {6, 10};
  EXPECT_EQ(Run(f), (Got{{129025, 6}, {129025, 10}}));
}

TEST_F(BrokerTest, ConsumerFilterIsResolvedAtConnectNotLater) {
  auto b = Make();
  FilterSpec f;
  f.manufacturer = {"Garmin"};
  auto c = b->NewConsumer(1, f);
  Ingest(*b, ClaimFrame(5, MakeName(229)));  // claims after the consumer connected
  Ingest(*b, MakeFrame(129025, 5));
  EXPECT_TRUE(DrainConsumer(*c).empty());
}

// #17
TEST_F(BrokerTest, RecreatingWithTimeoutZeroResetsCursor) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  ASSERT_TRUE(b->AckSession("helm", 42).ok());
  auto [s, seq] = b->CreateSession("helm", 0, {});
  EXPECT_EQ(s.cursor, 0u);
}

// #18
TEST_F(BrokerTest, UnfilteredSubscriberGetsEveryFrame) {
  auto b = Make();
  auto sub = b->Subscribe({});
  Ingest(*b, MakeFrame(129025, 10));
  Ingest(*b, MakeFrame(129026, 10));
  auto msgs = DrainSubscriber(*sub);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(json::parse(msgs[1])["pgn"], 129026);
}

// #19
TEST_F(BrokerTest, SubscriberPgnFilterPassesOneOfTwo) {
  auto b = Make();
  FilterSpec f;
  f.pgn = {129025};
  auto sub = b->Subscribe(f);
  Ingest(*b, MakeFrame(129025, 10));
  Ingest(*b, MakeFrame(129026, 10));
  EXPECT_EQ(DrainSubscriber(*sub).size(), 1u);
}

// #20
TEST_F(BrokerTest, DestroyingSubscriberRemovesIt) {
  auto b = Make();
  auto sub = b->Subscribe({});
  EXPECT_EQ(b->Stats().active_subscribers, 1u);
  sub.reset();
  EXPECT_EQ(b->Stats().active_subscribers, 0u);
}

// #21
TEST_F(BrokerTest, SubscriberGetsDeviceEventBeforeTheClaimFrameEvenWhenFiltered) {
  auto b = Make();
  FilterSpec f;
  f.pgn = {129025};
  auto sub = b->Subscribe(f);
  Ingest(*b, ClaimFrame(5, MakeName(229)));
  auto msgs = DrainSubscriber(*sub);
  ASSERT_EQ(msgs.size(), 1u);
  auto j = json::parse(msgs[0]);
  EXPECT_EQ(j["type"], "device");
  EXPECT_EQ(j["src"], 5);
  EXPECT_TRUE(msgs[0].starts_with("{\"type\":\"device\",\"src\":5,"));
}

// #22 and the replica fix
TEST_F(BrokerTest, ReplicaModeKeepsTheFramesOwnSeqs) {
  BrokerOptions o;
  o.replica = true;
  auto b = Make(o);
  auto c = b->NewConsumer(1, {});
  for (uint64_t s = 1; s <= 5; ++s) Ingest(*b, MakeFrame(129025, 10, {1}, kT0, 255, s));
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 5u);
  for (uint64_t s = 1; s <= 5; ++s) EXPECT_EQ(items[s - 1].seq, s);
}

// #23
TEST_F(BrokerTest, ReplicaHeadJumpsForwardAndNeverBack) {
  BrokerOptions o;
  o.replica = true;
  auto b = Make(o);
  Ingest(*b, MakeFrame(129025, 10, {1}, kT0, 255, 100));
  EXPECT_EQ(b->Stats().head_seq, 101u);
  Ingest(*b, MakeFrame(129025, 10, {1}, kT0, 255, 50));
  EXPECT_EQ(b->Stats().head_seq, 101u);
}

// #24
TEST_F(BrokerTest, ReplicaModeSendsNoIsoRequests) {
  BrokerOptions o;
  o.replica = true;
  auto b = Make(o);
  b->Start();
  Ingest(*b, MakeFrame(129025, 42, {1}, kT0, 255, 1));
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  b->Tick(kT0 + 60 * kSecondUs);
  EXPECT_TRUE(DrainTx(*b).empty());
}

// #25
TEST_F(BrokerTest, ReplicaGapsAreSkippedAndEarlierSeqsStayReadable) {
  BrokerOptions o;
  o.replica = true;
  auto b = Make(o);
  for (uint64_t s : {1, 2, 5, 6}) Ingest(*b, MakeFrame(129025, 10, {1}, kT0, 255, s));
  EXPECT_EQ(b->CurrentSeq(), 6u);
  auto c = b->NewConsumer(1, {});
  std::vector<uint64_t> seqs;
  for (auto& i : DrainConsumer(*c)) seqs.push_back(i.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 5, 6}));
}

// #26 and P2
TEST_F(BrokerTest, SeqContinuesFromInitialHead) {
  BrokerOptions o;
  o.initial_head = 5000;
  std::vector<uint64_t> journaled;
  o.journal_sink = [&](const can::Frame& f) { journaled.push_back(f.seq); };
  auto b = Make(o);
  EXPECT_EQ(b->CurrentSeq(), 4999u);
  auto c = b->NewConsumer(5000, {});
  Ingest(*b, MakeFrame(129025, 10));
  Ingest(*b, MakeFrame(129025, 10));
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].seq, 5000u);
  EXPECT_EQ(items[1].seq, 5001u);
  EXPECT_EQ(journaled, (std::vector<uint64_t>{5000, 5001}));
}

// #27
TEST_F(BrokerTest, InitialHeadZeroStartsAtOne) {
  auto b = Make();
  EXPECT_EQ(b->CurrentSeq(), 0u);
  Ingest(*b, MakeFrame(129025, 10));
  EXPECT_EQ(b->CurrentSeq(), 1u);
}

// #28
TEST_F(BrokerTest, ReplicaRingWrapServesTheLastCapacitySeqs) {
  BrokerOptions o;
  o.replica = true;
  o.ring_capacity = 16;
  auto b = Make(o);
  for (uint64_t s = 1; s <= 32; ++s) Ingest(*b, MakeFrame(129025, 10, {1}, kT0, 255, s));
  EXPECT_EQ(b->CurrentSeq(), 32u);
  auto c = b->NewConsumer(25, {});
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 8u);
  EXPECT_EQ(items.front().seq, 25u);
  EXPECT_EQ(items.back().seq, 32u);
}

TEST_F(BrokerTest, RingCapacityThatIsNotAPowerOfTwoIsRefusedNamingIt) {
  BrokerOptions o;
  o.ring_capacity = 1000;
  auto r = Broker::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ring_capacity 1000"), std::string::npos);
}

TEST_F(BrokerTest, ConsumerPastTheRingWithoutJournalFallsBehind) {
  BrokerOptions o;
  o.ring_capacity = 16;
  auto b = Make(o);
  auto c = b->NewConsumer(1, {});
  for (int i = 0; i < 40; ++i) Ingest(*b, MakeFrame(129025, 10));
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::milliseconds(0)), NextResult::kFallenBehind);
  EXPECT_NE(c->error().message().find("seq 1 is no longer in the ring (oldest 25)"), std::string::npos);
  EXPECT_EQ(b->Stats().consumers_fallen_behind, 1u);
}

TEST_F(BrokerTest, SessionExpiresOnTickAfterItsTimeout) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  b->CreateSession("zero", 0, {});
  b->Tick(kT0 + 30 * kSecondUs);
  EXPECT_TRUE(b->GetSession("helm").has_value());
  EXPECT_FALSE(b->GetSession("zero").has_value());
  b->Tick(kT0 + 61 * kSecondUs);
  EXPECT_FALSE(b->GetSession("helm").has_value());
  EXPECT_EQ(b->Stats().sessions_expired, 2u);
}

TEST_F(BrokerTest, AckKeepsSessionAlive) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  clock_.Advance(50 * kSecondUs);
  ASSERT_TRUE(b->AckSession("helm", 1).ok());
  b->Tick(kT0 + 100 * kSecondUs);
  EXPECT_TRUE(b->GetSession("helm").has_value());
}

TEST_F(BrokerTest, NeverAckedSessionStreamStartsLive) {
  auto b = Make();
  b->CreateSession("helm", 60 * kSecondUs, {});
  Ingest(*b, MakeFrame(129025, 10));
  auto c = b->OpenSession("helm");
  ASSERT_TRUE(c.ok());
  Ingest(*b, MakeFrame(129026, 10));
  auto items = DrainConsumer(**c);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].seq, 2u);
}

TEST_F(BrokerTest, FrameJsonHasReferenceKeyOrder) {
  auto b = Make();
  auto sub = b->Subscribe({});
  Ingest(*b, MakeFrame(129025, 10, {0x5a, 0x1f}, kT0 + 123456700 / 1000, 255));
  auto msgs = DrainSubscriber(*sub);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "{\"seq\":1,\"ts\":\"2026-03-02T14:00:00.123456Z\",\"prio\":2,\"pgn\":129025,\"src\":10,"
                     "\"dst\":255,\"data\":\"5a1f\"}");
}

TEST_F(BrokerTest, ValuesKeepLatestPerSourceAndPgn) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 10, {1}));
  Ingest(*b, MakeFrame(129025, 10, {2}));
  auto j = json::parse(b->ValuesJson({}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["values"][0]["data"], "02");
  EXPECT_EQ(j[0]["values"][0]["seq"], 2);
}

// ---- fixes -----------------------------------------------------------------

TEST_F(BrokerTest, LostProductInfoRequestIsResentAfterRetryDelay) {
  BrokerOptions o;
  o.discovery_retry_delay_us = 10 * kSecondUs;
  o.discovery_max_requests = 3;
  auto b = Make(o);
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  ASSERT_EQ(DrainTx(*b).size(), 1u);  // the first request, lost on the bus
  b->Tick(kT0 + 5 * kSecondUs);
  EXPECT_TRUE(DrainTx(*b).empty()) << "re-sent before the retry delay";
  b->Tick(kT0 + 10 * kSecondUs);
  auto tx = DrainTx(*b);
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].header.destination, 10);
  EXPECT_EQ(tx[0].data, (std::vector<uint8_t>{0x14, 0xf0, 0x01}));
  b->Tick(kT0 + 20 * kSecondUs);
  EXPECT_EQ(DrainTx(*b).size(), 1u);
  b->Tick(kT0 + 30 * kSecondUs);
  EXPECT_TRUE(DrainTx(*b).empty()) << "more than discovery_max_requests";
  EXPECT_EQ(b->Stats().discovery_retries, 2u);
}

TEST_F(BrokerTest, AnsweredProductInfoIsNotRequestedAgain) {
  auto b = Make();
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  DrainTx(*b);
  Ingest(*b, ProductFrame(10, 1234, "GPS 19x"));
  b->Tick(kT0 + 60 * kSecondUs);
  EXPECT_TRUE(DrainTx(*b).empty());
}

TEST_F(BrokerTest, FiftyDevicesClaimingAtOnceArePacedNotFlooded) {
  BrokerOptions o;
  o.discovery_requests_per_second = 10;
  auto b = Make(o);
  for (uint8_t src = 1; src <= 50; ++src) Ingest(*b, ClaimFrame(src, MakeName(229, src)));
  EXPECT_EQ(DrainTx(*b).size(), 10u) << "the burst";
  size_t total = 10;
  for (int s = 1; s <= 4; ++s) {
    b->Tick(kT0 + s * kSecondUs);
    EXPECT_EQ(DrainTx(*b).size(), 10u) << "second " << s;
    total += 10;
  }
  EXPECT_EQ(total, 50u);
  b->Tick(kT0 + 5 * kSecondUs);
  EXPECT_TRUE(DrainTx(*b).empty());
}

TEST_F(BrokerTest, FullTxQueueCountsDropsAndRetryResendsLater) {
  BrokerOptions o;
  o.tx_queue = 1;
  auto b = Make(o);
  Ingest(*b, ClaimFrame(10, MakeName(229, 1)));
  Ingest(*b, ClaimFrame(11, MakeName(229, 2)));  // tx full: dropped
  EXPECT_EQ(b->Stats().tx_dropped, 1u);
  EXPECT_EQ(DrainTx(*b).size(), 1u);
  b->Tick(kT0 + 10 * kSecondUs);
  EXPECT_EQ(DrainTx(*b).size(), 1u);  // queue room for one; the other drops again
  EXPECT_EQ(b->SendIsoRequest(0, 60928, 255).ok(), true);
  Status full = b->SendIsoRequest(0, 60928, 255);
  EXPECT_EQ(full.message(), "tx queue full");
}

TEST_F(BrokerTest, IdleDeviceIsRemovedWithDeviceRemovedEvent) {
  BrokerOptions o;
  o.device_idle_timeout_us = 60 * kSecondUs;
  auto b = Make(o);
  auto sub = b->Subscribe({});
  Ingest(*b, ClaimFrame(10, MakeName(229)));
  Ingest(*b, MakeFrame(129025, 11));
  b->Tick(kT0 + 45 * kSecondUs);
  Ingest(*b, MakeFrame(129025, 11));  // 11 stays active
  DrainSubscriber(*sub);
  b->Tick(kT0 + 61 * kSecondUs);
  auto msgs = DrainSubscriber(*sub);
  ASSERT_EQ(msgs.size(), 1u);
  auto j = json::parse(msgs[0]);
  EXPECT_EQ(j["type"], "device_removed");
  EXPECT_EQ(j["src"], 10);
  auto devices = b->Devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].device.source, 11);
  EXPECT_EQ(b->Stats().devices_removed, 1u);
}

// Our own ISO requests come back from 254 (SocketCAN loopback, sim:), and a
// node that cannot claim an address announces it from 254: no device.
TEST_F(BrokerTest, NullAddress254IsNeverADevice) {
  BrokerOptions o;
  o.device_idle_timeout_us = 60 * kSecondUs;
  std::vector<uint8_t> journaled_sources;
  o.journal_sink = [&](const can::Frame& f) { journaled_sources.push_back(f.header.source); };
  auto b = Make(o);
  auto sub = b->Subscribe({});
  FilterSpec only254;
  only254.src = {254};
  auto src254 = b->Subscribe(only254);
  auto consumer = b->NewConsumer(1, {});
  Ingest(*b, MakeFrame(59904, 254, {0x00, 0xEE, 0x00}, kT0, 255));  // our request for 60928, echoed
  Ingest(*b, ClaimFrame(254, MakeName(229)));                       // "cannot claim an address"
  Ingest(*b, MakeFrame(129025, 254));
  Ingest(*b, MakeFrame(129025, 10));

  auto devices = json::parse(b->DevicesJson());
  ASSERT_EQ(devices.size(), 1u) << devices.dump();
  EXPECT_EQ(devices[0]["src"], 10);
  EXPECT_EQ(b->Stats().device_count, 1u);
  for (const TxFrame& tx : DrainTx(*b)) EXPECT_NE(tx.header.destination, 254) << "discovery request to 254";
  // Still frames: streamed (no device event among them), journaled, in the ring.
  auto msgs = DrainSubscriber(*sub);
  ASSERT_EQ(msgs.size(), 4u);
  for (const auto& m : msgs) EXPECT_FALSE(json::parse(m).contains("type")) << m;
  EXPECT_EQ(DrainSubscriber(*src254).size(), 3u) << "the src filter still matches 254";
  EXPECT_EQ(journaled_sources, (std::vector<uint8_t>{254, 254, 254, 10}));
  EXPECT_EQ(DrainConsumer(*consumer).size(), 4u);
  // Nothing to time out later either.
  b->Tick(kT0 + 61 * kSecondUs);
  auto removed = DrainSubscriber(*sub);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(json::parse(removed[0])["src"], 10);
}

TEST_F(BrokerTest, SlowSubscriberIsBoundedAndDropsAreCounted) {
  BrokerOptions o;
  o.subscriber_queue = 8;
  auto b = Make(o);
  auto slow = b->Subscribe({});
  auto fast = b->Subscribe({});
  size_t fast_got = 0;
  for (int i = 0; i < 100; ++i) {
    Ingest(*b, MakeFrame(129025, 10));
    fast_got += DrainSubscriber(*fast).size();
  }
  EXPECT_EQ(fast_got, 100u);
  EXPECT_EQ(fast->dropped(), 0u);
  EXPECT_EQ(DrainSubscriber(*slow).size(), 8u);
  EXPECT_EQ(slow->dropped(), 92u);
  EXPECT_EQ(b->Stats().subscriber_drops, 92u);
  std::string metrics;
  b->AppendMetrics(&metrics);
  EXPECT_NE(metrics.find("lplex_subscriber_dropped_messages_total 92\n"), std::string::npos);
}

TEST_F(BrokerTest, BusSilenceDegradesAfterTimeoutAndRecovers) {
  BrokerOptions o;
  o.bus_silence_timeout_us = 30 * kSecondUs;
  auto b = Make(o);
  b->Tick(kT0 + 100 * kSecondUs);
  EXPECT_FALSE(b->bus_silent()) << "quiet until the first frame";
  Ingest(*b, MakeFrame(129025, 10));
  b->Tick(kT0 + 101 * kSecondUs);
  b->Tick(kT0 + 120 * kSecondUs);
  EXPECT_FALSE(b->bus_silent());
  b->Tick(kT0 + 132 * kSecondUs);
  EXPECT_TRUE(b->bus_silent());
  EXPECT_EQ(b->Stats().bus_silence_events, 1u);
  Ingest(*b, MakeFrame(129025, 10));
  b->Tick(kT0 + 133 * kSecondUs);
  EXPECT_FALSE(b->bus_silent());
}

TEST_F(BrokerTest, MetricsCarryReferenceNames) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 10));
  std::string m;
  b->AppendMetrics(&m);
  for (const char* name : {"lplex_frames_total 1\n", "lplex_ring_buffer_entries 1\n",
                           "lplex_ring_buffer_capacity 1024\n", "lplex_ring_buffer_utilization 0.000977\n",
                           "lplex_broker_head_seq 2\n", "lplex_devices_total 1\n",
                           "lplex_last_frame_timestamp_seconds 1772460000.000\n",
                           "# TYPE lplex_frames_total counter\n"}) {
    EXPECT_NE(m.find(name), std::string::npos) << name;
  }
}

TEST_F(BrokerTest, ShutdownEndsSubscribersAndConsumers) {
  auto b = Make();
  auto sub = b->Subscribe({});
  auto c = b->NewConsumer(1, {});
  b->Shutdown();
  JsonRef m;
  EXPECT_EQ(sub->Pop(&m, std::chrono::milliseconds(0)), PopResult::kClosed);
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::milliseconds(0)), NextResult::kClosed);
}

TEST_F(BrokerTest, DevicesOnTwoBusesWithSameSourceAreDistinct) {
  auto b = Make();
  auto f0 = ClaimFrame(10, MakeName(229));
  auto f1 = ClaimFrame(10, MakeName(358));
  f1.frame.bus = 1;
  Ingest(*b, std::move(f0));
  Ingest(*b, std::move(f1));
  auto j = json::parse(b->DevicesJson());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["manufacturer"], "Garmin");
  EXPECT_FALSE(j[0].contains("bus"));
  EXPECT_EQ(j[1]["manufacturer"], "Victron");
  EXPECT_EQ(j[1]["bus"], 1);
  auto tx = DrainTx(*b);
  ASSERT_EQ(tx.size(), 2u);
  EXPECT_EQ(tx[1].bus, 1);
}

TEST_F(BrokerTest, ReleaseMemoryKeepsSeqsGoing) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 10));
  b->ReleaseMemory();
  EXPECT_EQ(b->Stats().ring_entries, 0u);
  Ingest(*b, MakeFrame(129025, 10));
  EXPECT_EQ(b->CurrentSeq(), 2u);
}

}  // namespace
}  // namespace lplex::broker::testing
