// LatencyHistogram and LatencyWindow (nsqd/broker/latency_window.h): percentiles within the
// promised 0.8 %, merging, and the two half-windows sliding along.
#include "nsqd/broker/latency_window.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

namespace nsq::nsqd {
namespace {

constexpr int64_t kMs = 1'000'000;

bool Near(double got, double want) { return std::abs(got - want) <= want / 128 + 1; }

TEST_CASE("percentiles of 1..100000 ns are within 1/128 of the exact ones") {
  LatencyHistogram histogram;
  for (int64_t v = 1; v <= 100000; ++v) histogram.Add(v);
  CHECK(histogram.count() == 100000);
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999}) {
    CAPTURE(q);
    CHECK(Near(histogram.Quantile(q), q * 100000));
  }
  CHECK(histogram.Quantile(1.0) == 100000);  // the exact maximum
}

TEST_CASE("small values are exact, large ones and negatives are handled") {
  LatencyHistogram histogram;
  for (int64_t v : {3, 3, 3, 7}) histogram.Add(v);
  CHECK(histogram.Quantile(0.5) == 3);
  CHECK(histogram.Quantile(0.75) == 3);
  CHECK(histogram.Quantile(1.0) == 7);
  histogram.Add(-5);  // a publisher clock ahead of ours: counted as 0
  CHECK(histogram.Quantile(0.2) == 0);
  histogram.Add(int64_t{1} << 62);
  CHECK(histogram.Quantile(1.0) == static_cast<double>(int64_t{1} << 62));
  CHECK(LatencyHistogram().Quantile(0.99) == 0);  // empty
}

TEST_CASE("merged histograms answer as one holding both") {
  LatencyHistogram fast;
  LatencyHistogram slow;
  for (int i = 0; i < 90; ++i) fast.Add(1 * kMs);
  for (int i = 0; i < 10; ++i) slow.Add(500 * kMs);
  fast.Merge(slow);
  CHECK(fast.count() == 100);
  CHECK(Near(fast.Quantile(0.9), 1 * kMs));
  CHECK(Near(fast.Quantile(0.95), 500 * kMs));
}

TEST_CASE("the window keeps the current and the previous half, then forgets") {
  const int64_t window = 10'000 * kMs;  // 10 s: halves of 5 s
  LatencyWindow latencies(window);
  int64_t now = 1'000'000 * kMs;
  latencies.Add(now, 100 * kMs);
  CHECK(latencies.Snapshot(now).count() == 1);

  now += 6'000 * kMs;  // into the second half: the first add is in the previous half
  latencies.Add(now, 200 * kMs);
  LatencyHistogram both = latencies.Snapshot(now);
  CHECK(both.count() == 2);
  CHECK(both.Quantile(1.0) == 200 * kMs);

  now += 5'000 * kMs;  // the first half drops out
  CHECK(latencies.Snapshot(now).count() == 1);
  now += 10'000 * kMs;  // a whole window with nothing: empty
  CHECK(latencies.Snapshot(now).count() == 0);
  latencies.Add(now, 1 * kMs);
  CHECK(latencies.Snapshot(now).count() == 1);
}

}  // namespace
}  // namespace nsq::nsqd
