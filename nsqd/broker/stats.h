// Snapshots of broker state for /stats (JSON and text) and tests. Field names follow nsqd's
// JSON so the HTTP layer maps them one to one.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/net/tls_context.h"

namespace nsq::nsqd {

struct PubCount {
  std::string topic;
  uint64_t count = 0;
};

struct ClientStats {
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  std::string version = "V2";
  std::string remote_address;  // ip:port
  int state = 0;               // 0 init, 3 subscribed, 4 closing
  int64_t ready_count = 0;
  int64_t in_flight_count = 0;
  uint64_t message_count = 0;
  uint64_t finish_count = 0;
  uint64_t requeue_count = 0;
  int64_t connect_ts = 0;  // Unix seconds
  int64_t sample_rate = 0;
  bool deflate = false;
  bool snappy = false;
  bool tls = false;
  net::TlsSessionInfo tls_info;  // version, cipher suite, client certificate
  bool authed = false;
  std::string auth_identity;
  std::string auth_identity_url;
  std::vector<PubCount> pub_counts;
  std::string topology_region;
  std::string topology_zone;
};

// End-to-end processing latency (publish to FIN) over --e2e-processing-latency-window-time.
struct LatencySummary {
  uint64_t count = 0;
  std::vector<std::pair<double, double>> percentiles;  // (quantile, ns), largest quantile first
};

struct ChannelStats {
  std::string channel_name;
  int64_t depth = 0;          // memory + store (in-flight and deferred not included)
  int64_t backend_depth = 0;  // the store part
  int64_t in_flight_count = 0;
  int64_t deferred_count = 0;
  uint64_t message_count = 0;
  uint64_t requeue_count = 0;  // includes disconnect_requeue_count
  // In-flight messages put back because their consumer went away (not in /stats JSON, which
  // has no such field in nsqd; metrics export it).
  uint64_t disconnect_requeue_count = 0;
  uint64_t timeout_count = 0;
  // Every delivery (redeliveries too), by the consumer's locality; all global unless the
  // topology-aware experiment is on. Omitted from /stats JSON when 0, as nsqd.
  uint64_t zone_local_msg_count = 0;
  uint64_t region_local_msg_count = 0;
  uint64_t global_msg_count = 0;
  int64_t client_count = 0;
  std::vector<ClientStats> clients;
  bool paused = false;
  LatencySummary e2e;  // empty unless --e2e-processing-latency-percentile
};

struct TopicStats {
  std::string topic_name;
  std::vector<ChannelStats> channels;  // sorted by name
  int64_t depth = 0;
  int64_t backend_depth = 0;
  uint64_t message_count = 0;
  uint64_t message_bytes = 0;
  bool paused = false;
  LatencySummary e2e;  // all its channels' latencies together
};

}  // namespace nsq::nsqd
