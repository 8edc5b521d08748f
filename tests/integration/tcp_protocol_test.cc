// Protocol V2 against the real nsqd: the handshake, IDENTIFY and AUTH, and every command's
// replies and errors with their exact bytes (NSQ-REFERENCE §1 and §2).
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

using namespace std::string_literals;

// The bytes that must come back for `send` on a fresh connection (after the magic, and after
// SUB when the case says so): one error frame with exactly `error`, then the server closes.
struct FatalCase {
  std::string send;
  std::string error;
};

void CheckFatalCases(const TestNsqd& nsqd, const std::vector<FatalCase>& cases,
                     bool subscribe_first) {
  for (const FatalCase& c : cases) {
    INFO("sent: ", c.send.substr(0, 60));
    std::unique_ptr<RawConn> conn =
        subscribe_first ? Subscribe(nsqd, "fatal_cases", "ch", -1) : ConnectV2(nsqd);
    NSQ_REQUIRE_OK(conn->Send(c.send));
    NSQ_CHECK_OK(conn->ExpectError(c.error));
    CHECK_MESSAGE(conn->IsClosedByPeer(3s), "connection still open after a fatal error");
  }
}

std::string IdentifyBytes(std::string_view json) { return "IDENTIFY\n" + SizedBody(json); }

// IDENTIFY with feature negotiation; REQUIREs a JSON response and returns it.
boost::json::object NegotiateIdentify(RawConn& conn, std::string_view json) {
  NSQ_REQUIRE_OK(conn.Identify(json));
  absl::StatusOr<protocol::Frame> frame = conn.ReadFrame();
  NSQ_REQUIRE_OK(frame);
  REQUIRE_MESSAGE(frame->type == protocol::FrameType::kResponse, DescribeFrame(*frame));
  boost::json::value reply = ParseJson(frame->data);
  REQUIRE(reply.is_object());
  return reply.get_object();
}

// --- handshake -------------------------------------------------------------------------------

TEST_CASE("a wrong magic gets one framed E_BAD_PROTOCOL error and the connection is closed") {
  auto nsqd = StartNsqd();
  for (std::string magic : {"  V1"s, "  V3"s, "GET "s, "\0\0\0\0"s}) {
    INFO("magic: ", magic);
    auto conn = RawConn::Connect(nsqd->tcp_port());
    NSQ_REQUIRE_OK(conn);
    NSQ_REQUIRE_OK((*conn)->Send(magic));
    absl::StatusOr<std::string> bytes = (*conn)->ReadUntilClosed(3s);
    NSQ_REQUIRE_OK(bytes);
    CHECK(*bytes ==
          "\0\0\0\x12\0\0\0\x01"
          "E_BAD_PROTOCOL"s);
  }
}

TEST_CASE("a client that closes before sending the whole magic is dropped silently") {
  auto nsqd = StartNsqd();
  auto conn = RawConn::Connect(nsqd->tcp_port());
  NSQ_REQUIRE_OK(conn);
  NSQ_REQUIRE_OK((*conn)->Send("  "));
  (*conn)->ShutdownWrite();
  absl::StatusOr<std::string> bytes = (*conn)->ReadUntilClosed(3s);
  NSQ_REQUIRE_OK(bytes);
  CHECK(*bytes == "");
  // ... and the server is unharmed.
  Publish(*nsqd, "after_short_magic", "x");
}

TEST_CASE("the magic may arrive split across writes") {
  auto nsqd = StartNsqd();
  auto conn = RawConn::Connect(nsqd->tcp_port());
  NSQ_REQUIRE_OK(conn);
  NSQ_REQUIRE_OK((*conn)->Send("  "));
  NSQ_REQUIRE_OK((*conn)->ExpectNoFrame(100ms));
  NSQ_REQUIRE_OK((*conn)->Send("V2"));
  NSQ_REQUIRE_OK((*conn)->Pub("split_magic", "x"));
  NSQ_CHECK_OK((*conn)->ExpectOk());
}

TEST_CASE("an OK response is exactly 00 00 00 06 00 00 00 00 'OK'") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Send("PUB ok_bytes\n" + SizedBody("hi")));
  absl::StatusOr<std::string> bytes = conn->ReadRaw(10);
  NSQ_REQUIRE_OK(bytes);
  CHECK(*bytes == "\0\0\0\x06\0\0\0\0OK"s);
}

TEST_CASE("NOP gets no reply in any state and the connection stays usable") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Nop());
  NSQ_CHECK_OK(conn->ExpectNoFrame(200ms));
  NSQ_REQUIRE_OK(conn->Sub("nop_topic", "ch"));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Nop());
  NSQ_REQUIRE_OK(conn->Pub("nop_topic", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
}

// --- IDENTIFY --------------------------------------------------------------------------------

TEST_CASE("IDENTIFY without feature_negotiation answers a plain OK") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Identify(
      R"({"client_id":"c1","hostname":"h1","user_agent":"harness/1.0","feature_negotiation":false})"));
  NSQ_CHECK_OK(conn->ExpectOk());
}

TEST_CASE("IDENTIFY with feature_negotiation answers the negotiated settings as JSON") {
  // Compression off by flag: then upstream nsqd answers false too, even when asked.
  auto nsqd = StartNsqd({"--max-rdy-count=50", "--snappy=false", "--deflate=false"});
  auto conn = ConnectV2(*nsqd);
  boost::json::object reply = NegotiateIdentify(
      *conn,
      R"({"client_id":"c1","hostname":"h1","user_agent":"harness/1.0","feature_negotiation":true,)"
      R"("msg_timeout":1000,"tls_v1":true,"snappy":true,"deflate":true})");
  CHECK(reply["max_rdy_count"] == 50);
  CHECK(reply["version"] == "1.3.0");
  CHECK(reply["max_msg_timeout"] == 900000);
  CHECK(reply["msg_timeout"] == 1000);
  CHECK(reply["tls_v1"] == false);  // no --tls-cert/--tls-key
  CHECK(reply["deflate"] == false);
  CHECK(reply["deflate_level"] == 6);
  CHECK(reply["max_deflate_level"] == 6);
  CHECK(reply["snappy"] == false);
  CHECK(reply["sample_rate"] == 0);
  CHECK(reply["auth_required"] == false);
  CHECK(reply["output_buffer_size"] == 16384);
  CHECK(reply["output_buffer_timeout"] == 250);
  CHECK(reply.if_contains("heartbeat_interval") == nullptr);  // never echoed
  // The connection goes on in clear: no OK follows for an upgrade that did not happen.
  NSQ_REQUIRE_OK(conn->Pub("negotiated", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
}

TEST_CASE("the IDENTIFY reply lists its fields in upstream order") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  boost::json::object reply = NegotiateIdentify(*conn, R"({"feature_negotiation":true})");
  const std::vector<std::string> expected = {"max_rdy_count",
                                             "version",
                                             "max_msg_timeout",
                                             "msg_timeout",
                                             "tls_v1",
                                             "deflate",
                                             "deflate_level",
                                             "max_deflate_level",
                                             "snappy",
                                             "sample_rate",
                                             "auth_required",
                                             "output_buffer_size",
                                             "output_buffer_timeout"};
  std::vector<std::string> keys;
  for (const auto& entry : reply) keys.emplace_back(entry.key());
  REQUIRE(keys.size() >= expected.size());
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + expected.size()) == expected);
  // Master (reporting 1.3.0) adds the topology fields, empty when unset (§15).
  CHECK(reply["topology_region"] == "");
  CHECK(reply["topology_zone"] == "");
}

TEST_CASE("IDENTIFY reports the --msg-timeout default when the client asks for none") {
  auto nsqd = StartNsqd({"--msg-timeout=5s", "--max-msg-timeout=10s"});
  auto conn = ConnectV2(*nsqd);
  boost::json::object reply = NegotiateIdentify(*conn, R"({"feature_negotiation":true})");
  CHECK(reply["msg_timeout"] == 5000);
  CHECK(reply["max_msg_timeout"] == 10000);
}

TEST_CASE("IDENTIFY echoes the client's effective buffer, sample and deflate-level settings") {
  auto nsqd = StartNsqd({"--deflate=false"});
  auto conn = ConnectV2(*nsqd);
  boost::json::object reply = NegotiateIdentify(
      *conn, R"({"feature_negotiation":true,"output_buffer_size":128,)"
             R"("output_buffer_timeout":100,"sample_rate":42,"deflate_level":3})");
  CHECK(reply["output_buffer_size"] == 128);
  CHECK(reply["output_buffer_timeout"] == 100);
  CHECK(reply["sample_rate"] == 42);
  CHECK(reply["deflate_level"] == 3);  // computed even though deflate is off

  // IDENTIFY may be repeated before SUB; a level above --max-deflate-level is capped.
  reply = NegotiateIdentify(*conn, R"({"feature_negotiation":true,"deflate_level":9,)"
                                   R"("output_buffer_timeout":-1})");
  CHECK(reply["deflate_level"] == 6);
  CHECK(reply["output_buffer_timeout"] == 0);  // -1 disables the flush timer
}

TEST_CASE("IDENTIFY accepts every boundary value, repeatedly on one connection") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  const std::vector<std::string> accepted = {
      R"({"heartbeat_interval":-1})",
      R"({"heartbeat_interval":0})",
      R"({"heartbeat_interval":1000})",
      R"({"heartbeat_interval":60000})",
      R"({"output_buffer_timeout":-1})",
      R"({"output_buffer_timeout":0})",
      R"({"output_buffer_timeout":25})",
      R"({"output_buffer_timeout":30000})",
      R"({"output_buffer_size":-1})",
      R"({"output_buffer_size":0})",
      R"({"output_buffer_size":64})",
      R"({"output_buffer_size":65536})",
      R"({"sample_rate":0})",
      R"({"sample_rate":99})",
      R"({"msg_timeout":0})",
      R"({"msg_timeout":1000})",
      R"({"msg_timeout":900000})",
      // Unknown and removed keys are ignored (go-nsq and nsqjs still send short_id/long_id).
      R"({"short_id":"s","long_id":"l","no_such_key":[1,{"a":null}]})",
  };
  for (const std::string& json : accepted) {
    INFO("IDENTIFY ", json);
    NSQ_REQUIRE_OK(conn->Identify(json));
    NSQ_REQUIRE_OK(conn->ExpectOk());
  }
}

TEST_CASE("IDENTIFY with an out-of-range setting is a fatal E_BAD_BODY naming the value") {
  auto nsqd = StartNsqd();
  CheckFatalCases(
      *nsqd,
      {
          {IdentifyBytes(R"({"heartbeat_interval":60001})"),
           "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid"},
          {IdentifyBytes(R"({"heartbeat_interval":999})"),
           "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid"},
          {IdentifyBytes(R"({"heartbeat_interval":-2})"),
           "E_BAD_BODY IDENTIFY heartbeat interval (-2) is invalid"},
          {IdentifyBytes(R"({"output_buffer_timeout":24})"),
           "E_BAD_BODY IDENTIFY output buffer timeout (24) is invalid"},
          {IdentifyBytes(R"({"output_buffer_timeout":30001})"),
           "E_BAD_BODY IDENTIFY output buffer timeout (30001) is invalid"},
          {IdentifyBytes(R"({"output_buffer_size":63})"),
           "E_BAD_BODY IDENTIFY output buffer size (63) is invalid"},
          {IdentifyBytes(R"({"output_buffer_size":65537})"),
           "E_BAD_BODY IDENTIFY output buffer size (65537) is invalid"},
          {IdentifyBytes(R"({"output_buffer_size":-2})"),
           "E_BAD_BODY IDENTIFY output buffer size (-2) is invalid"},
          {IdentifyBytes(R"({"sample_rate":100})"),
           "E_BAD_BODY IDENTIFY sample rate (100) is invalid"},
          {IdentifyBytes(R"({"sample_rate":-1})"),
           "E_BAD_BODY IDENTIFY sample rate (-1) is invalid"},
          {IdentifyBytes(R"({"msg_timeout":999})"),
           "E_BAD_BODY IDENTIFY msg timeout (999) is invalid"},
          {IdentifyBytes(R"({"msg_timeout":900001})"),
           "E_BAD_BODY IDENTIFY msg timeout (900001) is invalid"},
          // Validation order: heartbeat, buffer timeout, buffer size, sample rate, msg timeout.
          {IdentifyBytes(R"({"msg_timeout":1,"sample_rate":100,"heartbeat_interval":1})"),
           "E_BAD_BODY IDENTIFY heartbeat interval (1) is invalid"},
          {IdentifyBytes(R"({"output_buffer_size":1,"output_buffer_timeout":1})"),
           "E_BAD_BODY IDENTIFY output buffer timeout (1) is invalid"},
          {IdentifyBytes(R"({"sample_rate":100,"output_buffer_size":1})"),
           "E_BAD_BODY IDENTIFY output buffer size (1) is invalid"},
          {IdentifyBytes(R"({"msg_timeout":1,"sample_rate":100})"),
           "E_BAD_BODY IDENTIFY sample rate (100) is invalid"},
      },
      /*subscribe_first=*/false);
}

TEST_CASE("the heartbeat interval limit follows --max-heartbeat-interval") {
  auto nsqd = StartNsqd({"--max-heartbeat-interval=2s"});
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Identify(R"({"heartbeat_interval":2000})"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Identify(R"({"heartbeat_interval":2001})"));
  NSQ_CHECK_OK(conn->ExpectError("E_BAD_BODY IDENTIFY heartbeat interval (2001) is invalid"));
  CHECK(conn->IsClosedByPeer(3s));
}

TEST_CASE("IDENTIFY body problems are fatal E_BAD_BODY errors") {
  auto nsqd = StartNsqd({"--max-body-size=1000"});
  CheckFatalCases(*nsqd,
                  {
                      {"IDENTIFY\n" + Be32(0), "E_BAD_BODY IDENTIFY invalid body size 0"},
                      {"IDENTIFY\n" + Be32(-1), "E_BAD_BODY IDENTIFY invalid body size -1"},
                      {"IDENTIFY\n" + Be32(1001), "E_BAD_BODY IDENTIFY body too big 1001 > 1000"},
                      {IdentifyBytes("{nope"), "E_BAD_BODY IDENTIFY failed to decode JSON body"},
                      {IdentifyBytes(R"({"heartbeat_interval":"fast"})"),
                       "E_BAD_BODY IDENTIFY failed to decode JSON body"},
                  },
                  /*subscribe_first=*/false);
}

// --- AUTH ------------------------------------------------------------------------------------

TEST_CASE("AUTH without an auth server is a fatal E_AUTH_DISABLED") {
  auto nsqd = StartNsqd();
  CheckFatalCases(
      *nsqd,
      {
          {"AUTH\n" + SizedBody("secret"), "E_AUTH_DISABLED AUTH disabled"},
          {"AUTH extra\n" + SizedBody("secret"), "E_INVALID AUTH invalid number of parameters"},
          {"AUTH\n" + Be32(0), "E_BAD_BODY AUTH invalid body size 0"},
      },
      /*subscribe_first=*/false);
}

// --- errors before SUB (state init) ----------------------------------------------------------

TEST_CASE("commands that need a subscription are fatal E_INVALID before SUB") {
  auto nsqd = StartNsqd();
  CheckFatalCases(*nsqd,
                  {
                      {"RDY 1\n", "E_INVALID cannot RDY in current state"},
                      {"FIN 0123456789abcdef\n", "E_INVALID cannot FIN in current state"},
                      {"REQ 0123456789abcdef 0\n", "E_INVALID cannot REQ in current state"},
                      {"TOUCH 0123456789abcdef\n", "E_INVALID cannot TOUCH in current state"},
                      {"CLS\n", "E_INVALID cannot CLS in current state"},
                  },
                  /*subscribe_first=*/false);
}

TEST_CASE("unknown commands are fatal E_INVALID invalid command") {
  auto nsqd = StartNsqd();
  CheckFatalCases(*nsqd,
                  {
                      {"ASDF\n", "E_INVALID invalid command ASDF"},
                      {"pub lower_case\n", "E_INVALID invalid command pub"},
                      {"GARBAGE!@# 1 2\n", "E_INVALID invalid command GARBAGE!@#"},
                      // An empty line is a command with an empty name (upstream TestEmptyCommand).
                      {"\n\n", "E_INVALID invalid command "},
                  },
                  /*subscribe_first=*/false);
  // None of that hurt the server.
  Publish(*nsqd, "after_unknown_commands", "x");
}

// --- SUB -------------------------------------------------------------------------------------

TEST_CASE("SUB answers OK and accepts names up to 64 bytes, #ephemeral included") {
  auto nsqd = StartNsqd();
  const std::string topic64(64, 't');
  const std::string channel64 = std::string(54, 'c') + "#ephemeral";
  for (auto [topic, channel] :
       std::vector<std::pair<std::string, std::string>>{{"sub_ok", "ch"},
                                                        {"test-with_period.", "a.b_c-d"},
                                                        {topic64, channel64},
                                                        {"t#ephemeral", "ch#ephemeral"}}) {
    INFO("SUB ", topic, " ", channel);
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Sub(topic, channel));
    NSQ_CHECK_OK(conn->ExpectOk());
  }
}

TEST_CASE("SUB parameter errors are fatal with upstream's texts") {
  auto nsqd = StartNsqd();
  const std::string topic65(65, 't');
  CheckFatalCases(
      *nsqd,
      {
          {"SUB only_topic\n", "E_INVALID SUB insufficient number of parameters"},
          {"SUB\n", "E_INVALID SUB insufficient number of parameters"},
          {"SUB bad:topic ch\n", R"(E_BAD_TOPIC SUB topic name "bad:topic" is not valid)"},
          {"SUB " + topic65 + " ch\n",
           "E_BAD_TOPIC SUB topic name \"" + topic65 + "\" is not valid"},
          {"SUB test:ephemeral ch\n",
           R"(E_BAD_TOPIC SUB topic name "test:ephemeral" is not valid)"},
          {"SUB t a#b\n", R"(E_BAD_CHANNEL SUB channel name "a#b" is not valid)"},
          // Parameters are split on single spaces: two spaces make an empty channel name.
          {"SUB t  ch\n", R"(E_BAD_CHANNEL SUB channel name "" is not valid)"},
      },
      /*subscribe_first=*/false);
}

TEST_CASE("SUB with heartbeats disabled is a fatal E_INVALID") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Identify(R"({"heartbeat_interval":-1})"));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Sub("no_heartbeats", "ch"));
  NSQ_CHECK_OK(conn->ExpectError("E_INVALID cannot SUB with heartbeats disabled"));
  CHECK(conn->IsClosedByPeer(3s));
}

TEST_CASE("commands that are only valid before SUB are fatal after it") {
  auto nsqd = StartNsqd();
  CheckFatalCases(*nsqd,
                  {
                      {"SUB fatal_cases ch\n", "E_INVALID cannot SUB in current state"},
                      {"SUB other ch2\n", "E_INVALID cannot SUB in current state"},
                      {IdentifyBytes("{}"), "E_INVALID cannot IDENTIFY in current state"},
                      {"AUTH\n" + SizedBody("secret"), "E_INVALID cannot AUTH in current state"},
                  },
                  /*subscribe_first=*/true);
}

// --- PUB / MPUB / DPUB -----------------------------------------------------------------------

TEST_CASE("PUB answers OK, also on a subscribed connection and at exactly --max-msg-size") {
  auto nsqd = StartNsqd({"--max-msg-size=100"});
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Pub("pub_ok", "hello"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Pub("pub_ok", std::string(100, 'x')));
  NSQ_CHECK_OK(conn->ExpectOk());

  auto consumer = Subscribe(*nsqd, "pub_ok", "ch", -1);
  NSQ_REQUIRE_OK(consumer->Pub("pub_ok", "from a consumer"));
  NSQ_CHECK_OK(consumer->ExpectOk());
  CHECK(TopicStat(*nsqd, "pub_ok", "message_count") == 3);
}

TEST_CASE("PUB errors are fatal with upstream's texts (TestSizeLimits)") {
  auto nsqd = StartNsqd({"--max-msg-size=100", "--max-body-size=1000"});
  CheckFatalCases(*nsqd,
                  {
                      {"PUB\n", "E_INVALID PUB insufficient number of parameters"},
                      {"PUB bad!topic\n" + SizedBody("x"),
                       R"(E_BAD_TOPIC PUB topic name "bad!topic" is not valid)"},
                      {"PUB t\n" + Be32(0), "E_BAD_MESSAGE PUB invalid message body size 0"},
                      {"PUB t\n" + Be32(-1), "E_BAD_MESSAGE PUB invalid message body size -1"},
                      {"PUB t\n" + SizedBody(std::string(105, 'x')),
                       "E_BAD_MESSAGE PUB message too big 105 > 100"},
                  },
                  /*subscribe_first=*/false);
  // A subscribed connection gets the same error.
  CheckFatalCases(*nsqd,
                  {{"PUB t\n" + SizedBody(std::string(101, 'x')),
                    "E_BAD_MESSAGE PUB message too big 101 > 100"}},
                  /*subscribe_first=*/true);
  CHECK(TopicStat(*nsqd, "t", "message_count") <= 0);  // nothing was queued
}

std::string MpubBody(const std::vector<std::string>& messages) {
  std::string body = Be32(static_cast<int64_t>(messages.size()));
  for (const std::string& m : messages) body += SizedBody(m);
  return body;
}

TEST_CASE("MPUB errors are fatal with upstream's texts (TestSizeLimits)") {
  auto nsqd = StartNsqd({"--max-msg-size=100", "--max-body-size=1000"});
  std::vector<std::string> eleven(11, std::string(100, 'x'));  // body 4 + 11 * 104 = 1148
  std::vector<std::string> sixth_empty(10, "x");
  sixth_empty[5] = "";
  CheckFatalCases(
      *nsqd,
      {
          {"MPUB\n", "E_INVALID MPUB insufficient number of parameters"},
          // The code appears twice in upstream's text (quirk kept for compatibility).
          {"MPUB bad!\n" + SizedBody(MpubBody({"x"})),
           R"(E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad!" is not valid)"},
          {"MPUB t\n" + Be32(0), "E_BAD_BODY MPUB invalid body size 0"},
          {"MPUB t\n" + Be32(1148) + MpubBody(eleven), "E_BAD_BODY MPUB body too big 1148 > 1000"},
          {"MPUB t\n" + Be32(4) + Be32(0), "E_BAD_BODY MPUB invalid message count 0"},
          // At most (max_body_size - 4) / 5 = 199 messages.
          {"MPUB t\n" + Be32(8) + Be32(200) + Be32(0), "E_BAD_BODY MPUB invalid message count 200"},
          {"MPUB t\n" + SizedBody(MpubBody(sixth_empty)),
           "E_BAD_MESSAGE MPUB invalid message(5) body size 0"},
          {"MPUB t\n" + SizedBody(MpubBody({"a", std::string(101, 'x')})),
           "E_BAD_MESSAGE MPUB message too big 101 > 100"},
      },
      /*subscribe_first=*/false);
  // Validation happens before anything is queued.
  CHECK(TopicStat(*nsqd, "t", "message_count") <= 0);
}

TEST_CASE("MPUB queues every message and answers one OK") {
  auto nsqd = StartNsqd({"--max-msg-size=100", "--max-body-size=1000"});
  auto conn = ConnectV2(*nsqd);
  // The exact bytes of NSQ-REFERENCE §1.5.
  NSQ_REQUIRE_OK(
      conn->Send("MPUB mpub_ok\n\0\0\0\x0f\0\0\0\x02\0\0\0\x01"
                 "a\0\0\0\x02"
                 "bc"s));
  NSQ_CHECK_OK(conn->ExpectOk());
  // The largest count and sizes the limits allow.
  std::vector<std::string> max_messages(9, std::string(100, 'm'));  // 4 + 9 * 104 = 940
  NSQ_REQUIRE_OK(conn->Mpub("mpub_ok", max_messages));
  NSQ_CHECK_OK(conn->ExpectOk());
  CHECK(TopicStat(*nsqd, "mpub_ok", "message_count") == 11);
}

TEST_CASE("DPUB answers OK for 0 up to --max-req-timeout inclusive") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Dpub("dpub_ok", 0, "now"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Dpub("dpub_ok", 3600000, "in an hour"));
  NSQ_CHECK_OK(conn->ExpectOk());
  CHECK(TopicStat(*nsqd, "dpub_ok", "message_count") == 2);
}

TEST_CASE("DPUB errors are fatal with upstream's texts") {
  auto nsqd = StartNsqd({"--max-msg-size=100"});
  CheckFatalCases(
      *nsqd,
      {
          {"DPUB t\n", "E_INVALID DPUB insufficient number of parameters"},
          {"DPUB bad! 10\n" + SizedBody("x"), R"(E_BAD_TOPIC DPUB topic name "bad!" is not valid)"},
          {"DPUB t abc\n" + SizedBody("x"), "E_INVALID DPUB could not parse timeout abc"},
          {"DPUB t -1\n" + SizedBody("x"), "E_INVALID DPUB could not parse timeout -1"},
          {"DPUB t 3600001\n" + SizedBody("x"),
           "E_INVALID DPUB timeout 3600001 out of range 0-3600000"},
          {"DPUB t 3600100\n" + SizedBody("x"),
           "E_INVALID DPUB timeout 3600100 out of range 0-3600000"},
          {"DPUB t 10\n" + Be32(0), "E_BAD_MESSAGE DPUB invalid message body size 0"},
          {"DPUB t 10\n" + SizedBody(std::string(101, 'x')),
           "E_BAD_MESSAGE DPUB message too big 101 > 100"},
      },
      /*subscribe_first=*/false);
}

TEST_CASE("the DPUB range follows --max-req-timeout") {
  auto nsqd = StartNsqd({"--max-req-timeout=5s"});
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Dpub("dpub_range", 5000, "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Dpub("dpub_range", 5001, "x"));
  NSQ_CHECK_OK(conn->ExpectError("E_INVALID DPUB timeout 5001 out of range 0-5000"));
  CHECK(conn->IsClosedByPeer(3s));
}

// --- RDY / FIN / REQ / TOUCH / CLS after SUB -------------------------------------------------

TEST_CASE("RDY, FIN, REQ and TOUCH parameter errors after SUB are fatal") {
  auto nsqd = StartNsqd({"--max-rdy-count=50"});
  CheckFatalCases(*nsqd,
                  {
                      {"RDY 51\n", "E_INVALID RDY count 51 out of range 0-50"},
                      {"RDY abc\n", "E_INVALID RDY could not parse count abc"},
                      {"RDY -1\n", "E_INVALID RDY could not parse count -1"},
                      {"FIN\n", "E_INVALID FIN insufficient number of params"},
                      {"FIN 123\n", "E_INVALID invalid message ID"},
                      {"FIN 0123456789abcdef0\n", "E_INVALID invalid message ID"},
                      {"REQ 0123456789abcdef\n", "E_INVALID REQ insufficient number of params"},
                      {"REQ 123 0\n", "E_INVALID invalid message ID"},
                      {"REQ 0123456789abcdef abc\n", "E_INVALID REQ could not parse timeout abc"},
                      {"REQ 0123456789abcdef -1\n", "E_INVALID REQ could not parse timeout -1"},
                      {"TOUCH\n", "E_INVALID TOUCH insufficient number of params"},
                      {"TOUCH 123\n", "E_INVALID invalid message ID"},
                  },
                  /*subscribe_first=*/true);
}

TEST_CASE("RDY up to --max-rdy-count is accepted without a reply") {
  auto nsqd = StartNsqd({"--max-rdy-count=50"});
  auto conn = Subscribe(*nsqd, "rdy_ok", "ch", 50);
  NSQ_REQUIRE_OK(conn->Rdy(0));
  NSQ_REQUIRE_OK(conn->Rdy(1));
  NSQ_CHECK_OK(conn->ExpectNoFrame(200ms));
  Publish(*nsqd, "rdy_ok", "x");
  protocol::Message m = MustReadMessage(*conn);
  CHECK(m.body.view() == "x");
}

TEST_CASE("FIN, REQ and TOUCH of an unknown id are non-fatal and the connection keeps working") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "unknown_ids", "ch", 1);
  NSQ_REQUIRE_OK(conn->Fin(kUnknownId));
  NSQ_CHECK_OK(conn->ExpectError("E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight"));
  NSQ_REQUIRE_OK(conn->Req(kUnknownId, 0));
  NSQ_CHECK_OK(conn->ExpectError("E_REQ_FAILED REQ 0123456789abcdef failed ID not in flight"));
  NSQ_REQUIRE_OK(conn->Touch(kUnknownId));
  NSQ_CHECK_OK(conn->ExpectError("E_TOUCH_FAILED TOUCH 0123456789abcdef failed ID not in flight"));
  // Still subscribed and delivering.
  Publish(*nsqd, "unknown_ids", "still here");
  protocol::Message m = MustReadMessage(*conn);
  CHECK(m.body.view() == "still here");
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  NSQ_REQUIRE_OK(conn->Pub("unknown_ids_elsewhere", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
}

TEST_CASE("FIN of a message owned by another connection fails without closing either") {
  auto nsqd = StartNsqd();
  auto owner = Subscribe(*nsqd, "foreign_fin", "ch", 1);
  auto other = Subscribe(*nsqd, "foreign_fin", "ch", 0);
  Publish(*nsqd, "foreign_fin", "mine");
  protocol::Message m = MustReadMessage(*owner);
  const std::string id(m.id.view());
  NSQ_REQUIRE_OK(other->Fin(id));
  NSQ_CHECK_OK(
      other->ExpectError("E_FIN_FAILED FIN " + id + " failed client does not own message"));
  NSQ_REQUIRE_OK(other->Req(id, 0));
  NSQ_CHECK_OK(
      other->ExpectError("E_REQ_FAILED REQ " + id + " failed client does not own message"));
  NSQ_REQUIRE_OK(other->Touch(id));
  NSQ_CHECK_OK(
      other->ExpectError("E_TOUCH_FAILED TOUCH " + id + " failed client does not own message"));
  // The owner can still finish it.
  NSQ_REQUIRE_OK(owner->Fin(id));
  NSQ_CHECK_OK(owner->ExpectNoFrame(200ms));
  CHECK(
      WaitFor([&] { return ChannelStat(*nsqd, "foreign_fin", "ch", "in_flight_count") == 0; }, 5s));
}

TEST_CASE("CLS answers CLOSE_WAIT, then RDY is ignored while FIN still works") {
  auto nsqd = StartNsqd();
  auto conn = Subscribe(*nsqd, "cls", "ch", 1);
  Publish(*nsqd, "cls", "in flight");
  protocol::Message m = MustReadMessage(*conn);

  NSQ_REQUIRE_OK(conn->Cls());
  absl::StatusOr<std::string> bytes = conn->ReadRaw(18);
  NSQ_REQUIRE_OK(bytes);
  CHECK(*bytes == "\0\0\0\x0e\0\0\0\0CLOSE_WAIT"s);

  // The server does not close: the client finishes its work first.
  NSQ_REQUIRE_OK(conn->Fin(m.id.view()));
  Publish(*nsqd, "cls", "not for a closing client");
  NSQ_REQUIRE_OK(conn->Rdy(10));  // ignored in the closing state
  NSQ_CHECK_OK(conn->ExpectNoFrame(300ms));
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "cls", "ch", "in_flight_count") == 0; }, 5s));

  // A second CLS is a state error.
  NSQ_REQUIRE_OK(conn->Cls());
  NSQ_CHECK_OK(conn->ExpectError("E_INVALID cannot CLS in current state"));
  CHECK(conn->IsClosedByPeer(3s));
}

// --- framing robustness ----------------------------------------------------------------------

TEST_CASE("pipelined commands in one write are answered in order") {
  auto nsqd = StartNsqd();
  auto conn = RawConn::Connect(nsqd->tcp_port());
  NSQ_REQUIRE_OK(conn);
  RawConn& c = **conn;
  std::string batch = std::string(protocol::kMagicV2) + IdentifyBytes(R"({"client_id":"pipe"})") +
                      "SUB pipelined ch\n" + "PUB pipelined\n" + SizedBody("one") +
                      "PUB pipelined\n" + SizedBody("two") + "NOP\n" + "PUB pipelined\n" +
                      SizedBody("three") + "RDY 3\n";
  NSQ_REQUIRE_OK(c.Send(batch));
  for (int i = 0; i < 5; ++i) {  // IDENTIFY, SUB, 3 x PUB
    INFO("response ", i);
    NSQ_REQUIRE_OK(c.ExpectOk());
  }
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) bodies.emplace_back(MustReadMessage(c).body.view());
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"one", "three", "two"});
}

TEST_CASE("commands after a fatal error in the same write are not executed") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Send("PUB after_fatal\n" + SizedBody("one") + "ASDF\n" +
                            "PUB after_fatal\n" + SizedBody("two")));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_CHECK_OK(conn->ExpectError("E_INVALID invalid command ASDF"));
  CHECK(conn->IsClosedByPeer(3s));
  CHECK(TopicStat(*nsqd, "after_fatal", "message_count") == 1);
}

TEST_CASE("a command sent one byte at a time is decoded the same") {
  auto nsqd = StartNsqd();
  auto conn = RawConn::Connect(nsqd->tcp_port());
  NSQ_REQUIRE_OK(conn);
  const std::string bytes =
      std::string(protocol::kMagicV2) + "PUB byte_by_byte\n" + SizedBody("slowly");
  for (char b : bytes) NSQ_REQUIRE_OK((*conn)->Send(std::string(1, b)));
  NSQ_CHECK_OK((*conn)->ExpectOk());
  CHECK(TopicStat(*nsqd, "byte_by_byte", "message_count") == 1);
}

TEST_CASE("a trailing carriage return before the newline is stripped") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Send("NOP\r\nSUB crlf ch\r\nPUB crlf\r\n" + SizedBody("x")));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_CHECK_OK(conn->ExpectOk());
  boost::json::value stats = GetStats(*nsqd);
  CHECK(FindChannel(stats, "crlf", "ch") != nullptr);
}

TEST_CASE("an impossible MPUB message count is answered before the body is sent") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  // A 1000-byte body is announced, but only the count arrives: nsqd must not wait for the rest.
  NSQ_REQUIRE_OK(conn->Send("MPUB early\n" + Be32(1000) + Be32(5000000)));
  NSQ_CHECK_OK(conn->ExpectError("E_BAD_BODY MPUB invalid message count 5000000"));
  CHECK(conn->IsClosedByPeer());
}

TEST_CASE("a PUB cut short by the client closing its side gets nsqd's error before the close") {
  auto nsqd = StartNsqd();
  for (const auto& [bytes, error] : std::vector<std::pair<std::string, std::string>>{
           {"PUB cut\n" + Be32(10) + "abc", "E_BAD_MESSAGE PUB failed to read message body"},
           {"PUB cut\n" + Be32(10).substr(0, 2),
            "E_BAD_MESSAGE PUB failed to read message body size"},
           {"MPUB cut\n" + Be32(20) + Be32(2) + Be32(3) + "ab",
            "E_BAD_MESSAGE MPUB failed to read message body"}}) {
    CAPTURE(error);
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Send(bytes));
    conn->ShutdownWrite();
    NSQ_CHECK_OK(conn->ExpectError(error));
    CHECK(conn->IsClosedByPeer());
  }
}

TEST_CASE("the topic of an MPUB refused for its body exists, as in nsqd") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Send("MPUB made_anyway\n" + Be32(9) + Be32(1) + Be32(0) + "x"));
  NSQ_CHECK_OK(conn->ExpectError("E_BAD_MESSAGE MPUB invalid message(0) body size 0"));
  CHECK(TopicStat(*nsqd, "made_anyway", "message_count") == 0);
  // A refused topic name creates nothing.
  auto bad = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(bad->Send("MPUB bad:name\n" + Be32(9) + Be32(1) + Be32(1) + "x"));
  NSQ_CHECK_OK(bad->ExpectError(R"(E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad:name" is not valid)"));
  CHECK(FindTopic(GetStats(*nsqd), "bad:name") == nullptr);
}

}  // namespace
}  // namespace nsq::testutil
