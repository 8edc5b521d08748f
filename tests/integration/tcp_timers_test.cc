// Everything on the V2 connection that depends on time: heartbeats and the read deadline, TCP
// keepalive, the message timeout, TOUCH, delayed REQ and DPUB (NSQ-REFERENCE §1.8, §2.7, §2.10,
// §2.11, §3.4, §3.5). Intervals are shortened (1 s) and the bounds are generous: a slow machine must not
// fail them, while a missing or a much-too-early timer still does.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

TEST_CASE("with heartbeat_interval 1000 an idle connection gets exact _heartbeat_ frames") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);  // heartbeats go to every connection, subscribed or not
  NSQ_REQUIRE_OK(conn->Identify(R"({"heartbeat_interval":1000})"));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  const auto start = Clock::now();
  absl::StatusOr<std::string> bytes = conn->ReadRaw(19, 3s);
  NSQ_REQUIRE_OK(bytes);
  CHECK(*bytes == "\0\0\0\x0f\0\0\0\0_heartbeat_"s);
  CHECK(MillisSince(start) >= 500);
  NSQ_REQUIRE_OK(conn->Nop());
}

TEST_CASE("a client that never answers heartbeats is disconnected after about two intervals") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "silent", "ch", 1, R"({"heartbeat_interval":1000})");
  const auto start = Clock::now();
  CHECK(conn->IsClosedByPeer(6s));
  const int64_t elapsed = MillisSince(start);
  CHECK(elapsed >= 1500);
  CHECK(elapsed <= 5000);
}

TEST_CASE("a client silent for two heartbeat intervals is dropped at two, not three") {
  // Its last command comes just after a heartbeat: dropping only at heartbeat ticks would wait
  // almost three intervals.
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "quiet", "ch", 1, R"({"heartbeat_interval":1000})");
  NSQ_REQUIRE_OK(conn->ExpectResponse("_heartbeat_", 3s));
  std::this_thread::sleep_for(100ms);  // the moment of the last command is the point here
  NSQ_REQUIRE_OK(conn->Nop());
  const auto last = Clock::now();
  NSQ_REQUIRE_OK(conn->ExpectResponse("_heartbeat_", 3s));  // still sent while silent
  CHECK(conn->IsClosedByPeer(5s));
  const int64_t silent = MillisSince(last);
  CHECK(silent >= 1900);
  CHECK(silent <= 2600);
}

// The kernel timer of nsqd's side of a loopback connection, from /proc/net/tcp ("tr": 0 none,
// 1 retransmit, 2 keepalive, ...); -1 when the connection is not listed.
int ServerSideTimer(uint16_t server_port, uint16_t client_port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  const std::string local = absl::StrFormat(":%04X", server_port);
  const std::string remote = absl::StrFormat(":%04X", client_port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state, queues, timer;
    fields >> slot >> local_address >> remote_address >> state >> queues >> timer;
    if (absl::EndsWith(local_address, local) && absl::EndsWith(remote_address, remote)) {
      return std::stoi(timer.substr(0, timer.find(':')), nullptr, 16);
    }
  }
  return -1;
}

TEST_CASE("a connection with heartbeats off still gets keepalive probes, as Go's nsqd") {
  // Nothing else would notice that its host vanished: nsqd neither sends heartbeats nor
  // expects data on it. Go's listener turns TCP keepalive on (15 s) for every connection.
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Identify(R"({"heartbeat_interval":-1})"));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  CHECK(ServerSideTimer(nsqd->tcp_port(), conn->LocalPort()) == 2);
}

TEST_CASE("a client that answers heartbeats with NOP stays connected") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "chatty", "ch", 1, R"({"heartbeat_interval":1000})");
  conn->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
  NSQ_CHECK_OK(conn->ExpectNoFrame(3500ms));  // answers each heartbeat with NOP meanwhile
  CHECK(conn->heartbeats_seen() >= 2);
  Publish(*nsqd, "chatty", "still connected");
  CHECK(MustReadMessage(*conn).body.view() == "still connected");
}

TEST_CASE("an unfinished message times out after msg_timeout and comes back with attempts 2") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "timeout", "ch", 1, R"({"msg_timeout":1000})");
  Publish(*nsqd, "timeout", "slow worker");
  protocol::Message first = MustReadMessage(*conn);
  const auto delivered = Clock::now();
  protocol::Message second = MustReadMessage(*conn, 6s);
  const int64_t elapsed = MillisSince(delivered);
  CHECK(second.id == first.id);
  CHECK(second.attempts == 2);
  CHECK(second.timestamp_ns == first.timestamp_ns);
  CHECK(elapsed >= 800);
  CHECK(elapsed <= 5000);
  NSQ_REQUIRE_OK(conn->Fin(second.id.view()));
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "timeout", "ch", "in_flight_count") == 0; }, 5s));
  CHECK(ChannelStat(*nsqd, "timeout", "ch", "timeout_count") == 1);
}

TEST_CASE("the --msg-timeout flag is the timeout of a client that does not ask for one") {
  auto nsqd = StartNsqd({"--msg-timeout=1s"});
  auto conn = Subscribe(*nsqd, "flag_timeout", "ch", 1);
  Publish(*nsqd, "flag_timeout", "x");
  protocol::Message first = MustReadMessage(*conn);
  const auto delivered = Clock::now();
  protocol::Message second = MustReadMessage(*conn, 6s);
  CHECK(second.id == first.id);
  CHECK(second.attempts == 2);
  CHECK(MillisSince(delivered) >= 800);
}

TEST_CASE("FIN after the message timed out is a non-fatal E_FIN_FAILED (TestClientMsgTimeout)") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "late_fin", "ch", 1, R"({"msg_timeout":1000})");
  Publish(*nsqd, "late_fin", "too late");
  protocol::Message m = MustReadMessage(*conn);
  NSQ_REQUIRE_OK(conn->Rdy(0));  // so the timed-out message is not handed back to us
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "late_fin", "ch", "timeout_count") == 1; }, 6s));
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  NSQ_CHECK_OK(conn->ExpectError("E_FIN_FAILED FIN " + std::string(m.id.view()) +
                                 " failed ID not in flight"));
  NSQ_REQUIRE_OK(conn->Pub("late_fin", "connection still open"));
  NSQ_CHECK_OK(conn->ExpectOk());
}

TEST_CASE("TOUCH keeps a message in flight past its timeout") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "touch", "ch", 1, R"({"msg_timeout":1000})");
  Publish(*nsqd, "touch", "long job");
  protocol::Message m = MustReadMessage(*conn);
  // Four touches 500 ms apart: 2 s in total, twice the timeout, and nothing comes back.
  for (int i = 0; i < 4; ++i) {
    NSQ_REQUIRE_OK(conn->ExpectNoFrame(500ms));
    NSQ_REQUIRE_OK(conn->Touch(m.id.view()));
  }
  NSQ_CHECK_OK(conn->ExpectNoFrame(400ms));
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));  // no E_FIN_FAILED: it was still ours
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "touch", "ch", "in_flight_count") == 0; }, 5s));
  CHECK(ChannelStat(*nsqd, "touch", "ch", "timeout_count") == 0);
}

TEST_CASE("REQ with a delay defers the message and redelivers it after the delay") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "req_later", "ch", 1);
  Publish(*nsqd, "req_later", "later");
  protocol::Message first = MustReadMessage(*conn);
  const auto requeued = Clock::now();
  NSQ_REQUIRE_OK(conn->Req(first.id.view(), 1000));
  CHECK(
      WaitFor([&] { return ChannelStat(*nsqd, "req_later", "ch", "deferred_count") == 1; }, 500ms));
  NSQ_CHECK_OK(conn->ExpectNoFrame(600ms));
  protocol::Message second = MustReadMessage(*conn, 5s);
  CHECK(MillisSince(requeued) >= 800);
  CHECK(second.id == first.id);
  CHECK(second.attempts == 2);
  CHECK(ChannelStat(*nsqd, "req_later", "ch", "requeue_count") == 1);
}

TEST_CASE("REQ beyond --max-req-timeout is clamped to it, not refused") {
  auto nsqd = StartNsqd({"--max-req-timeout=1s"});
  auto conn = Subscribe(*nsqd, "req_clamp", "ch", 1);
  Publish(*nsqd, "req_clamp", "clamped");
  protocol::Message first = MustReadMessage(*conn);
  const auto requeued = Clock::now();
  NSQ_REQUIRE_OK(conn->Req(first.id.view(), 3600000));
  protocol::Message second = MustReadMessage(*conn, 6s);  // not an error frame, and not in 1 h
  CHECK(second.id == first.id);
  CHECK(MillisSince(requeued) >= 800);
}

TEST_CASE("DPUB delivers the message only after the delay") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "dpub", "ch", 1);
  auto producer = ConnectV2(*nsqd);
  const auto sent = Clock::now();
  NSQ_REQUIRE_OK(producer->Dpub("dpub", 1500, "deferred"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "dpub", "ch", "deferred_count") == 1; }, 1s));
  CHECK(ChannelStat(*nsqd, "dpub", "ch", "message_count") == 1);
  CHECK(ChannelStat(*nsqd, "dpub", "ch", "depth") == 0);
  protocol::Message m = MustReadMessage(*consumer, 6s);
  const int64_t elapsed = MillisSince(sent);
  CHECK(m.body.view() == "deferred");
  CHECK(m.attempts == 1);
  CHECK(elapsed >= 1300);
  CHECK(elapsed <= 5000);
}

TEST_CASE("DPUB with a delay of 0 is delivered like PUB") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "dpub_zero", "ch", 1);
  auto producer = ConnectV2(*nsqd);
  const auto sent = Clock::now();
  NSQ_REQUIRE_OK(producer->Dpub("dpub_zero", 0, "now"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  CHECK(MustReadMessage(*consumer, 2s).body.view() == "now");
  CHECK(MillisSince(sent) < 1000);
}

}  // namespace
}  // namespace nsq::testutil
