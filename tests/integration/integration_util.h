// Shared helpers of the integration tests: start nsqd, open protocol connections in a known
// state, build raw wire bytes, and read /stats. They REQUIRE success (doctest), so a test reads
// as the scenario it checks; the messages of failed requirements say what went wrong.
//
//   auto nsqd = StartNsqd({"--max-rdy-count=50"});
//   auto consumer = Subscribe(*nsqd, "t", "ch", /*rdy=*/1);
//   Publish(*nsqd, "t", "hello");
//   protocol::Message m = MustReadMessage(*consumer);
#pragma once

#include <doctest/doctest.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/message.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/raw_conn.h"
#include "tests/testutil/test_nsqd.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {

inline std::string StatusText(const absl::Status& status) { return status.ToString(); }
template <typename T>
std::string StatusText(const absl::StatusOr<T>& status_or) {
  return status_or.status().ToString();
}

}  // namespace nsq::testutil

// CHECK/REQUIRE that an absl::Status or StatusOr is OK, printing the status when it is not.
#define NSQ_CHECK_OK(expr)                                                     \
  do {                                                                         \
    const auto& nsq_status_ = (expr);                                          \
    CHECK_MESSAGE(nsq_status_.ok(), ::nsq::testutil::StatusText(nsq_status_)); \
  } while (0)
#define NSQ_REQUIRE_OK(expr)                                                     \
  do {                                                                           \
    const auto& nsq_status_ = (expr);                                            \
    REQUIRE_MESSAGE(nsq_status_.ok(), ::nsq::testutil::StatusText(nsq_status_)); \
  } while (0)

namespace nsq::testutil {

using namespace std::chrono_literals;

// A 16-byte id that nsqd never hands out in these tests (ids are hex of a timestamp-based
// value), used for FIN/REQ/TOUCH of an unknown message.
inline constexpr std::string_view kUnknownId = "0123456789abcdef";

// Starts nsqd with extra flags; REQUIREs that it came up.
std::unique_ptr<TestNsqd> StartNsqd(std::vector<std::string> flags = {});

// A connection that has sent the magic (and nothing else).
std::unique_ptr<RawConn> ConnectV2(const TestNsqd& nsqd);

// A connection that sent the magic, IDENTIFY `identify_json` (when not empty; the reply must
// be a response frame), SUB topic channel (→ OK) and, when rdy >= 0, RDY rdy.
std::unique_ptr<RawConn> Subscribe(const TestNsqd& nsqd, std::string_view topic,
                                   std::string_view channel, int64_t rdy,
                                   std::string_view identify_json = "");

// Publishes over a fresh TCP connection and REQUIREs OK.
void Publish(const TestNsqd& nsqd, std::string_view topic, std::string_view body);
void PublishMany(const TestNsqd& nsqd, std::string_view topic,
                 const std::vector<std::string>& bodies);

// The next frame must be a message; returns it decoded.
protocol::Message MustReadMessage(RawConn& conn, std::chrono::milliseconds timeout = 5s);

// Wire bytes: a big-endian int32, and "size-prefixed" bodies.
std::string Be32(int64_t value);
std::string SizedBody(std::string_view body);  // [int32 size][body]

// Parses JSON; REQUIREs that it parses.
boost::json::value ParseJson(std::string_view text);
// GET /stats?format=json&<query>; REQUIREs 200 and JSON.
boost::json::value GetStats(const TestNsqd& nsqd, std::string_view query = "");
// The topic object in a /stats document, or nullptr.
const boost::json::object* FindTopic(const boost::json::value& stats, std::string_view topic);
// The channel object in a /stats document, or nullptr.
const boost::json::object* FindChannel(const boost::json::value& stats, std::string_view topic,
                                       std::string_view channel);
// An integer field of a channel's stats; -1 when the channel or the field is missing.
int64_t ChannelStat(const TestNsqd& nsqd, std::string_view topic, std::string_view channel,
                    std::string_view field);
// The sum of ready_count over a channel's clients; -1 when the channel is missing. RDY has no
// reply: a test that needs every consumer's RDY in force before it publishes waits on this.
int64_t ChannelReadyCount(const TestNsqd& nsqd, std::string_view topic, std::string_view channel);
// An integer field of a topic's stats; -1 when the topic or the field is missing.
int64_t TopicStat(const TestNsqd& nsqd, std::string_view topic, std::string_view field);

// Milliseconds since the Unix epoch / nanoseconds, wall clock (message timestamps are wall).
int64_t NowUnixNanos();

}  // namespace nsq::testutil
