// Renders GET /metrics: nsqd's figures in the Prometheus text exposition format 0.0.4. Pure:
// a function over a snapshot (the broker's stats, the store's counters, the process figures),
// written with common/http/prometheus_text.h. Internal to nsqd/http.
//
//   MetricsPage page{.stats = &broker_stats, .process = util::ReadProcessStats(), ...};
//   HttpResponse response = http::PrometheusResponse(MetricsText(page));
//
// Names follow Prometheus conventions: nsq_<what>[_<unit>], counters end in _total, base units
// (seconds, bytes), labels `topic` and `channel`. docs/operations.md lists them all with what
// to alert on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/http/prometheus_text.h"
#include "common/util/process_stats.h"
#include "nsqd/broker/broker.h"
#include "nsqd/storage/group_commit_writer.h"
#include "nsqd/storage/store.h"

namespace nsq::nsqd {

// The store's figures (absent without a store, as in unit tests of the API).
struct StoreMetrics {
  storage::GroupCommitStats writer;
  // Store::GetInMemoryStats: table files, memtables, compactions. The WAL's size is left out
  // (listing the WAL opens every log file, and /metrics is answered on the event loop).
  storage::StoreStats files;
};

// The statsd pusher's own counters (absent without --statsd-address).
struct StatsdMetrics {
  uint64_t pushes = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_dropped = 0;  // the socket would have blocked
  uint64_t send_errors = 0;      // any other failure (no route, refused, resolution)
};

struct MetricsPage {
  std::string version;             // "1.3.0"
  bool healthy = true;             // what /ping says
  int64_t start_time = 0;          // Unix seconds
  int64_t now_ns = 0;              // Unix ns, for the uptime
  const BrokerStats* stats = nullptr;  // without clients
  std::optional<StoreMetrics> store;
  std::optional<StatsdMetrics> statsd;
  util::ProcessStats process;
};

http::PrometheusText MetricsText(const MetricsPage& page);

}  // namespace nsq::nsqd
