// What nsqd pushes to statsd every --statsd-interval, as text: the lines of one push under
// nsqd's names and types, and their packing into UDP packets. Pure (no sockets, no clocks);
// statsd_pusher.h sends what this builds.
//
//   StatsdReport report({.prefix = StatsdPrefix("nsq.%s", "host.local", 4151)});
//   std::vector<std::string> lines = report.Lines(broker.Stats("", "", false), &process);
//   for (const std::string& packet : PackStatsdPackets(lines, 508)) Send(packet);
//
// Lines as nsqd's statsd client writes them, "<prefix><name>:<value>|<type>\n":
//   topic.<t>.message_count, topic.<t>.message_bytes                      |c (since last push)
//   topic.<t>.depth, topic.<t>.backend_depth                               |g
//   topic.<t>.e2e_processing_latency_<q*100>                               |g (nanoseconds)
//   topic.<t>.channel.<c>.message_count, .requeue_count, .timeout_count    |c
//   topic.<t>.channel.<c>.disconnect_requeue_count                          |c (ours: the part
//       of requeue_count whose consumer went away)
//   topic.<t>.channel.<c>.depth, .backend_depth, .in_flight_count, .deferred_count, .clients,
//       .e2e_processing_latency_<q*100>                                    |g
//   mem.heap_in_use_bytes, mem.heap_idle_bytes (glibc's allocator), mem.resident_bytes (RSS)
//                                                                          |g (--statsd-mem-stats)
// nsqd's Go runtime figures (mem.heap_objects, mem.gc_*, mem.next_gc_bytes, ...) have no
// counterpart here and are not sent.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nsqd/broker/broker.h"

namespace nsq::nsqd {

// nsqd's statsd.HostKey: "host.example:4151" -> "host_example_4151".
std::string StatsdHostKey(std::string_view host_port);

// --statsd-prefix as nsqd expands it: every "%s" becomes the host key of
// <broadcast address>:<broadcast HTTP port>, and a '.' is appended unless it ends in one.
// An empty pattern stays empty (names without a prefix).
std::string StatsdPrefix(std::string_view pattern, std::string_view broadcast_address,
                         int http_port);

// The memory figures sent with --statsd-mem-stats.
struct StatsdMemStats {
  uint64_t heap_in_use_bytes = 0;
  uint64_t heap_idle_bytes = 0;
  uint64_t resident_bytes = 0;
};

struct StatsdReportOptions {
  std::string prefix;              // already expanded (StatsdPrefix)
  bool exclude_ephemeral = false;  // --statsd-exclude-ephemeral
};

// Builds the lines of each push. Keeps the counters of the previous push, so that counters go
// out as deltas ("|c"), as nsqd does; a topic or channel seen for the first time counts from 0.
// One instance per destination, used from one thread.
class StatsdReport {
 public:
  explicit StatsdReport(StatsdReportOptions options) : options_(std::move(options)) {}

  // The lines of one push. `mem` is null without --statsd-mem-stats.
  std::vector<std::string> Lines(const BrokerStats& stats, const StatsdMemStats* mem);

 private:
  // The counters of one topic or channel at the last push.
  struct Counts {
    uint64_t message_count = 0;
    uint64_t message_bytes = 0;
    uint64_t requeue_count = 0;
    uint64_t disconnect_requeue_count = 0;
    uint64_t timeout_count = 0;
  };

  const StatsdReportOptions options_;
  std::map<std::string, Counts> last_topics_;                         // by topic
  std::map<std::pair<std::string, std::string>, Counts> last_channels_;  // by (topic, channel)
};

// Packs whole lines into packets of at most `packet_size` bytes, in order, as nsqd's
// boundary-buffered writer does; a line longer than a packet goes alone in one of its own.
std::vector<std::string> PackStatsdPackets(const std::vector<std::string>& lines,
                                           size_t packet_size);

}  // namespace nsq::nsqd
