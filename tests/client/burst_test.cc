// A long async burst through one Producer against our nsqd: every publish is acknowledged and
// the producer's memory stays bounded by its outstanding limit, however far the caller runs
// ahead. Its own binary, so the process's memory is the burst's.
//
// 10,000,000 messages of 16 bytes, pipelined PUBs (no MPUB): about 4.5 s on the 2-core machine
// (2.3 M msg/s). Under a sanitizer, 1,000,000 (TSAN slows the hand-offs tenfold or more).
// NSQ_CLIENT_BURST_MESSAGES overrides the count.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::StartNsqd;
using testing::Stat;

// Resident memory of this process in KiB (VmRSS), or -1.
int64_t ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed memory in a quarantine (256 MiB by default) to catch use after free, and RSS
// would count it as the burst's: a small one here lets the bound below measure the producer.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=4"; }
#endif

int64_t BurstMessages() {
  const char* env = std::getenv("NSQ_CLIENT_BURST_MESSAGES");
  if (env != nullptr) return std::strtoll(env, nullptr, 10);
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return 1000000;
#else
  return 10000000;
#endif
}

TEST_CASE("An async burst with a small limit: every publish acknowledged, memory bounded") {
  const int64_t count = BurstMessages();
  // An ephemeral topic without channels: nsqd counts the messages and drops what exceeds its
  // memory queue, so nsqd's memory stays small too.
  const std::string topic = "burst#ephemeral";
  auto nsqd = StartNsqd();
  Config config;
  config.log_level = LogLevel::kWarning;
  config.max_outstanding_messages = 10000;
  config.max_outstanding_bytes = 1 << 20;
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Ping());

  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  std::atomic<uint64_t> max_outstanding{0};
  const int64_t rss_before = ResidentKib();
  int64_t rss_peak = rss_before;
  const auto start = std::chrono::steady_clock::now();
  const std::string body = "burst message 16";
  for (int64_t i = 0; i < count; ++i) {
    producer.PublishAsync(topic, body, [&](absl::Status s) {
      if (s.ok()) {
        ok.fetch_add(1, std::memory_order_relaxed);
      } else if (failed.fetch_add(1) == 0) {
        MESSAGE("first failure: ", s.ToString());
      }
    });
    if ((i & 0xffff) == 0) {
      max_outstanding = std::max<uint64_t>(max_outstanding, producer.Outstanding());
      rss_peak = std::max(rss_peak, ResidentKib());
    }
  }
  producer.Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(count, " messages in ", seconds, " s (", static_cast<int64_t>(count / seconds),
          " msg/s); RSS ", rss_before, " KiB before, peak ", rss_peak, " KiB");
  CHECK(failed == 0);
  CHECK(ok == count);
  CHECK(max_outstanding <= 10000);
  CHECK(producer.Stats().published == static_cast<uint64_t>(count));
  CHECK(Stat(*nsqd, topic, "", "message_count") == count);
  // Unbounded, the queued commands alone would be count * ~40 bytes (400 MB for 10 M).
  CHECK(rss_peak - rss_before < 64 * 1024);
}

}  // namespace
}  // namespace nsq::client
