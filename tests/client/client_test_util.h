// Helpers of the client tests: start the daemons, read nsqd's /stats, pick a port that stays
// the same across an nsqd restart, and record log lines of the client.
//
//   auto nsqd = StartNsqd();
//   Producer producer(NsqdAddress(*nsqd), QuietConfig());
//   CHECK(TopicStat(*nsqd, "t", "message_count") == 1);
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "nsq/config.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"
#include "tests/testutil/test_certs.h"
#include "tests/testutil/test_lookupd.h"
#include "tests/testutil/test_nsqd.h"

#define CLIENT_CHECK_OK(expr)                                      \
  do {                                                             \
    const absl::Status client_status_ = (expr);                    \
    CHECK_MESSAGE(client_status_.ok(), client_status_.ToString()); \
  } while (0)
#define CLIENT_REQUIRE_OK(expr)                                      \
  do {                                                               \
    const absl::Status client_status_ = (expr);                      \
    REQUIRE_MESSAGE(client_status_.ok(), client_status_.ToString()); \
  } while (0)

namespace nsq::client::testing {

using namespace std::chrono_literals;

std::unique_ptr<testutil::TestNsqd> StartNsqd(std::vector<std::string> flags = {});
std::unique_ptr<testutil::TestLookupd> StartLookupd();
// nsqd registered with `lookupd` and reachable at 127.0.0.1 through it.
std::unique_ptr<testutil::TestNsqd> StartNsqdWithLookupd(const testutil::TestLookupd& lookupd);

std::string NsqdAddress(const testutil::TestNsqd& nsqd);
std::string LookupdAddress(const testutil::TestLookupd& lookupd);

// Publishes "<tag>-0" .. "<tag>-<count-1>" to `topic` in one MPUB (a test REQUIREs success).
void PublishAll(const testutil::TestNsqd& nsqd, const std::string& topic, const std::string& tag,
                int count);

// After an nsqd restart: publishes "after" to `topic` until one is confirmed (each failure
// must be Unavailable: a command may still meet the old connection, which nsqd closed and the
// client may not have noticed yet); returns the attempts it took, 0 when none within 10 s.
int PublishAfterRestart(Producer& producer, const std::string& topic);

// A loopback port that was free a moment ago (for a fixed --tcp-address across restarts).
uint16_t FreePort();

// A numeric field of the topic (channel empty) or of one of its channels in /stats; -1 when
// the topic or channel does not exist (yet).
int64_t Stat(const testutil::TestNsqd& nsqd, const std::string& topic, const std::string& channel,
             const std::string& field);

// What nsqd's /stats says about one client connection: a consumer's (listed under its
// channel) or a producer's (listed under "producers").
struct ConnStat {
  std::string client_id;
  bool tls = false;
  std::string tls_version;              // "TLS1.3" etc.; empty without TLS
  std::string tls_client_cert_subject;  // empty without a client certificate
  bool snappy = false;
  bool deflate = false;
  bool authed = false;
  std::string auth_identity;
};

// One set of test certificates for the whole test binary (made on first use).
const testutil::TestCerts& Certs();

// Every client connection nsqd lists in /stats (channel clients first, then producers).
std::vector<ConnStat> ConnStats(const testutil::TestNsqd& nsqd);

// The answers of the FakeAuthServer in these tests: "good" may publish and subscribe
// everywhere (identity "good", identity_url https://id.example/good), anything else is 403.
std::pair<int, std::string> AuthAnswer(const std::string& secret);

// Collects the client's log lines; tests wait for a line instead of guessing a time.
class LogRecorder {
 public:
  // A Config with short timers for tests whose logger records into this recorder.
  Config MakeConfig();
  bool Contains(const std::string& needle) const;
  std::vector<std::string> Lines() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A consumer of `topic` (channel "c", max_in_flight 1: bodies in nsqd's order) on one nsqd
// that keeps every body it receives. Subscribed when the constructor returns.
class ReceivedBodies {
 public:
  ReceivedBodies(const testutil::TestNsqd& nsqd, const std::string& topic, LogRecorder& log);
  // Waits up to 10 s for `count` bodies; returns every body received by then, in order.
  std::vector<std::string> WaitFor(size_t count);

 private:
  std::mutex mu_;
  std::vector<std::string> bodies_;
  Consumer consumer_;
};

}  // namespace nsq::client::testing
