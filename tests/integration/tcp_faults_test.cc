// Hostile and broken clients: garbage, absurd size fields, bodies that never arrive, floods of
// connections, shutdown with work in progress, kill -9. After every fault the broker must still
// serve a new connection.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

using namespace std::string_literals;

int64_t ResidentBytes(TestNsqd& nsqd);

// The broker still works: a fresh connection can publish and /ping answers.
void CheckStillServing(const TestNsqd& nsqd) {
  Publish(nsqd, "still_serving", "ok?");
  absl::StatusOr<HttpResponse> ping = HttpGet(nsqd.http_port(), "/ping");
  NSQ_REQUIRE_OK(ping);
  CHECK(ping->status == 200);
}

TEST_CASE("binary garbage after the magic gets an E_INVALID error and the connection closes") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Send("\x01\x02\xff\xfe garbage \x7f\n"s));
  absl::StatusOr<protocol::Frame> frame = conn->ReadFrame();
  NSQ_REQUIRE_OK(frame);
  CHECK(frame->type == protocol::FrameType::kError);
  CHECK(frame->data.rfind("E_INVALID invalid command ", 0) == 0);
  CHECK(conn->IsClosedByPeer(3s));
  CheckStillServing(*nsqd);
}

TEST_CASE("a command line that never ends is cut off") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  // 1 MiB without a newline: no broker buffers that as one command.
  absl::Status sent = conn->Send(std::string(1 << 20, 'A'));
  (void)sent;  // the broker may close while we are still sending
  CHECK(conn->IsClosedByPeer(10s));
  CheckStillServing(*nsqd);
}

TEST_CASE("a 2 GB size field is refused at once, without waiting for the body") {
  auto nsqd = StartNsqd();
  const std::string two_gb = Be32(0x7fffffff);
  const std::string negative = Be32(INT32_MIN);
  struct Case {
    std::string send;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"PUB t\n" + two_gb, "E_BAD_MESSAGE PUB message too big 2147483647 > 1048576"},
      {"DPUB t 10\n" + two_gb, "E_BAD_MESSAGE DPUB message too big 2147483647 > 1048576"},
      {"MPUB t\n" + two_gb, "E_BAD_BODY MPUB body too big 2147483647 > 5242880"},
      {"IDENTIFY\n" + two_gb, "E_BAD_BODY IDENTIFY body too big 2147483647 > 5242880"},
      {"AUTH\n" + two_gb, "E_BAD_BODY AUTH body too big 2147483647 > 5242880"},
      {"PUB t\n" + negative, "E_BAD_MESSAGE PUB invalid message body size -2147483648"},
      {"MPUB t\n" + negative, "E_BAD_BODY MPUB invalid body size -2147483648"},
      {"IDENTIFY\n" + negative, "E_BAD_BODY IDENTIFY invalid body size -2147483648"},
  };
  for (const Case& c : cases) {
    INFO("sent: ", c.send.substr(0, c.send.size() - 4));
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Send(c.send));
    NSQ_CHECK_OK(conn->ExpectError(c.error, 3s));
    CHECK(conn->IsClosedByPeer(3s));
  }
  CheckStillServing(*nsqd);
}

TEST_CASE("an oversized PUB sent in full still gets its error frame before the close") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  absl::Status sent = conn->Pub("oversized", std::string(2 << 20, 'x'));
  (void)sent;  // the broker may close before it has read everything
  NSQ_CHECK_OK(conn->ExpectError("E_BAD_MESSAGE PUB message too big 2097152 > 1048576"));
  CHECK(conn->IsClosedByPeer(3s));
  CHECK(TopicStat(*nsqd, "oversized", "message_count") <= 0);
  CheckStillServing(*nsqd);
}

TEST_CASE("a client that disconnects in the middle of a body costs nothing") {
  auto nsqd = StartNsqd();
  for (std::string partial :
       {"PUB cut\n" + Be32(100) + std::string(50, 'x'), "PUB cut\n\0\0"s, "PUB cu"s,
        "MPUB cut\n" + Be32(100) + Be32(2) + SizedBody("whole") + Be32(40) + "half",
        "IDENTIFY\n" + Be32(50) + "{\"client_id\":", "DPUB cut 1000\n" + Be32(10) + "12345"}) {
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Send(partial));
    conn->Close();
  }
  CheckStillServing(*nsqd);
  CHECK(TopicStat(*nsqd, "cut", "message_count") <= 0);
}

TEST_CASE("a client that half-closes after PUB still gets its OK") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Pub("half_close", "last words"));
  conn->ShutdownWrite();
  NSQ_CHECK_OK(conn->ExpectOk());
  CHECK(conn->IsClosedByPeer(3s));
  CHECK(TopicStat(*nsqd, "half_close", "message_count") == 1);
}

TEST_CASE("hundreds of concurrent connections are all served") {
  auto nsqd = StartNsqd();
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 300; ++i) conns.push_back(ConnectV2(*nsqd));
  for (auto& conn : conns) NSQ_REQUIRE_OK(conn->Pub("crowd", "x"));
  for (auto& conn : conns) NSQ_REQUIRE_OK(conn->ExpectOk());
  CHECK(TopicStat(*nsqd, "crowd", "message_count") == 300);
  conns.clear();
  CheckStillServing(*nsqd);
}

TEST_CASE("an idle connection costs under 16 KB of nsqd's memory") {
  // Two thousand connections need more file descriptors than the default soft limit.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, 8192);
  setrlimit(RLIMIT_NOFILE, &files);
  REQUIRE(files.rlim_cur >= 4500);
  auto nsqd = StartNsqd();
  // One connection first, so what every connection shares (the loop's read buffer) is paid.
  auto first = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(first->Nop());
  Publish(*nsqd, "warm", "x");
  const int64_t before = ResidentBytes(*nsqd);
  constexpr int kConnections = 2000;
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < kConnections; ++i) conns.push_back(ConnectV2(*nsqd));
  // Every one has been accepted and has sent its magic: a NOP on the last is read after them.
  NSQ_REQUIRE_OK(conns.back()->Identify(R"({"feature_negotiation":true})"));
  NSQ_REQUIRE_OK(conns.back()->ReadFrame());
  const int64_t per_connection = (ResidentBytes(*nsqd) - before) / kConnections;
  MESSAGE(per_connection, " bytes per idle connection");
  if (!TestNsqd::Sanitized()) CHECK(per_connection < 16 * 1024);  // Go nsqd: about 22.5 KB
  conns.clear();
  CheckStillServing(*nsqd);
}

TEST_CASE("rapid connects and disconnects leave the broker healthy") {
  auto nsqd = StartNsqd();
  for (int i = 0; i < 300; ++i) {
    auto conn = RawConn::Connect(nsqd->tcp_port());
    NSQ_REQUIRE_OK(conn);
    if (i % 3 == 1) NSQ_REQUIRE_OK((*conn)->SendMagic());
    if (i % 3 == 2) NSQ_REQUIRE_OK((*conn)->Send("  V2SUB churn ch\nRDY 5\n"));
  }
  CheckStillServing(*nsqd);
  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* channel = FindChannel(stats, "churn", "ch");
  if (channel != nullptr) {
    // Every one of those subscribers is gone.
    CHECK(WaitFor([&] { return ChannelStat(*nsqd, "churn", "ch", "client_count") == 0; }, 5s));
  }
}

TEST_CASE("SIGTERM with clients connected and messages in flight exits 0") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "busy", "ch", 5);
  auto idle = ConnectV2(*nsqd);
  PublishMany(*nsqd, "busy", {"a", "b", "c"});
  MustReadMessage(*consumer);
  absl::StatusOr<int> code = nsqd->Stop();
  NSQ_REQUIRE_OK(code);
  CHECK(*code == 0);
  CHECK(consumer->IsClosedByPeer(3s));
  CHECK(idle->IsClosedByPeer(3s));
}

TEST_CASE("after kill -9 nsqd restarts on the same data directory and serves") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "crash", {"c0", "c1"});
  nsqd->Kill9();
  NSQ_REQUIRE_OK(nsqd->Restart());
  CheckStillServing(*nsqd);
}

// --- a consumer that stops reading ------------------------------------------------------------

// nsqd's resident memory in bytes (VmRSS of /proc/<pid>/status).
int64_t ResidentBytes(TestNsqd& nsqd) {
  std::ifstream status("/proc/" + std::to_string(nsqd.process().pid()) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  FAIL("no VmRSS for nsqd");
  return 0;
}

// The /stats object of the one client subscribed to topic:channel.
boost::json::object SubscribedClient(const TestNsqd& nsqd, std::string_view topic,
                                     std::string_view channel) {
  const boost::json::value stats = GetStats(nsqd);
  const boost::json::object* found = FindChannel(stats, topic, channel);
  REQUIRE(found != nullptr);
  const boost::json::array& clients = found->at("clients").as_array();
  REQUIRE(clients.size() == 1);
  return clients[0].as_object();
}

TEST_CASE("a consumer that stops reading gets no more messages and costs bounded memory") {
  // The scenario of the report: a consumer with RDY 2500 and a 1 s message timeout that never
  // reads its socket, 2500 messages of 16 KB. Go's write blocks after a few hundred messages;
  // ours must stop handing messages to that connection once its unwritten output is at the
  // bound, instead of queueing every redelivery behind the stuck ones.
  auto nsqd = StartNsqd();
  constexpr int kMessages = 2500;
  constexpr size_t kBodySize = 16 * 1024;
  const std::vector<std::string> batch(250, std::string(kBodySize, 'm'));
  for (int i = 0; i < kMessages / 250; ++i) PublishMany(*nsqd, "amp", batch);
  const int64_t rss_loaded = ResidentBytes(*nsqd);

  // A 64 KiB receive buffer keeps what the kernel takes in for the stuck client small.
  auto stuck = RawConn::Connect(nsqd->tcp_port(), 64 * 1024);
  NSQ_REQUIRE_OK(stuck);
  RawConn& conn = **stuck;
  NSQ_REQUIRE_OK(conn.SendMagic());
  NSQ_REQUIRE_OK(conn.Identify(R"({"heartbeat_interval":60000,"msg_timeout":1000})"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Sub("amp", "stuck"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Rdy(kMessages));  // and from now on, never read

  // Whatever it was handed times out once and goes back to the channel.
  int64_t delivered = 0;
  REQUIRE(WaitFor(
      [&] {
        delivered = SubscribedClient(*nsqd, "amp", "stuck").at("message_count").as_int64();
        return delivered > 0 && ChannelStat(*nsqd, "amp", "stuck", "timeout_count") >= delivered;
      },
      10s));
  // What it was handed is what fits in our output bound (256 KiB) plus the kernel's socket
  // buffers (on loopback the send buffer grows to tcp_wmem's 4 MiB even towards a stuck
  // reader; that is kernel memory, not ours): some 250 messages, a tenth of its RDY of 2500.
  CHECK_MESSAGE(delivered * static_cast<int64_t>(kBodySize) < 6 * 1024 * 1024,
                delivered, " messages handed to the stuck consumer");
  // Timed out, they wait in the channel: they are not sent again to the stuck connection, however
  // many timeout periods pass (before the fix: every second, 2500 more copies in memory).
  CHECK_FALSE(WaitFor(
      [&] {
        return SubscribedClient(*nsqd, "amp", "stuck").at("message_count").as_int64() > delivered;
      },
      3s));
  CHECK(ChannelStat(*nsqd, "amp", "stuck", "depth") == kMessages);

  // Other topics are served as usual, and memory stayed where the messages themselves put it.
  auto healthy = Subscribe(*nsqd, "other", "c", 1);
  Publish(*nsqd, "other", "fine");
  CHECK(MustReadMessage(*healthy).body.view() == "fine");
  const int64_t growth = ResidentBytes(*nsqd) - rss_loaded;
  MESSAGE("nsqd grew by ", growth, " bytes");
  if (!TestNsqd::Sanitized()) CHECK(growth < 32 * 1024 * 1024);
}

TEST_CASE("a consumer that stops reading is dropped when a write stays blocked for too long") {
  // More than the kernel's socket buffers take in (up to 4 MiB of send buffer on loopback).
  auto nsqd = StartNsqd();
  const std::vector<std::string> batch(100, std::string(16 * 1024, 'm'));
  for (int i = 0; i < 5; ++i) PublishMany(*nsqd, "amp", batch);
  auto stuck = RawConn::Connect(nsqd->tcp_port(), 64 * 1024);
  NSQ_REQUIRE_OK(stuck);
  RawConn& conn = **stuck;
  NSQ_REQUIRE_OK(conn.SendMagic());
  NSQ_REQUIRE_OK(conn.Identify(R"({"heartbeat_interval":1000})"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Sub("amp", "stuck"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Rdy(500));
  // It keeps sending NOPs (so it is not silent), but never reads: the write timeout (the
  // heartbeat interval, as nsqd's write deadline) drops it and its messages go back.
  REQUIRE(WaitFor(
      [&] {
        (void)conn.Nop();
        const boost::json::value stats = GetStats(*nsqd);
        const boost::json::object* channel = FindChannel(stats, "amp", "stuck");
        return channel != nullptr && channel->at("clients").as_array().empty();
      },
      10s));
  CHECK(ChannelStat(*nsqd, "amp", "stuck", "depth") == 500);
  CHECK(ChannelStat(*nsqd, "amp", "stuck", "in_flight_count") == 0);
}

}  // namespace
}  // namespace nsq::testutil
