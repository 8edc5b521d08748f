#include "nsqd/broker/latency_window.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace nsq::nsqd {
namespace {

// Values below kExact are counted one bucket each; above, each power of two [2^e, 2^(e+1))
// is split into kExact equal buckets.
constexpr int kExactBits = 6;
constexpr uint64_t kExact = uint64_t{1} << kExactBits;  // 64
constexpr size_t kBuckets = kExact + (64 - kExactBits) * kExact;

size_t BucketOf(uint64_t value) {
  if (value < kExact) return static_cast<size_t>(value);
  const int exponent = 63 - std::countl_zero(value);  // >= kExactBits
  const uint64_t sub = (value >> (exponent - kExactBits)) & (kExact - 1);
  return static_cast<size_t>(kExact + (exponent - kExactBits) * kExact + sub);
}

// The middle of the values a bucket holds.
double BucketMiddle(size_t bucket) {
  if (bucket < kExact) return static_cast<double>(bucket);
  const size_t above = bucket - kExact;
  const int exponent = static_cast<int>(above / kExact) + kExactBits;
  const uint64_t sub = above % kExact;
  const double width = std::ldexp(1.0, exponent - kExactBits);
  const double low = std::ldexp(1.0, exponent) + static_cast<double>(sub) * width;
  return low + width / 2;
}

}  // namespace

void LatencyHistogram::Add(int64_t latency_ns) {
  const uint64_t value = latency_ns > 0 ? static_cast<uint64_t>(latency_ns) : 0;
  if (buckets_.empty()) buckets_.assign(kBuckets, 0);
  ++buckets_[BucketOf(value)];
  ++count_;
  max_ = std::max(max_, static_cast<int64_t>(value));
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (buckets_.empty()) buckets_.assign(kBuckets, 0);
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  max_ = 0;
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1) return static_cast<double>(max_);
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(BucketMiddle(i), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

void LatencyWindow::Add(int64_t now_ns, int64_t latency_ns) {
  Advance(now_ns);
  current_.Add(latency_ns);
}

LatencyHistogram LatencyWindow::Snapshot(int64_t now_ns) {
  Advance(now_ns);
  LatencyHistogram both = previous_;
  both.Merge(current_);
  return both;
}

void LatencyWindow::Advance(int64_t now_ns) {
  if (current_started_ns_ < 0) {
    current_started_ns_ = now_ns;
    return;
  }
  const int64_t age = now_ns - current_started_ns_;
  if (age < half_ns_) return;
  // The current half is done and the one before it drops out; after a whole window without
  // adds, both are too old.
  std::swap(previous_, current_);
  if (age >= 2 * half_ns_) previous_.Clear();
  current_.Clear();
  current_started_ns_ = now_ns - (age % half_ns_);
}

}  // namespace nsq::nsqd
