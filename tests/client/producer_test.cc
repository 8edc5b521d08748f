// Producer against the real nsqd: confirmations, error codes, pipelining from many threads,
// reconnecting after a restart, Stop() flushing what was accepted, and the connection upgrades
// (TLS, snappy, deflate) and AUTH.
#include "nsq/producer.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "common/protocol/stream_codec.h"
#include "tests/client/client_test_util.h"
#include "tests/client/fake_nsqd.h"
#include "tests/testutil/fake_auth_server.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;

TEST_CASE("Publish, MultiPublish and DeferredPublish return after nsqd confirmed them") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("events", "one"));
  // Confirmed means stored: the count is there without waiting.
  CHECK(Stat(*nsqd, "events", "", "message_count") == 1);
  CLIENT_REQUIRE_OK(producer.MultiPublish("events", {"two", "three", "four"}));
  CHECK(Stat(*nsqd, "events", "", "message_count") == 4);
  CLIENT_REQUIRE_OK(producer.DeferredPublish("events", 60s, "five"));
  CHECK(Stat(*nsqd, "events", "", "message_count") == 5);

  std::promise<absl::Status> done;
  producer.PublishAsync("events", "six", [&](absl::Status s) { done.set_value(s); });
  CLIENT_CHECK_OK(done.get_future().get());
  CHECK(Stat(*nsqd, "events", "", "message_count") == 6);
}

TEST_CASE("An invalid topic is refused before anything is sent; \"a b\" is not published to a") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  for (const std::string& topic :
       std::vector<std::string>{"bad!topic", "a b", "", std::string(65, 'x'), "t\n"}) {
    absl::Status status = producer.Publish(topic, "x");
    CHECK_MESSAGE(absl::IsInvalidArgument(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "is not valid"), status.ToString());
    status = producer.MultiPublish(topic, {"x", "y"});
    CHECK_MESSAGE(absl::IsInvalidArgument(status), status.ToString());
    status = producer.DeferredPublish(topic, 10ms, "x");
    CHECK_MESSAGE(absl::IsInvalidArgument(status), status.ToString());
  }
  CHECK(producer.Stats().failed == 20);  // MPUB counts its 2 messages
  // Nothing reached nsqd: no topic "a" (nsqd reads "PUB a b" as a publish to "a").
  CHECK(Stat(*nsqd, "a", "", "message_count") == -1);
  CHECK(Stat(*nsqd, "bad", "", "message_count") == -1);
  CLIENT_CHECK_OK(producer.Publish("good", "x"));
  CHECK(Stat(*nsqd, "good", "", "message_count") == 1);
}

TEST_CASE("An empty body fails with E_BAD_MESSAGE") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  absl::Status status = producer.Publish("t", "");
  CHECK(absl::IsInvalidArgument(status));
  CHECK_MESSAGE(std::string(status.message()).rfind("E_BAD_MESSAGE", 0) == 0, status.ToString());
  status = producer.MultiPublish("t", {"a", ""});
  CHECK_MESSAGE(std::string(status.message()).rfind("E_BAD_MESSAGE", 0) == 0, status.ToString());
  CHECK(Stat(*nsqd, "t", "", "message_count") <= 0);  // -1: the topic was never created
}

TEST_CASE("Commands pipelined after a fatal error fail as Unavailable, not as its error") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("t", "warm up the connection"));
  std::promise<absl::Status> bad;
  std::promise<absl::Status> after;
  producer.PublishAsync("t", "", [&](absl::Status s) { bad.set_value(s); });  // E_BAD_MESSAGE
  producer.PublishAsync("t", "y", [&](absl::Status s) { after.set_value(s); });
  CHECK(absl::IsInvalidArgument(bad.get_future().get()));
  absl::Status second = after.get_future().get();
  // nsqd may have read the second command before closing, or not: either it was confirmed or
  // the client reports that the connection went away under it.
  CHECK_MESSAGE((second.ok() || absl::IsUnavailable(second)), second.ToString());
}

TEST_CASE("Many threads publishing at once all get their confirmation") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::atomic<int> ok{0};
  std::atomic<int> async_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = absl::StrCat("thread ", t, " message ", i);
        if (i % 2 == 0) {
          if (producer.Publish("load", body).ok()) ++ok;
        } else {
          producer.PublishAsync("load", body, [&](absl::Status s) {
            if (s.ok()) ++async_ok;
          });
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  producer.Stop();  // waits for the async ones
  CHECK(ok == kThreads * kPerThread / 2);
  CHECK(async_ok == kThreads * kPerThread / 2);
  CHECK(Stat(*nsqd, "load", "", "message_count") == kThreads * kPerThread);
}

TEST_CASE("Moved-in bodies, big ones written from where they are, arrive in order") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  testing::ReceivedBodies received(*nsqd, "taken", log);

  // Small bodies are copied into the command, bodies of 16 KiB and more become pieces of
  // their own; with 600 bodies the MPUB also spans more than one 256 KiB pending piece.
  std::vector<std::string> expected = {"small", std::string(100 * 1024, 'p')};
  std::vector<std::string> batch;
  for (int i = 0; i < 600; ++i) {
    batch.push_back(i % 50 == 7 ? std::string(20 * 1024 + i, static_cast<char>('a' + i % 26))
                                : absl::StrCat("body-", i, std::string(1000, '.')));
  }
  expected.insert(expected.end(), batch.begin(), batch.end());
  expected.push_back("last");

  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  std::vector<std::promise<absl::Status>> done(4);
  producer.PublishAsync("taken", std::string("small"),
                        [&](absl::Status s) { done[0].set_value(s); });
  producer.PublishAsync("taken", std::string(100 * 1024, 'p'),
                        [&](absl::Status s) { done[1].set_value(s); });
  producer.MultiPublishAsync("taken", std::move(batch),
                             [&](absl::Status s) { done[2].set_value(s); });
  producer.MultiPublishAsync("taken", std::vector<std::string>{"last"},
                             [&](absl::Status s) { done[3].set_value(s); });
  for (auto& d : done) CLIENT_CHECK_OK(d.get_future().get());
  CHECK(Stat(*nsqd, "taken", "", "message_count") == static_cast<int64_t>(expected.size()));
  CHECK(received.WaitFor(expected.size()) == expected);
}

TEST_CASE("Stop waits for every accepted command, and later commands are refused") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  constexpr int kCount = 500;
  std::atomic<int> answered{0};
  std::atomic<int> confirmed{0};
  for (int i = 0; i < kCount; ++i) {
    producer.PublishAsync("flush", "m", [&](absl::Status s) {
      ++answered;
      if (s.ok()) ++confirmed;
    });
  }
  producer.Stop();
  CHECK(answered == kCount);
  CHECK(confirmed == kCount);
  CHECK(Stat(*nsqd, "flush", "", "message_count") == kCount);
  CHECK(absl::IsFailedPrecondition(producer.Publish("flush", "late")));
}

TEST_CASE("Publishing where nothing listens fails with Unavailable") {
  testing::LogRecorder log;
  Producer producer(absl::StrCat("127.0.0.1:", testing::FreePort()), log.MakeConfig());
  absl::Status status = producer.Publish("t", "x");
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
}

TEST_CASE("Ping connects before any publish; it fails where nothing listens and after Stop") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CHECK(producer.Stats().connected_to.empty());
  CLIENT_REQUIRE_OK(producer.Ping());
  CHECK(producer.Stats().connected_to == NsqdAddress(*nsqd));
  CLIENT_CHECK_OK(producer.Ping());
  producer.Stop();
  CHECK(absl::IsFailedPrecondition(producer.Ping()));

  Producer nowhere(absl::StrCat("127.0.0.1:", testing::FreePort()), log.MakeConfig());
  absl::Status status = nowhere.Ping();
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
  Producer bad_address("no-port-here", log.MakeConfig());
  CHECK(absl::IsInvalidArgument(bad_address.Ping()));
}

TEST_CASE("Ping on a connected producer sends a NOP, as go-nsq") {
  testing::FakeNsqd fake({});
  testing::LogRecorder log;
  Producer producer(fake.address(), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Ping());  // dials; nothing written after IDENTIFY yet
  CHECK(fake.connections() == 1);
  CLIENT_REQUIRE_OK(producer.Ping());
  CLIENT_REQUIRE_OK(producer.Ping());
  CHECK(WaitFor([&] { return fake.nops() == 2; }, 5s));
  CHECK(fake.connections() == 1);
  CLIENT_CHECK_OK(producer.Publish("t", "x"));  // NOPs get no reply: replies still line up
  CHECK(fake.commands() == 1);
}

TEST_CASE("A Producer is move-only; the moved-to one publishes, the moved-from one refuses") {
  static_assert(!std::is_copy_constructible_v<Producer>);
  static_assert(!std::is_copy_assignable_v<Producer>);
  static_assert(std::is_nothrow_move_constructible_v<Producer>);
  static_assert(std::is_nothrow_move_assignable_v<Producer>);
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer first(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(first.Publish("moved", "1"));
  Producer second(std::move(first));
  CLIENT_CHECK_OK(second.Publish("moved", "2"));
  CHECK(second.Stats().published == 2);
  CHECK(absl::IsFailedPrecondition(first.Publish("moved", "x")));  // NOLINT(bugprone-use-after-move)
  CHECK(absl::IsFailedPrecondition(first.Ping()));
  CHECK(first.Outstanding() == 0);
  std::promise<absl::Status> refused;
  first.PublishAsync("moved", "x", [&](absl::Status s) { refused.set_value(s); });
  CHECK(absl::IsFailedPrecondition(refused.get_future().get()));
  first.Stop();  // harmless

  // Assigning over a live producer stops it first: what it accepted is published.
  Producer third(NsqdAddress(*nsqd), log.MakeConfig());
  std::atomic<int> confirmed{0};
  for (int i = 0; i < 100; ++i) {
    third.PublishAsync("moved", "async", [&](absl::Status s) {
      if (s.ok()) ++confirmed;
    });
  }
  third = std::move(second);
  CHECK(confirmed == 100);
  CLIENT_CHECK_OK(third.Publish("moved", "3"));
  CHECK(Stat(*nsqd, "moved", "", "message_count") == 103);
  first = std::move(third);  // into a moved-from one
  CLIENT_CHECK_OK(first.Publish("moved", "4"));
}

TEST_CASE("A connection that reads nothing for read_timeout closes; reads keep it open") {
  testing::FakeNsqd fake({.answer = false});
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.read_timeout = 300ms;
  config.heartbeat_interval = -1ms;  // the fake would not send any
  Producer producer(fake.address(), config);
  const auto start = std::chrono::steady_clock::now();
  std::promise<absl::Status> lost;
  producer.PublishAsync("t", "m", [&](absl::Status s) { lost.set_value(s); });
  const absl::Status status = lost.get_future().get();
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
  CHECK_MESSAGE(absl::StrContains(status.message(), "within read_timeout"), status.ToString());
  CHECK(waited >= 300ms);
  CHECK(waited < 5s);

  // Against nsqd, whose heartbeats (and replies) are reads, the connection outlives many
  // read_timeouts' worth of time between publishes.
  auto nsqd = StartNsqd();
  testing::LogRecorder live_log;
  Config live_config = live_log.MakeConfig();
  live_config.read_timeout = 1500ms;
  live_config.heartbeat_interval = 1s;  // nsqd's shortest
  Producer live(NsqdAddress(*nsqd), live_config);
  CLIENT_REQUIRE_OK(live.Publish("t", "1"));
  std::this_thread::sleep_for(3500ms);  // the time that passes is the point here, not a sync
  CLIENT_CHECK_OK(live.Publish("t", "2"));
  CHECK(live.Stats().published == 2);
  CHECK_FALSE(live_log.Contains("read_timeout"));
}

TEST_CASE("After nsqd restarts, the producer reconnects and publishes again") {
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  auto nsqd = StartNsqd({absl::StrCat("--tcp-address=", address)});
  REQUIRE(NsqdAddress(*nsqd) == address);
  testing::LogRecorder log;
  Producer producer(address, log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("t", "before"));

  CLIENT_REQUIRE_OK(nsqd->Restart());
  REQUIRE(NsqdAddress(*nsqd) == address);
  // The first command may still meet the old connection; the next one reconnects.
  const int attempts = testing::PublishAfterRestart(producer, "t");
  CHECK(attempts >= 1);
  CHECK(attempts <= 2);
  CHECK(Stat(*nsqd, "t", "", "message_count") >= 1);
}

TEST_CASE("local_addr: connections to nsqd come from the address it names") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  CLIENT_REQUIRE_OK(config.Set("local_addr", "127.0.0.2"));
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Publish("t", "x"));
  auto stats = testutil::HttpGet(nsqd->http_port(), "/stats?format=json");
  REQUIRE(stats.ok());
  CHECK_MESSAGE(absl::StrContains(stats->body, "\"remote_address\":\"127.0.0.2:"), stats->body);
  // An IPv6 local address cannot reach an IPv4 nsqd: said at the dial, not a hang.
  config.local_addr = "::1";
  absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("t", "x");
  CHECK_MESSAGE(absl::StrContains(status.message(), "same family as local_addr"),
                status.ToString());
}

// ------------------------------------------------------------------ back-pressure

TEST_CASE("At the outstanding limit PublishAsync waits for room; the count never exceeds it") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.log_level = LogLevel::kInfo;
  config.max_outstanding_messages = 50;
  Producer producer(NsqdAddress(*nsqd), config);
  constexpr int kThreads = 2;
  constexpr int kPerThread = 10000;
  std::atomic<int> ok{0};
  std::atomic<uint64_t> max_seen{0};
  auto see = [&] {
    const uint64_t now = producer.Outstanding();
    uint64_t seen = max_seen.load();
    while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        producer.PublishAsync("bounded", "m", [&](absl::Status s) {
          see();
          if (s.ok()) ++ok;
        });
        see();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  producer.Stop();
  CHECK(ok == kThreads * kPerThread);
  CHECK(max_seen <= 50);
  CHECK(max_seen >= 1);
  const ProducerStats stats = producer.Stats();
  CHECK(stats.published == kThreads * kPerThread);
  CHECK(stats.failed == 0);
  CHECK(stats.outstanding == 0);
  CHECK(stats.outstanding_bytes == 0);
  CHECK(Stat(*nsqd, "bounded", "", "message_count") == kThreads * kPerThread);
}

TEST_CASE("With block_when_full off, a publish over either limit fails at once") {
  testing::FakeNsqd fake({.answer = false});
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.block_when_full = false;
  std::string body = "m";
  SUBCASE("messages") { config.max_outstanding_messages = 3; }
  SUBCASE("bytes") {
    config.max_outstanding_bytes = 700;
    body = std::string(300, 'b');  // ~330 bytes as a command: 2 fit, a 3rd does not
  }
  const int fit = config.max_outstanding_messages == 3 ? 3 : 2;
  Producer producer(fake.address(), config);
  std::vector<std::promise<absl::Status>> accepted(fit);
  for (int i = 0; i < fit; ++i) {
    producer.PublishAsync("t", body, [&accepted, i](absl::Status s) { accepted[i].set_value(s); });
  }
  CHECK(producer.Outstanding() == static_cast<uint64_t>(fit));
  absl::Status refused;
  producer.PublishAsync("t", body, [&](absl::Status s) { refused = s; });  // runs before return
  CHECK_MESSAGE(absl::IsResourceExhausted(refused), refused.ToString());
  CHECK_MESSAGE(absl::StrContains(refused.message(), "outstanding"), refused.ToString());
  CHECK(absl::IsResourceExhausted(producer.MultiPublish("t", {"x", "y"})));
  CHECK(producer.Outstanding() == static_cast<uint64_t>(fit));
  // The fake read them all and answers none; when it drops the connection they fail as
  // Unavailable (written, maybe published), never as OK.
  REQUIRE(WaitFor([&] { return fake.commands() == fit; }, 5s));
  fake.DropConnection();
  for (auto& promise : accepted) {
    const absl::Status status = promise.get_future().get();
    CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "lost before its reply"), status.ToString());
  }
  // The count is given back once per read, just after the callbacks of that read.
  CHECK(WaitFor([&] { return producer.Outstanding() == 0; }, 5s));
  CHECK(producer.Stats().failed == static_cast<uint64_t>(fit + 3));
  CHECK(producer.Stats().published == 0);
}

TEST_CASE("A publish waiting for room gives up with FailedPrecondition when the producer stops") {
  testing::FakeNsqd fake({.answer = false});
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_outstanding_messages = 2;
  Producer producer(fake.address(), config);
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 2; ++i) {
    producer.PublishAsync("t", "m", [&](absl::Status s) { unavailable += absl::IsUnavailable(s); });
  }
  std::promise<absl::Status> third;
  std::future<void> blocked = std::async(std::launch::async, [&] {
    producer.PublishAsync("t", "m", [&](absl::Status s) { third.set_value(s); });
  });
  // It waits: nothing frees room while the fake answers nothing.
  CHECK(blocked.wait_for(100ms) == std::future_status::timeout);
  std::future<void> stopped = std::async(std::launch::async, [&] { producer.Stop(); });
  REQUIRE(blocked.wait_for(5s) == std::future_status::ready);
  const absl::Status status = third.get_future().get();
  CHECK_MESSAGE(absl::IsFailedPrecondition(status), status.ToString());
  // Stop waits for the two accepted ones, which end when the connection does.
  CHECK(stopped.wait_for(50ms) == std::future_status::timeout);
  REQUIRE(WaitFor([&] { return fake.commands() == 2; }, 5s));
  fake.DropConnection();
  REQUIRE(stopped.wait_for(5s) == std::future_status::ready);
  CHECK(unavailable == 2);
}

TEST_CASE("A backlog far beyond what write_timeout allows is written in chunks, each within it") {
  // 16 MiB through a peer reading 16 MiB/s: about a second in all, while each 256 KiB chunk
  // takes ~16 ms. One write of the whole backlog under a 200 ms deadline would fail.
  testing::FakeNsqd fake({.answer = true, .read_bytes_per_second = 16 << 20});
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.write_timeout = 200ms;
  // Ping and the async publishes on one connection (the fake serves one at a time).
  config.sync_publish_on_caller_thread = false;
  Producer producer(fake.address(), config);
  CLIENT_REQUIRE_OK(producer.Ping());
  constexpr int kBig = 200;      // 64 KiB each, moved in: written from where they are
  constexpr int kSmall = 20000;  // ~250 B each, copied into shared pieces
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  auto done = [&](absl::Status s) {
    if (s.ok()) {
      ++ok;
    } else if (failed++ == 0) {
      MESSAGE(s.ToString());
    }
  };
  for (int i = 0; i < kBig; ++i) {
    producer.PublishAsync("t", std::string(64 * 1024, 'x'), done);
    for (int k = 0; k < kSmall / kBig; ++k) producer.PublishAsync("t", std::string(200, 's'), done);
  }
  producer.Stop();
  CHECK(failed == 0);
  CHECK(ok == kBig + kSmall);
  CHECK(fake.messages() == kBig + kSmall);
  CHECK(fake.connections() == 1);
}

// ------------------------------------------------------------------ TLS, compression, AUTH

// Bodies that cross many reads and compression chunks: small, large and compressible, large
// and incompressible, and a batch. Returns how many messages were published.
int64_t PublishVariety(Producer& producer, const std::string& topic) {
  CLIENT_REQUIRE_OK(producer.Publish(topic, "small"));
  CLIENT_REQUIRE_OK(producer.Publish(topic, std::string(512 * 1024, 'x')));
  std::string noise(200 * 1024, '\0');
  uint32_t state = 12345;
  for (char& c : noise) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>(state >> 24);
  }
  CLIENT_REQUIRE_OK(producer.Publish(topic, noise));
  std::vector<std::string> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(absl::StrCat("batch message ", i));
  CLIENT_REQUIRE_OK(producer.MultiPublish(topic, batch));
  return 103;
}

// The one connection nsqd lists (these tests have a single client).
testing::ConnStat OnlyConn(const testutil::TestNsqd& nsqd) {
  std::vector<testing::ConnStat> conns = testing::ConnStats(nsqd);
  REQUIRE(conns.size() == 1);
  return conns[0];
}

Config TlsConfig(testing::LogRecorder& log) {
  Config config = log.MakeConfig();
  config.tls_v1 = true;
  config.tls_config.ca_file = testing::Certs().ca_cert;
  return config;
}

TEST_CASE("TLS verified against tls_config.ca_file: publishes arrive and /stats shows TLS") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), TlsConfig(log));
  const int64_t published = PublishVariety(producer, "tls");
  CHECK(Stat(*nsqd, "tls", "", "message_count") == published);
  const testing::ConnStat conn = OnlyConn(*nsqd);
  CHECK(conn.tls);
  CHECK(absl::StartsWith(conn.tls_version, "TLS1."));
  CHECK(!conn.snappy);
  CHECK(!conn.deflate);
  CHECK(log.Contains("upgraded to TLS"));
}

TEST_CASE("TLS: an untrusted certificate or another name fails; insecure_skip_verify connects") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  Config config = TlsConfig(log);
  SUBCASE("a CA that did not sign nsqd's certificate") {
    config.tls_config.ca_file = testing::Certs().rogue_cert;
    absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("t", "x");
    CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "TLS handshake with"), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "certificate verify failed"),
                  status.ToString());
    config.tls_config.insecure_skip_verify = true;
    CLIENT_CHECK_OK(Producer(NsqdAddress(*nsqd), config).Publish("t", "x"));
  }
  SUBCASE("the system's CAs (no ca_file)") {
    config.tls_config.ca_file.clear();
    absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("t", "x");
    CHECK_MESSAGE(absl::StrContains(status.message(), "certificate verify failed"),
                  status.ToString());
    config.tls_config.insecure_skip_verify = true;
    CLIENT_CHECK_OK(Producer(NsqdAddress(*nsqd), config).Publish("t", "x"));
  }
  SUBCASE("server_name: a name the certificate does not carry, then one it does") {
    config.tls_config.server_name = "nsqd.example.com";
    absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("t", "x");
    CHECK_MESSAGE(absl::StrContains(status.message(), "hostname mismatch"), status.ToString());
    config.tls_config.server_name = "localhost";
    CLIENT_CHECK_OK(Producer(NsqdAddress(*nsqd), config).Publish("t", "x"));
  }
}

TEST_CASE("TLS with a client certificate: require-verify accepts the CA-signed one only") {
  const testutil::TestCerts& certs = testing::Certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-client-auth-policy=require-verify");
  flags.push_back("--tls-root-ca-file=" + certs.ca_cert);
  flags.push_back("--tls-required=tcp-https");
  auto nsqd = StartNsqd(flags);
  testing::LogRecorder log;
  Config config = TlsConfig(log);
  {
    config.tls_config.cert_file = certs.client_cert;
    config.tls_config.key_file = certs.client_key;
    Producer producer(NsqdAddress(*nsqd), config);
    CLIENT_REQUIRE_OK(producer.Publish("mtls", "x"));
    const testing::ConnStat conn = OnlyConn(*nsqd);
    CHECK(conn.tls);
    CHECK_MESSAGE(absl::StrContains(conn.tls_client_cert_subject, "nsq-test-client"),
                  conn.tls_client_cert_subject);
  }
  {
    config.tls_config.cert_file = certs.rogue_cert;
    config.tls_config.key_file = certs.rogue_key;
    absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("mtls", "x");
    CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "TLS"), status.ToString());
  }
  {
    config.tls_config.cert_file.clear();
    config.tls_config.key_file.clear();
    absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("mtls", "x");
    CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "TLS"), status.ToString());
  }
  {
    // Without TLS nsqd refuses everything after IDENTIFY.
    absl::Status status = Producer(NsqdAddress(*nsqd), log.MakeConfig()).Publish("mtls", "x");
    CHECK_MESSAGE(absl::StrContains(status.message(), "TLS required"), status.ToString());
  }
  CHECK(Stat(*nsqd, "mtls", "", "message_count") == 1);
}

TEST_CASE("tls_v1 against an nsqd without TLS fails instead of going on in clear") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  absl::Status status = Producer(NsqdAddress(*nsqd), TlsConfig(log)).Publish("t", "x");
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
  CHECK_MESSAGE(absl::StrContains(status.message(), "did not agree to tls_v1"), status.ToString());
  CHECK(Stat(*nsqd, "t", "", "message_count") <= 0);
}

TEST_CASE("snappy and deflate (levels 6 and 1) compress the connection, alone and over TLS") {
  auto nsqd = StartNsqd(testing::Certs().NsqdFlags());
  testing::LogRecorder log;
  Config config = log.MakeConfig();
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
  Producer producer(NsqdAddress(*nsqd), config);
  const int64_t published = PublishVariety(producer, "compressed");
  CHECK(Stat(*nsqd, "compressed", "", "message_count") == published);
  const testing::ConnStat conn = OnlyConn(*nsqd);
  CHECK(conn.tls == config.tls_v1);
  CHECK(conn.snappy == snappy);
  CHECK(conn.deflate == !snappy);
  CHECK(log.Contains(snappy ? "upgraded to snappy" : "upgraded to deflate"));
}

TEST_CASE("nsqd declining compression leaves the connection uncompressed") {
  auto nsqd = StartNsqd({"--snappy=false", "--deflate=false"});
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.deflate = true;
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Publish("t", "x"));
  CHECK(!OnlyConn(*nsqd).deflate);
  CHECK(log.Contains("nsqd declined deflate"));
}

TEST_CASE("AUTH: a good secret publishes, a bad one is E_AUTH_FAILED, none is refused") {
  testutil::FakeAuthServer auth(testing::AuthAnswer);
  std::vector<std::string> flags = testing::Certs().NsqdFlags();
  flags.push_back("--auth-http-address=" + auth.address());
  auto nsqd = StartNsqd(flags);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  SUBCASE("in clear") {}
  SUBCASE("over TLS and deflate") {
    config = TlsConfig(log);
    config.deflate = true;
  }
  SUBCASE("over snappy") { config.snappy = true; }

  config.auth_secret = "good";
  {
    Producer producer(NsqdAddress(*nsqd), config);
    CLIENT_REQUIRE_OK(producer.Publish("authed", "x"));
    const testing::ConnStat conn = OnlyConn(*nsqd);
    CHECK(conn.authed);
    CHECK(conn.auth_identity == "good");
    CHECK(conn.tls == config.tls_v1);
    CHECK(log.Contains(R"(authenticated as "good" (https://id.example/good) with 1 permissions)"));
  }
  config.auth_secret = "wrong";
  absl::Status status = Producer(NsqdAddress(*nsqd), config).Publish("authed", "x");
  CHECK_MESSAGE(absl::IsPermissionDenied(status), status.ToString());
  CHECK_MESSAGE(absl::StrContains(status.message(), "E_AUTH_FAILED"), status.ToString());

  config.auth_secret.clear();
  status = Producer(NsqdAddress(*nsqd), config).Publish("authed", "x");
  CHECK_MESSAGE(absl::IsPermissionDenied(status), status.ToString());
  CHECK_MESSAGE(absl::StrContains(status.message(), "auth_secret is empty"), status.ToString());
  CHECK(Stat(*nsqd, "authed", "", "message_count") == 1);
}

// A one-connection stand-in for nsqd that negotiates `compression` ("snappy" or "deflate") and
// sends the IDENTIFY reply and the compressed OK in a single write, so they reach the client
// together. Then, with `corrupt`, garbage in place of the compressed stream; without, it
// answers one PUB (decompressed) with a compressed OK.
class CompressingFakeNsqd {
 public:
  CompressingFakeNsqd(std::string compression, bool corrupt)
      : compression_(std::move(compression)), corrupt_(corrupt) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(listen(fd_, 4) == 0);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CompressingFakeNsqd() {
    Finish();
    close(fd_);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // Waits until the connection is over (the client closed it); returns what the client sent
  // after IDENTIFY, decompressed.
  std::string Finish() {
    shutdown(fd_, SHUT_RDWR);  // if no client ever came
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  static bool ReadExactly(int fd, char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = read(fd, data, size);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  void Serve() {
    const int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    // "  V2" "IDENTIFY\n" [size] [json]
    char head[4 + 9 + 4];
    if (ReadExactly(conn, head, sizeof(head))) {
      std::string body(protocol::LoadBigEndian32(head + 13), '\0');
      if (ReadExactly(conn, body.data(), body.size())) Answer(conn);
    }
    close(conn);
  }

  void Answer(int conn) {
    const bool snappy = compression_ == "snappy";
    std::unique_ptr<protocol::StreamCompressor> tx =
        snappy ? protocol::NewSnappyCompressor() : protocol::NewDeflateCompressor(6);
    std::unique_ptr<protocol::StreamDecompressor> rx =
        snappy ? protocol::NewSnappyDecompressor() : protocol::NewDeflateDecompressor();
    std::string ok;
    protocol::AppendFrame(protocol::FrameType::kResponse, "OK", &ok);
    std::string out;
    protocol::AppendFrame(protocol::FrameType::kResponse,
                          absl::StrCat(R"({"max_rdy_count":2500,")", compression_, R"(":true})"),
                          &out);
    if (corrupt_) {
      // 0x07: a reserved chunk type for snappy, the reserved block type 11 for deflate.
      out.append("\x07 is not the start of a compressed stream");
    } else if (!tx->Write(ok, &out).ok()) {
      return;
    }
    if (write(conn, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return;
    // PUB t\n [size 1] x
    const size_t pub_size = 6 + 4 + 1;
    char buffer[4096];
    while (received_.size() < pub_size) {
      const ssize_t n = read(conn, buffer, sizeof(buffer));
      if (n <= 0) return;
      rx->Feed(std::string_view(buffer, static_cast<size_t>(n)));
      while (true) {
        absl::StatusOr<size_t> got = rx->Read(sizeof(buffer), &received_);
        if (!got.ok() || *got == 0) break;
      }
    }
    out.clear();
    if (!tx->Write(ok, &out).ok()) return;
    (void)!write(conn, out.data(), out.size());
    // Until the client closes.
    while (read(conn, buffer, sizeof(buffer)) > 0) {
    }
  }

  const std::string compression_;
  const bool corrupt_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string received_;
  std::thread thread_;
};

TEST_CASE("Compressed bytes sent with the IDENTIFY reply are read; garbage there is DataLoss") {
  std::string compression;
  SUBCASE("snappy") { compression = "snappy"; }
  SUBCASE("deflate") { compression = "deflate"; }
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.snappy = compression == "snappy";
  config.deflate = !config.snappy;
  {
    CompressingFakeNsqd fake(compression, /*corrupt=*/false);
    Producer producer(fake.address(), config);
    CLIENT_CHECK_OK(producer.Publish("t", "x"));
    producer.Stop();
    std::string pub;
    protocol::EncodePub("t", "x", &pub);
    CHECK(fake.Finish() == pub);
  }
  CompressingFakeNsqd fake(compression, /*corrupt=*/true);
  absl::Status status = Producer(fake.address(), config).Publish("t", "x");
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
  CHECK_MESSAGE(
      absl::StrContains(status.message(), "DATA_LOSS: corrupt " + compression + " stream: "),
      status.ToString());
  CHECK_MESSAGE(absl::StrContains(status.message(), "(from " + fake.address() + ")"),
                status.ToString());
}

}  // namespace
}  // namespace nsq::client
