// End-to-end processing latency (publish time to FIN) over a sliding window, for nsqd's
// --e2e-processing-latency-percentile / --e2e-processing-latency-window-time.
//
// LatencyHistogram keeps counts in log-linear buckets: values below 64 ns exactly, above that
// 64 buckets per power of two, so any percentile it reports is within 1/128 (0.8 %) of a value
// that was added; its memory is fixed (15 KB, allocated on the first Add) whatever the rate,
// where nsqd's targeted-quantile streams grow with the data.
//
// LatencyWindow holds two histograms of half a window each, as nsqd's quantile.Quantile holds
// two streams: Add goes to the current half; once it is half a window old it becomes the
// previous one and a fresh half starts; a snapshot merges both. So a snapshot covers between
// half a window and a whole one.
//
//   LatencyWindow window(/*window_ns=*/600'000'000'000);
//   window.Add(now_ns, now_ns - message.timestamp_ns);
//   LatencyHistogram h = window.Snapshot(now_ns);
//   double p99 = h.Quantile(0.99);   // ns
#pragma once

#include <cstdint>
#include <vector>

namespace nsq::nsqd {

class LatencyHistogram {
 public:
  // Negative latencies (a publisher's clock ahead of ours) count as 0.
  void Add(int64_t latency_ns);
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // The smallest value v such that at least q of the values are <= v (0 < q <= 1), to within
  // the bucket's width (the exact maximum for q == 1); 0 when empty.
  double Quantile(double q) const;

 private:
  std::vector<uint64_t> buckets_;  // empty until the first Add
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

class LatencyWindow {
 public:
  explicit LatencyWindow(int64_t window_ns) : half_ns_(window_ns / 2 > 0 ? window_ns / 2 : 1) {}

  void Add(int64_t now_ns, int64_t latency_ns);
  // Everything added during the last window (the current half and the previous one).
  LatencyHistogram Snapshot(int64_t now_ns);

 private:
  // Moves the halves along to `now_ns`.
  void Advance(int64_t now_ns);

  int64_t half_ns_;
  int64_t current_started_ns_ = -1;  // -1: nothing added yet
  LatencyHistogram current_;
  LatencyHistogram previous_;
};

}  // namespace nsq::nsqd
