// StatsdPusher: nsqd's --statsd-address. Every --statsd-interval it takes every shard's stats,
// builds the push (statsd_report.h) and sends it over UDP in packets of at most
// --statsd-udp-packet-size bytes, spread over the interval minus one second as nsqd spreads
// them (all at once when the interval is 1 s or less).
//
//   StatsdPusher pusher(&io, &brokers, {.address = "127.0.0.1:8125", .prefix = "nsq.host_4151."});
//   pusher.Start();
//   ...
//   pusher.Stop();  // before the loop is expected to run out of work
//
// Never blocks the event loop: the address is resolved asynchronously at each push (as nsqd
// dials at each push, so a changed DNS entry is followed), the socket is non-blocking, and a
// packet the socket cannot take at once is dropped and counted (metrics()).
//
// Lifecycle: owned by the daemon; lives on the loop thread of `io` (shard 0's), which runs
// all of its work; Stop() cancels what is pending. Must not outlive `io` or `brokers`.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/http/metrics_format.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace nsq::nsqd {

class Broker;

struct StatsdPusherOptions {
  std::string address;  // host:port of the statsd daemon (UDP)
  std::string prefix;   // expanded (StatsdPrefix), e.g. "nsq.host_4151."
  // Time between pushes. Default: 60 s.
  absl::Duration interval = absl::Seconds(60);
  // Send mem.heap_in_use_bytes, mem.heap_idle_bytes and mem.resident_bytes. Default: true.
  bool mem_stats = true;
  // Largest UDP payload. Default: 508 (fits any path without IP fragmentation).
  size_t packet_size = 508;
  // Leave #ephemeral topics and channels out. Default: false.
  bool exclude_ephemeral = false;
};

class StatsdPusher {
 public:
  StatsdPusher(boost::asio::io_context* io, BrokerSet* brokers, StatsdPusherOptions options);
  ~StatsdPusher();
  StatsdPusher(const StatsdPusher&) = delete;
  StatsdPusher& operator=(const StatsdPusher&) = delete;

  // Schedules the first push one interval from now.
  void Start();
  // Cancels the timers, the resolution and what was not sent yet.
  void Stop();

  // Pushes, packets sent, dropped and failed so far (for /metrics).
  StatsdMetrics metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::nsqd
