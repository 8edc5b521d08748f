// Consumer against the real nsqd and nsqlookupd: discovery, flow control, requeue and backoff,
// give-up, reconnecting, a clean Stop(), and the connection upgrades (TLS, snappy, deflate) and
// AUTH.
#include "nsq/consumer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nsq/lookupd.h"
#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/fake_auth_server.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::PublishAll;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;
using Clock = std::chrono::steady_clock;

// Bodies seen by a handler, thread-safe.
class Seen {
 public:
  void Add(const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    bodies_.insert(body);
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> bodies_;
};

TEST_CASE("A consumer receives every message from 3 nsqd found through lookupd, and a 4th later") {
  auto lookupd = testing::StartLookupd();
  std::vector<std::unique_ptr<testutil::TestNsqd>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(testing::StartNsqdWithLookupd(*lookupd));
  for (int i = 0; i < 3; ++i) PublishAll(*nodes[i], "spread", absl::StrCat("node", i), 20);

  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 6;
  Consumer consumer("spread", "all", config);
  Seen seen;
  consumer.SetHandler(
      [&](Message& m) {
        seen.Add(m.body());
        return absl::OkStatus();
      },
      2);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*lookupd)));
  CHECK(WaitFor([&] { return seen.size() == 60; }, 15s));
  CHECK(consumer.Stats().connections == 3);

  nodes.push_back(testing::StartNsqdWithLookupd(*lookupd));
  PublishAll(*nodes[3], "spread", "node3", 20);
  CHECK(WaitFor([&] { return seen.size() == 80; }, 15s));
  CHECK(WaitFor([&] { return consumer.Stats().connections == 4; }, 5s));
  consumer.Stop();
  const ConsumerStats stats = consumer.Stats();
  CHECK(stats.messages_received == 80);
  CHECK(stats.messages_finished == 80);
  CHECK(stats.messages_requeued == 0);
  CHECK(stats.connections == 0);
  for (const auto& node : nodes) CHECK(Stat(*node, "spread", "all", "depth") == 0);
}

// Counts handlers running at once; each holds its message for a moment of "work".
struct Concurrency {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};

  absl::Status Handle() {
    const int running = ++now;
    int seen = peak;
    while (running > seen && !peak.compare_exchange_weak(seen, running)) {
    }
    std::this_thread::sleep_for(2ms);  // simulated work, not synchronisation
    --now;
    ++done;
    return absl::OkStatus();
  }
};

TEST_CASE("ConnectToNsqLookupd takes go-nsq's http://host:port form as well as host:port") {
  auto lookupd = testing::StartLookupd();
  auto nsqd = testing::StartNsqdWithLookupd(*lookupd);
  PublishAll(*nsqd, "urls", "m", 10);
  const std::string url = absl::StrCat("http://", testing::LookupdAddress(*lookupd));
  // nsqd registers the new topic with lookupd on its own time; a poll before that would log
  // a failed /lookup (NOT_FOUND), which is not what this test looks for.
  REQUIRE(WaitFor([&] { return LookupTopicProducers(url, "urls").ok(); }, 10s));
  testing::LogRecorder log;
  Consumer consumer("urls", "c", log.MakeConfig());
  Seen seen;
  consumer.SetHandler([&](Message& m) {
    seen.Add(m.body());
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(url + "/"));
  CHECK(WaitFor([&] { return seen.size() == 10; }, 10s));
  CHECK(!log.Contains("failed"));
  absl::StatusOr<std::vector<std::string>> nodes = LookupTopicProducers(url, "urls");
  REQUIRE_MESSAGE(nodes.ok(), nodes.status().ToString());
  CHECK(*nodes == std::vector<std::string>{NsqdAddress(*nsqd)});
}

TEST_CASE("max_in_flight is never exceeded across connections") {
  auto a = StartNsqd();
  auto b = StartNsqd();
  PublishAll(*a, "busy", "a", 60);
  PublishAll(*b, "busy", "b", 60);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 4;
  Consumer consumer("busy", "c", config);
  Concurrency concurrency;
  consumer.SetHandler([&](Message&) { return concurrency.Handle(); }, /*concurrency=*/8);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*a)));
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*b)));
  CHECK(WaitFor([&] { return concurrency.done == 120; }, 20s));
  CHECK(concurrency.peak <= 4);
  CHECK(concurrency.peak >= 2);  // more than one slot was really used
}

TEST_CASE("More connections than max_in_flight: RDY 1 rotates and every message arrives") {
  std::vector<std::unique_ptr<testutil::TestNsqd>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartNsqd());
    PublishAll(*nodes[i], "narrow", absl::StrCat("n", i), 5);
  }
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 1;
  Consumer consumer("narrow", "c", config);
  Concurrency concurrency;
  consumer.SetHandler([&](Message&) { return concurrency.Handle(); }, /*concurrency=*/4);
  for (const auto& node : nodes) CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*node)));
  CHECK(WaitFor([&] { return concurrency.done == 15; }, 20s));
  CHECK(concurrency.peak == 1);
  for (const auto& node : nodes) CHECK(Stat(*node, "narrow", "c", "depth") == 0);
}

TEST_CASE("A failed message is requeued with default_requeue_delay * attempts and attempts+1") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "retry", "m", 1);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.default_requeue_delay = 300ms;
  Consumer consumer("retry", "c", config);
  std::mutex mu;
  std::vector<std::pair<int, Clock::time_point>> deliveries;
  consumer.SetHandler([&](Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    deliveries.emplace_back(m.attempts(), Clock::now());
    return m.attempts() == 1 ? absl::UnavailableError("not yet") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  CHECK(WaitFor([&] { return consumer.Stats().messages_finished == 1; }, 10s));
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(deliveries.size() == 2);
  CHECK(deliveries[0].first == 1);
  CHECK(deliveries[1].first == 2);
  CHECK(deliveries[1].second - deliveries[0].second >= 300ms);
  CHECK(consumer.Stats().messages_requeued == 1);
}

TEST_CASE("Failures put the consumer in backoff, and successes bring it back") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "flaky", "m", 10);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.backoff_multiplier = 25ms;
  config.max_backoff_duration = 1s;
  Consumer consumer("flaky", "c", config);
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<Clock::time_point> times;
  consumer.SetHandler([&](Message&) {
    {
      std::lock_guard<std::mutex> lock(mu);
      times.push_back(Clock::now());
    }
    // The first three deliveries fail.
    return ++calls <= 3 ? absl::InternalError("boom") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  CHECK(WaitFor([&] { return consumer.Stats().messages_finished == 10; }, 20s));
  // Three failures: levels 1, 2, 3 (50, 100, 200 ms); then each success steps one level down.
  CHECK(log.Contains("backing off for 50ms (level 1)"));
  CHECK(log.Contains("backing off for 100ms (level 2)"));
  CHECK(log.Contains("backing off for 200ms (level 3)"));
  CHECK(log.Contains("backoff complete"));
  // While backed off nothing arrives: each delivery after a failure waited for its level.
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(times.size() >= 4);
  CHECK(times[1] - times[0] >= 50ms);
  CHECK(times[2] - times[1] >= 100ms);
  CHECK(times[3] - times[2] >= 200ms);
}

TEST_CASE("A message over max_attempts goes to the give-up handler and is finished") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "poison", "m", 1);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_attempts = 2;
  Consumer consumer("poison", "c", config);
  std::atomic<int> handled{0};
  std::promise<int> given_up;
  consumer.SetHandler([&](Message&) {
    ++handled;
    return absl::InternalError("always fails");
  });
  consumer.SetGiveUpHandler([&](Message& m) { given_up.set_value(m.attempts()); });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  std::future<int> attempts = given_up.get_future();
  REQUIRE(attempts.wait_for(10s) == std::future_status::ready);
  CHECK(attempts.get() == 3);
  CHECK(handled == 2);
  CHECK(WaitFor([&] { return consumer.Stats().messages_finished == 1; }, 5s));
  CHECK(WaitFor([&] { return Stat(*nsqd, "poison", "c", "in_flight_count") == 0; }, 5s));
  CHECK(Stat(*nsqd, "poison", "c", "depth") == 0);
}

TEST_CASE("With concurrency 0 the handler runs on the I/O thread; FIN, REQ, Stop inside work") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "inline", "m", 200);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 50;
  config.default_requeue_delay = 0ms;
  Consumer consumer("inline", "c", config);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::set<std::string> bodies;
  int failed_once = 0;
  consumer.SetHandler(
      [&](Message& m) {
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
        if (m.body() == "m-7" && m.attempts() == 1) {
          ++failed_once;
          return absl::UnavailableError("once");  // REQ, then delivered again
        }
        bodies.insert(m.body());
        return absl::OkStatus();
      },
      /*concurrency=*/0);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return bodies.size() == 200;
      },
      15s));
  CHECK(WaitFor([&] { return Stat(*nsqd, "inline", "c", "in_flight_count") == 0; }, 5s));
  CHECK(Stat(*nsqd, "inline", "c", "depth") == 0);
  CHECK(consumer.Stats().messages_finished == 200);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(threads.size() == 1);  // one thread for every message: the I/O thread
    CHECK(threads.count(std::this_thread::get_id()) == 0);
    CHECK(failed_once == 1);
  }

  // Stop() from inside an inline handler only starts stopping; the consumer then stops.
  Consumer stopper("inline", "d", config);
  std::atomic<int> ran{0};
  stopper.SetHandler(
      [&](Message&) {
        ++ran;
        stopper.Stop();
        return absl::OkStatus();
      },
      /*concurrency=*/0);
  CLIENT_REQUIRE_OK(stopper.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor([&] { return stopper.Stats().connections == 1; }, 10s));  // channel d exists
  PublishAll(*nsqd, "inline", "stop", 1);
  CHECK(stopper.WaitStopped(10s));
  CHECK(ran >= 1);
}

TEST_CASE("Stop() lets in-flight handlers finish and sends their FIN before closing") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "slow", "m", 5);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 5;
  Consumer consumer("slow", "c", config);
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool release = false;
  consumer.SetHandler(
      [&](Message&) {
        std::unique_lock<std::mutex> lock(mu);
        ++entered;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        return absl::OkStatus();
      },
      /*concurrency=*/5);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return entered == 5; }));
  }
  std::future<void> stopped = std::async(std::launch::async, [&] { consumer.Stop(); });
  // Stop has begun (RDY 0 + CLS sent) while all five handlers still hold their messages.
  REQUIRE(WaitFor([&] { return log.Contains("stopping consumer"); }, 5s));
  CHECK(stopped.wait_for(50ms) == std::future_status::timeout);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE(stopped.wait_for(10s) == std::future_status::ready);
  CHECK(consumer.Stats().messages_finished == 5);
  // Had a FIN been lost, nsqd would have requeued the message when the connection closed.
  CHECK(WaitFor([&] { return Stat(*nsqd, "slow", "c", "client_count") == 0; }, 5s));
  CHECK(Stat(*nsqd, "slow", "c", "depth") == 0);
  CHECK(Stat(*nsqd, "slow", "c", "requeue_count") == 0);
}

TEST_CASE("Manual responses: DisableAutoResponse, then Finish from another thread") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "manual", "m", 3);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 3;
  Consumer consumer("manual", "c", config);
  std::mutex mu;
  std::vector<Message> held;
  consumer.SetHandler([&](Message& m) {
    m.DisableAutoResponse();
    m.Touch();
    std::lock_guard<std::mutex> lock(mu);
    held.push_back(m);
    return absl::InternalError("ignored: the response is manual");
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return held.size() == 3;
      },
      10s));
  CHECK(consumer.Stats().messages_finished == 0);
  CHECK(consumer.Stats().messages_requeued == 0);
  std::thread([&] {
    std::lock_guard<std::mutex> lock(mu);
    for (Message& m : held) m.Finish();
  }).join();
  CHECK(WaitFor([&] { return consumer.Stats().messages_finished == 3; }, 5s));
  CHECK(WaitFor([&] { return Stat(*nsqd, "manual", "c", "in_flight_count") == 0; }, 5s));
}

TEST_CASE("A consumer connected directly reconnects after nsqd restarts") {
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  auto nsqd = StartNsqd({absl::StrCat("--tcp-address=", address)});
  PublishAll(*nsqd, "again", "before", 1);
  testing::LogRecorder log;
  Consumer consumer("again", "c", log.MakeConfig());
  Seen seen;
  consumer.SetHandler([&](Message& m) {
    seen.Add(m.body());
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(address));
  REQUIRE(WaitFor([&] { return seen.size() == 1; }, 10s));
  CLIENT_REQUIRE_OK(nsqd->Restart());
  PublishAll(*nsqd, "again", "after", 1);
  CHECK(WaitFor([&] { return seen.size() == 2; }, 10s));
  CHECK(consumer.Stats().connections == 1);
}

TEST_CASE("Heartbeats are answered, so an idle consumer connection stays up") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.heartbeat_interval = 1s;
  config.read_timeout = 1500ms;
  Consumer consumer("quiet", "c", config);
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor([&] { return consumer.Stats().connections == 1; }, 5s));
  // nsqd drops a client that sends nothing for two heartbeat intervals; three heartbeats later
  // the same connection is still there.
  auto heartbeats = [&] {
    int count = 0;
    for (const std::string& line : log.Lines()) count += line.find("heartbeat") != line.npos;
    return count;
  };
  REQUIRE(WaitFor([&] { return heartbeats() >= 3; }, 10s));
  CHECK(!log.Contains("connection closed"));
  CHECK(consumer.Stats().connections == 1);
  CHECK(Stat(*nsqd, "quiet", "c", "client_count") == 1);
}

// ------------------------------------------------------------------ TLS, compression, AUTH

// Bodies that cross many reads and compression chunks: small, large and compressible, large
// and incompressible, and a batch of small ones. Published over HTTP, so that the consumer's
// is the only TCP connection nsqd lists.
std::vector<std::string> PublishVariety(const testutil::TestNsqd& nsqd, const std::string& topic) {
  std::vector<std::string> bodies = {"small", std::string(512 * 1024, 'x')};
  std::string noise(200 * 1024, '\0');
  uint32_t state = 12345;
  for (char& c : noise) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>('a' + (state >> 24) % 26);  // /mpub splits on newlines
  }
  bodies.push_back(noise);
  for (const std::string& body : bodies) {
    auto response = testutil::HttpPost(nsqd.http_port(), "/pub?topic=" + topic, body);
    REQUIRE(response.ok());
    REQUIRE(response->status == 200);
  }
  std::vector<std::string> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(absl::StrCat("batch message ", i));
  auto response =
      testutil::HttpPost(nsqd.http_port(), "/mpub?topic=" + topic, absl::StrJoin(batch, "\n"));
  REQUIRE(response.ok());
  REQUIRE(response->status == 200);
  bodies.insert(bodies.end(), batch.begin(), batch.end());
  return bodies;
}

// Bodies received, in full, thread-safe.
class Received {
 public:
  void Add(const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    bodies_.insert(body);
  }
  std::multiset<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.size();
  }

 private:
  mutable std::mutex mu_;
  std::multiset<std::string> bodies_;
};

// The one connection nsqd lists (these tests have a single TCP client).
testing::ConnStat OnlyConn(const testutil::TestNsqd& nsqd) {
  std::vector<testing::ConnStat> conns = testing::ConnStats(nsqd);
  REQUIRE(conns.size() == 1);
  return conns[0];
}

// Consumes topic/c with `config` until every body of PublishVariety arrived intact, and until
// nsqd has the FIN of each (they go through the same compression and TLS). Returns what
// /stats said about the consumer's connection meanwhile.
testing::ConnStat ConsumeVariety(const testutil::TestNsqd& nsqd, const Config& config,
                                 const std::string& topic) {
  const std::vector<std::string> published = PublishVariety(nsqd, topic);
  Consumer consumer(topic, "c", config);
  Received received;
  consumer.SetHandler(
      [&](Message& m) {
        received.Add(m.body());
        return absl::OkStatus();
      },
      2);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(nsqd)));
  REQUIRE(WaitFor([&] { return received.size() >= published.size(); }, 20s));
  CHECK(received.bodies() == std::multiset<std::string>(published.begin(), published.end()));
  CHECK(WaitFor([&] { return Stat(nsqd, topic, "c", "in_flight_count") == 0; }, 5s));
  CHECK(Stat(nsqd, topic, "c", "depth") == 0);
  CHECK(consumer.Stats().connections == 1);
  return OnlyConn(nsqd);
}

Config TlsConfig(testing::LogRecorder& log) {
  Config config = log.MakeConfig();
  config.max_in_flight = 10;
  config.tls_v1 = true;
  config.tls_config.ca_file = testing::Certs().ca_cert;
  return config;
}

// A consumer whose connection cannot be set up: it logs why, never subscribes, keeps trying.
void ExpectConnectFails(const testutil::TestNsqd& nsqd, const Config& config,
                        testing::LogRecorder& log, const std::string& why) {
  Consumer consumer("never", "c", config);
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(nsqd)));
  CHECK_MESSAGE(WaitFor([&] { return log.Contains(why); }, 5s), why);
  // It tries again (every lookupd_poll_interval), and fails the same way.
  CHECK(WaitFor([&] { return log.Contains("reconnecting in"); }, 5s));
  CHECK(consumer.Stats().connections == 0);
}

TEST_CASE("Consumer over TLS verified against tls_config.ca_file: messages, FINs, /stats") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  const testing::ConnStat conn = ConsumeVariety(*nsqd, TlsConfig(log), "tls");
  CHECK(conn.tls);
  CHECK(absl::StartsWith(conn.tls_version, "TLS1."));
  CHECK(!conn.snappy);
  CHECK(!conn.deflate);
  CHECK(log.Contains("upgraded to TLS"));
}

TEST_CASE("Consumer TLS: an untrusted certificate or another name fails; insecure connects") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  Config config = TlsConfig(log);
  SUBCASE("a CA that did not sign nsqd's certificate") {
    config.tls_config.ca_file = testing::Certs().rogue_cert;
    ExpectConnectFails(*nsqd, config, log, "certificate verify failed");
    CHECK(log.Contains("TLS handshake with"));
  }
  SUBCASE("a name the certificate does not carry") {
    config.tls_config.server_name = "nsqd.example.com";
    ExpectConnectFails(*nsqd, config, log, "hostname mismatch");
  }
  SUBCASE("insecure_skip_verify with a CA that did not sign it") {
    config.tls_config.ca_file = testing::Certs().rogue_cert;
    config.tls_config.insecure_skip_verify = true;
    CHECK(ConsumeVariety(*nsqd, config, "insecure").tls);
  }
}

TEST_CASE("Consumer TLS with a client certificate: require-verify accepts the CA-signed one") {
  const testutil::TestCerts& certs = testing::Certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-client-auth-policy=require-verify");
  flags.push_back("--tls-root-ca-file=" + certs.ca_cert);
  flags.push_back("--tls-required=tcp-https");
  auto nsqd = StartNsqd(flags);
  testing::LogRecorder log;
  Config config = TlsConfig(log);
  SUBCASE("the CA-signed client certificate") {
    config.tls_config.cert_file = certs.client_cert;
    config.tls_config.key_file = certs.client_key;
    const testing::ConnStat conn = ConsumeVariety(*nsqd, config, "mtls");
    CHECK(conn.tls);
    CHECK(absl::StrContains(conn.tls_client_cert_subject, "nsq-test-client"));
  }
  SUBCASE("a self-signed client certificate") {
    config.tls_config.cert_file = certs.rogue_cert;
    config.tls_config.key_file = certs.rogue_key;
    ExpectConnectFails(*nsqd, config, log, "TLS with");
  }
  SUBCASE("no client certificate") { ExpectConnectFails(*nsqd, config, log, "TLS with"); }
}

TEST_CASE("Consumer with snappy and deflate (levels 6 and 1), alone and over TLS") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 10;
  bool snappy = false;
  SUBCASE("snappy") {
    config.snappy = true;
    snappy = true;
  }
  SUBCASE("deflate level 6") { config.deflate = true; }
  SUBCASE("deflate level 1") {
    config.deflate = true;
    config.deflate_level = 1;
  }
  SUBCASE("TLS + snappy") {
    config = TlsConfig(log);
    config.snappy = true;
    snappy = true;
  }
  SUBCASE("TLS + deflate") {
    config = TlsConfig(log);
    config.deflate = true;
  }
  const testing::ConnStat conn = ConsumeVariety(*nsqd, config, "compressed");
  CHECK(conn.tls == config.tls_v1);
  CHECK(conn.snappy == snappy);
  CHECK(conn.deflate == !snappy);
  CHECK(log.Contains(snappy ? "upgraded to snappy" : "upgraded to deflate"));
}

TEST_CASE("Consumer AUTH: a bad secret is E_AUTH_FAILED, none is refused") {
  testutil::FakeAuthServer auth(testing::AuthAnswer);
  auto nsqd = StartNsqd({"--auth-http-address=" + auth.address()});
  {
    testing::LogRecorder log;
    Config config = log.MakeConfig();
    config.auth_secret = "wrong";
    ExpectConnectFails(*nsqd, config, log, "PERMISSION_DENIED: E_AUTH_FAILED");
  }
  {
    testing::LogRecorder log;
    ExpectConnectFails(*nsqd, log.MakeConfig(), log,
                       "PERMISSION_DENIED: nsqd " + NsqdAddress(*nsqd) +
                           " requires AUTH but auth_secret is empty");
  }
}

TEST_CASE("Consumer AUTH with a good secret consumes, in clear and over TLS or compression") {
  testutil::FakeAuthServer auth(testing::AuthAnswer);
  std::vector<std::string> flags = testing::Certs().NsqdFlags();
  flags.push_back("--auth-http-address=" + auth.address());
  auto nsqd = StartNsqd(flags);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 10;
  SUBCASE("in clear") {}
  SUBCASE("over TLS and snappy") {
    config = TlsConfig(log);
    config.snappy = true;
  }
  SUBCASE("over deflate") { config.deflate = true; }
  config.auth_secret = "good";
  const testing::ConnStat conn = ConsumeVariety(*nsqd, config, "authed");
  CHECK(log.Contains(R"(authenticated as "good" (https://id.example/good) with 1 permissions)"));
  CHECK(conn.authed);
  CHECK(conn.auth_identity == "good");
  CHECK(conn.tls == config.tls_v1);
}

}  // namespace
}  // namespace nsq::client
