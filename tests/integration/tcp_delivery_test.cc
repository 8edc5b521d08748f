// Message delivery through the real nsqd: message frames, fan-out to channels, sharing within a
// channel, the RDY window, requeue, pause, and consumers that go away (NSQ-REFERENCE §1.4,
// §2.8-§2.12, §3.2-§3.7).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

using namespace std::string_literals;

bool IsLowerHex(std::string_view id) {
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> NumberedBodies(std::string_view prefix, int count) {
  std::vector<std::string> bodies;
  for (int i = 0; i < count; ++i) bodies.push_back(std::string(prefix) + std::to_string(i));
  return bodies;
}

// Reads from every connection in turn, FINs each message, until `expected` messages arrived
// or `deadline` passed. Returns body -> number of deliveries, and per connection its count.
struct Collected {
  std::map<std::string, int> deliveries;
  std::vector<int> per_connection;
  int total = 0;
};
Collected CollectAndFinish(const std::vector<RawConn*>& conns, int expected,
                           std::chrono::milliseconds deadline) {
  Collected out;
  out.per_connection.assign(conns.size(), 0);
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (out.total < expected && std::chrono::steady_clock::now() < end) {
    for (size_t i = 0; i < conns.size(); ++i) {
      absl::StatusOr<protocol::Frame> frame = conns[i]->ReadFrame(20ms);
      if (!frame.ok()) continue;
      REQUIRE_MESSAGE(frame->type == protocol::FrameType::kMessage, DescribeFrame(*frame));
      absl::StatusOr<protocol::Message> m = protocol::DecodeMessage(frame->data);
      NSQ_REQUIRE_OK(m);
      ++out.deliveries[std::string(m->body.view())];
      ++out.per_connection[i];
      ++out.total;
      NSQ_REQUIRE_OK(conns[i]->Fin(m->id.view()));
    }
  }
  return out;
}

TEST_CASE("a message frame carries size, type 2, timestamp, attempts 1, a hex id and the body") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "frame_layout", "ch", 1);
  const int64_t before = NowUnixNanos();
  Publish(*nsqd, "frame_layout", "hi");
  const int64_t after = NowUnixNanos();

  absl::StatusOr<std::string> raw = consumer->ReadRaw(4 + 4 + 26 + 2);
  NSQ_REQUIRE_OK(raw);
  CHECK(raw->substr(0, 8) == "\0\0\0\x20\0\0\0\x02"s);  // size 32 = 4 + 26 + 2, type 2
  absl::StatusOr<protocol::Message> m = protocol::DecodeMessage(raw->substr(8));
  NSQ_REQUIRE_OK(m);
  CHECK(raw->substr(16, 2) == "\0\x01"s);  // attempts, big-endian
  CHECK(m->attempts == 1);
  CHECK(m->body.view() == "hi");
  CHECK(IsLowerHex(m->id.view()));
  // Nanoseconds since the epoch, taken at publish time (generous bounds for clock reads).
  CHECK(m->timestamp_ns >= before - 1'000'000'000);
  CHECK(m->timestamp_ns <= after + 1'000'000'000);
}

TEST_CASE("each channel of a topic gets its own copy of every message, with the same ids") {
  auto nsqd = StartNsqd();
  auto a = Subscribe(*nsqd, "fanout", "a", 10);
  auto b = Subscribe(*nsqd, "fanout", "b", 10);
  PublishMany(*nsqd, "fanout", {"m0", "m1", "m2"});
  std::map<std::string, std::string> ids_a;
  std::map<std::string, std::string> ids_b;
  for (int i = 0; i < 3; ++i) {
    protocol::Message ma = MustReadMessage(*a);
    ids_a[std::string(ma.body.view())] = std::string(ma.id.view());
    protocol::Message mb = MustReadMessage(*b);
    ids_b[std::string(mb.body.view())] = std::string(mb.id.view());
  }
  CHECK(ids_a.size() == 3);
  CHECK(ids_a == ids_b);
  NSQ_CHECK_OK(a->ExpectNoFrame(200ms));
  NSQ_CHECK_OK(b->ExpectNoFrame(0ms));
}

TEST_CASE("two consumers with RDY 1 on one channel each get one of two messages") {
  auto nsqd = StartNsqd();
  auto a = Subscribe(*nsqd, "share_two", "ch", 1);
  auto b = Subscribe(*nsqd, "share_two", "ch", 1);
  PublishMany(*nsqd, "share_two", {"first", "second"});
  protocol::Message ma = MustReadMessage(*a);
  protocol::Message mb = MustReadMessage(*b);
  CHECK(ma.id != mb.id);
  std::set<std::string> bodies = {std::string(ma.body.view()), std::string(mb.body.view())};
  CHECK(bodies == std::set<std::string>{"first", "second"});
}

TEST_CASE("consumers of one channel share its messages without loss or duplicates") {
  auto nsqd = StartNsqd();
  auto a = Subscribe(*nsqd, "share_many", "ch", 10);
  auto b = Subscribe(*nsqd, "share_many", "ch", 10);
  auto c = Subscribe(*nsqd, "share_many", "ch", 10);
  const std::vector<std::string> bodies = NumberedBodies("msg-", 300);
  std::unique_ptr<RawConn> producer = ConnectV2(*nsqd);
  for (size_t i = 0; i < bodies.size(); i += 30) {
    NSQ_REQUIRE_OK(producer->Mpub(
        "share_many", std::vector<std::string>(bodies.begin() + i, bodies.begin() + i + 30)));
    NSQ_REQUIRE_OK(producer->ExpectOk());
  }
  Collected got = CollectAndFinish({a.get(), b.get(), c.get()}, 300, 20s);
  CHECK(got.total == 300);
  CHECK(got.deliveries.size() == 300);
  for (const auto& [body, count] : got.deliveries) CHECK_MESSAGE(count == 1, body);
  for (const std::string& body : bodies) CHECK(got.deliveries.count(body) == 1);
  // Every consumer was ready the whole time; none should be starved entirely.
  for (int n : got.per_connection) CHECK(n > 0);
}

TEST_CASE("RDY is a window: at most RDY messages are in flight until one is finished") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "window", "ch", 2);
  PublishMany(*nsqd, "window", NumberedBodies("w", 5));
  protocol::Message m1 = MustReadMessage(*conn);
  protocol::Message m2 = MustReadMessage(*conn);
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));
  CHECK(ChannelStat(*nsqd, "window", "ch", "in_flight_count") == 2);
  CHECK(ChannelStat(*nsqd, "window", "ch", "depth") == 3);

  NSQ_REQUIRE_OK(conn->Fin(m1.id.view()));  // frees one slot: exactly one more arrives
  protocol::Message m3 = MustReadMessage(*conn);
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));

  NSQ_REQUIRE_OK(conn->Fin(m2.id.view()));
  NSQ_REQUIRE_OK(conn->Fin(m3.id.view()));
  protocol::Message m4 = MustReadMessage(*conn);
  protocol::Message m5 = MustReadMessage(*conn);
  NSQ_REQUIRE_OK(conn->Fin(m4.id.view()));
  NSQ_REQUIRE_OK(conn->Fin(m5.id.view()));
  NSQ_CHECK_OK(conn->ExpectNoFrame(200ms));
  std::set<std::string> bodies;
  for (const auto* m : {&m1, &m2, &m3, &m4, &m5}) bodies.insert(std::string(m->body.view()));
  CHECK(bodies.size() == 5);
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "window", "ch", "in_flight_count") == 0; }, 5s));
  CHECK(ChannelStat(*nsqd, "window", "ch", "depth") == 0);
}

TEST_CASE("RDY without a count means 1") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "rdy_default", "ch", -1);
  NSQ_REQUIRE_OK(conn->Send("RDY\n"));
  PublishMany(*nsqd, "rdy_default", {"a", "b"});
  MustReadMessage(*conn);
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));
}

TEST_CASE("RDY 0 stops delivery and a later RDY resumes it") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "rdy_zero", "ch", 0);
  Publish(*nsqd, "rdy_zero", "waiting");
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));
  CHECK(ChannelStat(*nsqd, "rdy_zero", "ch", "depth") == 1);
  NSQ_REQUIRE_OK(conn->Rdy(1));
  protocol::Message m = MustReadMessage(*conn);
  CHECK(m.body.view() == "waiting");
  NSQ_REQUIRE_OK(conn->Rdy(0));
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  Publish(*nsqd, "rdy_zero", "held");
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));
}

TEST_CASE("messages published before any channel exists all go to the first channel") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "early", {"e0", "e1", "e2"});
  CHECK(TopicStat(*nsqd, "early", "depth") == 3);
  auto first = Subscribe(*nsqd, "early", "first", 10);
  std::set<std::string> bodies;
  for (int i = 0; i < 3; ++i) bodies.insert(std::string(MustReadMessage(*first).body.view()));
  CHECK(bodies == std::set<std::string>{"e0", "e1", "e2"});
  // A channel created later sees only later messages.
  auto later = Subscribe(*nsqd, "early", "later", 10);
  NSQ_CHECK_OK(later->ExpectNoFrame(300ms));
  Publish(*nsqd, "early", "e3");
  CHECK(MustReadMessage(*later).body.view() == "e3");
  CHECK(MustReadMessage(*first).body.view() == "e3");
}

TEST_CASE("FIN removes the message for good") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "fin", "ch", 1);
  Publish(*nsqd, "fin", "done");
  protocol::Message m = MustReadMessage(*conn);
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "fin", "ch", "in_flight_count") == 0; }, 5s));
  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* channel = FindChannel(stats, "fin", "ch");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("depth") == 0);
  CHECK(channel->at("message_count") == 1);
  CHECK(channel->at("requeue_count") == 0);
  CHECK(channel->at("timeout_count") == 0);
  // A second FIN of the same id fails: it is no longer in flight.
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  NSQ_CHECK_OK(conn->ExpectError("E_FIN_FAILED FIN " + std::string(m.id.view()) +
                                 " failed ID not in flight"));
}

TEST_CASE("REQ 0 redelivers at once with attempts 2 and the same id, body and timestamp") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "req_now", "ch", 1);
  Publish(*nsqd, "req_now", "again");
  protocol::Message first = MustReadMessage(*conn);
  CHECK(first.attempts == 1);
  NSQ_REQUIRE_OK(conn->Req(first.id.view(), 0));
  protocol::Message second = MustReadMessage(*conn, 2s);
  CHECK(second.id == first.id);
  CHECK(second.attempts == 2);
  CHECK(second.body.view() == "again");
  CHECK(second.timestamp_ns == first.timestamp_ns);
  NSQ_REQUIRE_OK(conn->Fin(second.id.view()));
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "req_now", "ch", "in_flight_count") == 0; }, 5s));
  CHECK(ChannelStat(*nsqd, "req_now", "ch", "requeue_count") == 1);
}

TEST_CASE("a requeued message can go to another consumer of the channel") {
  auto nsqd = StartNsqd();
  auto a = Subscribe(*nsqd, "req_other", "ch", 1);
  auto b = Subscribe(*nsqd, "req_other", "ch", 0);
  Publish(*nsqd, "req_other", "pass it on");
  protocol::Message m = MustReadMessage(*a);
  NSQ_REQUIRE_OK(a->Rdy(0));
  NSQ_REQUIRE_OK(b->Rdy(1));
  NSQ_REQUIRE_OK(a->Req(m.id.view(), 0));
  protocol::Message again = MustReadMessage(*b);
  CHECK(again.id == m.id);
  CHECK(again.attempts == 2);
}

TEST_CASE("a paused channel delivers nothing until it is unpaused over HTTP") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "pause_ch", "ch", 10);
  absl::StatusOr<HttpResponse> r =
      HttpPost(nsqd->http_port(), "/channel/pause?topic=pause_ch&channel=ch");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  Publish(*nsqd, "pause_ch", "held back");
  NSQ_CHECK_OK(conn->ExpectNoFrame(500ms));
  CHECK(ChannelStat(*nsqd, "pause_ch", "ch", "depth") == 1);
  r = HttpPost(nsqd->http_port(), "/channel/unpause?topic=pause_ch&channel=ch");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  CHECK(MustReadMessage(*conn).body.view() == "held back");
}

TEST_CASE("a paused topic holds its messages until it is unpaused over HTTP") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "pause_topic", "ch", 10);
  absl::StatusOr<HttpResponse> r = HttpPost(nsqd->http_port(), "/topic/pause?topic=pause_topic");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  Publish(*nsqd, "pause_topic", "in the topic");
  NSQ_CHECK_OK(conn->ExpectNoFrame(500ms));
  CHECK(TopicStat(*nsqd, "pause_topic", "depth") == 1);
  r = HttpPost(nsqd->http_port(), "/topic/unpause?topic=pause_topic");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  CHECK(MustReadMessage(*conn).body.view() == "in the topic");
}

TEST_CASE("in-flight messages of a consumer that vanishes are redelivered to another") {
  auto nsqd = StartNsqd();
  auto gone = Subscribe(*nsqd, "vanish", "ch", 2, R"({"msg_timeout":1000})");
  PublishMany(*nsqd, "vanish", {"v1", "v2"});
  std::set<std::string> first_ids;
  first_ids.insert(std::string(MustReadMessage(*gone).id.view()));
  first_ids.insert(std::string(MustReadMessage(*gone).id.view()));
  gone->Close();  // no FIN, no CLS: the client just disappears

  auto next = Subscribe(*nsqd, "vanish", "ch", 2);
  std::set<std::string> redelivered;
  for (int i = 0; i < 2; ++i) {
    protocol::Message m = MustReadMessage(*next, 10s);
    CHECK(m.attempts == 2);
    redelivered.insert(std::string(m.id.view()));
  }
  CHECK(redelivered == first_ids);
}

TEST_CASE("a consumer that sends CLS and closes has its in-flight messages redelivered") {
  // nsqjs half-closes right after CLS without waiting for CLOSE_WAIT (NSQ-CLIENTS B1.4).
  auto nsqd = StartNsqd();
  auto leaving = Subscribe(*nsqd, "cls_close", "ch", 1, R"({"msg_timeout":1000})");
  Publish(*nsqd, "cls_close", "unfinished");
  protocol::Message m = MustReadMessage(*leaving);
  NSQ_REQUIRE_OK(leaving->Cls());
  leaving->ShutdownWrite();
  leaving->Close();
  auto next = Subscribe(*nsqd, "cls_close", "ch", 1);
  protocol::Message again = MustReadMessage(*next, 10s);
  CHECK(again.id == m.id);
  CHECK(again.attempts == 2);
}

TEST_CASE("a full RDY window of a vanished consumer is redelivered without loss") {
  auto nsqd = StartNsqd();
  const std::vector<std::string> bodies = NumberedBodies("full-", 100);
  auto gone = Subscribe(*nsqd, "vanish_full", "ch", 100, R"({"msg_timeout":1000})");
  PublishMany(*nsqd, "vanish_full", bodies);
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "vanish_full", "ch", "in_flight_count") == 100; },
                5s));
  gone->Close();  // without reading a byte
  // Put back at once, and counted as requeues (nsqd would count them as timeouts later).
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "vanish_full", "ch", "requeue_count") == 100; },
                5s));
  CHECK(ChannelStat(*nsqd, "vanish_full", "ch", "timeout_count") == 0);
  auto next = Subscribe(*nsqd, "vanish_full", "ch", 100);
  Collected got = CollectAndFinish({next.get()}, 100, 15s);
  CHECK(got.deliveries.size() == 100);
  for (const std::string& body : bodies) CHECK(got.deliveries.count(body) == 1);
}

TEST_CASE("global_msg_count counts every delivery, redeliveries too") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "delivered", "ch", 5);
  PublishMany(*nsqd, "delivered", {"a", "b", "c"});
  protocol::Message first = MustReadMessage(*consumer);
  MustReadMessage(*consumer);
  MustReadMessage(*consumer);
  NSQ_REQUIRE_OK(consumer->Req(first.id.view(), 0));
  protocol::Message again = MustReadMessage(*consumer);
  CHECK(again.id == first.id);
  CHECK(ChannelStat(*nsqd, "delivered", "ch", "global_msg_count") == 4);
  CHECK(ChannelStat(*nsqd, "delivered", "ch", "message_count") == 3);
  // Without the topology experiment nobody is zone- or region-local: those stay omitted.
  CHECK(ChannelStat(*nsqd, "delivered", "ch", "zone_local_msg_count") == -1);
  CHECK(ChannelStat(*nsqd, "delivered", "ch", "region_local_msg_count") == -1);
}

TEST_CASE("e2e processing latency: percentiles of publish-to-FIN in /stats, JSON and text") {
  auto nsqd = StartNsqd({"--e2e-processing-latency-percentile=1.0,0.5",
                         "--e2e-processing-latency-window-time=1m"});
  auto consumer = Subscribe(*nsqd, "e2e", "ch", 10);
  PublishMany(*nsqd, "e2e", NumberedBodies("e", 10));
  std::vector<protocol::Message> held;
  for (int i = 0; i < 10; ++i) held.push_back(MustReadMessage(*consumer));
  // Six finished at once, four after a known delay (the workload, not a synchronisation).
  for (int i = 0; i < 6; ++i) NSQ_REQUIRE_OK(consumer->Fin(held[i].id.view()));
  std::this_thread::sleep_for(300ms);
  for (int i = 6; i < 10; ++i) NSQ_REQUIRE_OK(consumer->Fin(held[i].id.view()));
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "e2e", "ch", "in_flight_count") == 0; }, 5s));

  const boost::json::value stats = GetStats(*nsqd, "topic=e2e");
  const boost::json::object* channel = FindChannel(stats, "e2e", "ch");
  REQUIRE(channel != nullptr);
  for (const boost::json::object* holder :
       {channel, &stats.at("topics").as_array()[0].as_object()}) {
    const boost::json::object& e2e = holder->at("e2e_processing_latency").as_object();
    CHECK(e2e.at("count") == 10);
    const boost::json::array& percentiles = e2e.at("percentiles").as_array();
    REQUIRE(percentiles.size() == 2);
    CHECK(percentiles[0].at("quantile").to_number<double>() == 1.0);
    CHECK(percentiles[1].at("quantile").to_number<double>() == 0.5);
    const double max_ns = percentiles[0].at("value").to_number<double>();
    const double median_ns = percentiles[1].at("value").to_number<double>();
    CHECK(max_ns >= 300e6);  // a delayed FIN
    CHECK(max_ns < 10e9);
    CHECK(median_ns < 300e6);  // the sixth fastest: finished at once
  }
  // The text format prints each percentile as a Go duration.
  auto text = HttpGet(nsqd->http_port(), "/stats?topic=e2e");
  NSQ_REQUIRE_OK(text);
  CHECK(text->body.find("e2e%: ") != std::string::npos);
  CHECK(text->body.find("ms, ") != std::string::npos);
}

TEST_CASE("without e2e percentiles, e2e_processing_latency is count 0 and null percentiles") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "e2e_off", "ch", 1);
  Publish(*nsqd, "e2e_off", "x");
  NSQ_REQUIRE_OK(consumer->Fin(MustReadMessage(*consumer).id.view()));
  const boost::json::value stats = GetStats(*nsqd, "topic=e2e_off");
  const boost::json::object* channel = FindChannel(stats, "e2e_off", "ch");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("e2e_processing_latency") ==
        ParseJson(R"({"count":0,"percentiles":null})"));
}

TEST_CASE("topology-aware consumption: nsqd's zone first, then its region, then anyone") {
  auto nsqd = StartNsqd({"--enable-experiment=topology-aware-consumption",
                         "--topology-zone=z1", "--topology-region=r1"});
  // Subscribed far-first, so plain round-robin would favour the far consumer.
  auto far = Subscribe(*nsqd, "topo", "ch", 100, R"({"topology_zone":"z9","topology_region":"r9"})");
  auto region = Subscribe(*nsqd, "topo", "ch", 10, R"({"topology_zone":"z2","topology_region":"r1"})");
  auto zone = Subscribe(*nsqd, "topo", "ch", 10, R"({"topology_zone":"z1","topology_region":"r1"})");
  // A client that names no zone or region is never local (nsqd would match "" to "").
  auto unnamed = Subscribe(*nsqd, "topo", "ch", 100);
  // RDY has no reply: wait until nsqd has applied all four (on shards, they travel to shard 0).
  REQUIRE(WaitFor([&] { return ChannelReadyCount(*nsqd, "topo", "ch") == 220; }, 5s));
  PublishMany(*nsqd, "topo", NumberedBodies("t", 50));

  // The zone consumer fills its RDY 10 first, the region one next; the rest go round-robin.
  Collected from_zone = CollectAndFinish({zone.get()}, 10, 5s);
  Collected from_region = CollectAndFinish({region.get()}, 10, 5s);
  Collected from_others = CollectAndFinish({far.get(), unnamed.get()}, 30, 5s);
  CHECK(from_zone.total == 10);
  CHECK(from_region.total == 10);
  CHECK(from_others.total == 30);
  CHECK(ChannelStat(*nsqd, "topo", "ch", "zone_local_msg_count") >= 10);
  // Each delivery is counted once, by the locality of the consumer that got it.
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "topo", "ch", "in_flight_count") == 0; }, 5s));
  const int64_t zone_count = ChannelStat(*nsqd, "topo", "ch", "zone_local_msg_count");
  const int64_t region_count = ChannelStat(*nsqd, "topo", "ch", "region_local_msg_count");
  const int64_t global_count = ChannelStat(*nsqd, "topo", "ch", "global_msg_count");
  CHECK(zone_count + region_count + global_count == 50);
  CHECK(region_count >= 10);
  CHECK(global_count <= 30);
}

TEST_CASE("a thousand messages are each delivered exactly once") {
  auto nsqd = StartNsqd();
  const std::vector<std::string> bodies = NumberedBodies("k", 1000);
  auto consumer = Subscribe(*nsqd, "thousand", "ch", 100);
  std::unique_ptr<RawConn> producer = ConnectV2(*nsqd);
  for (size_t i = 0; i < bodies.size(); i += 100) {
    NSQ_REQUIRE_OK(producer->Mpub(
        "thousand", std::vector<std::string>(bodies.begin() + i, bodies.begin() + i + 100)));
    NSQ_REQUIRE_OK(producer->ExpectOk());
  }
  Collected got = CollectAndFinish({consumer.get()}, 1000, 20s);
  CHECK(got.total == 1000);
  CHECK(got.deliveries.size() == 1000);
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "thousand", "ch", "in_flight_count") == 0; }, 5s));
  CHECK(ChannelStat(*nsqd, "thousand", "ch", "message_count") == 1000);
  CHECK(TopicStat(*nsqd, "thousand", "message_count") == 1000);
}

TEST_CASE("a binary body of exactly --max-msg-size arrives intact") {
  auto nsqd = StartNsqd({"--max-msg-size=65536"});
  std::string body(65536, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 7919) % 256);
  auto consumer = Subscribe(*nsqd, "binary", "ch", 1);
  Publish(*nsqd, "binary", body);
  protocol::Message m = MustReadMessage(*consumer);
  CHECK(m.body.view() == body);
}

TEST_CASE("an ephemeral channel disappears when its last consumer leaves") {
  auto nsqd = StartNsqd();
  auto a = Subscribe(*nsqd, "eph", "ch#ephemeral", 1);
  auto b = Subscribe(*nsqd, "eph", "ch#ephemeral", 1);
  {
    boost::json::value stats = GetStats(*nsqd);
    REQUIRE(FindChannel(stats, "eph", "ch#ephemeral") != nullptr);
  }
  a->Close();
  NSQ_CHECK_OK(b->ExpectNoFrame(300ms));
  {
    boost::json::value stats = GetStats(*nsqd);
    CHECK(FindChannel(stats, "eph", "ch#ephemeral") != nullptr);  // b is still there
  }
  b->Close();
  CHECK(WaitFor(
      [&] {
        boost::json::value stats = GetStats(*nsqd);
        return FindChannel(stats, "eph", "ch#ephemeral") == nullptr;
      },
      5s));
}

}  // namespace
}  // namespace nsq::testutil
