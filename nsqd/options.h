// NsqdOptions: every setting of nsqd, with NSQ's defaults. The comment on each field names the
// flag (and TOML config key) that sets it; this struct doubles as the configuration reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nsq::nsqd {

struct NsqdOptions {
  // --log-level (log_level): debug, info, warn, error, fatal.
  std::string log_level = "info";
  // --log-prefix (log_prefix).
  std::string log_prefix = "[nsqd] ";
  // --node-id (id): seeds message ids; [0, 1024). Default: CRC32(MD5(hostname)) % 1024.
  int64_t node_id = 0;

  // --tcp-address (tcp_address): protocol V2 listener.
  std::string tcp_address = "0.0.0.0:4150";
  // --http-address (http_address): HTTP API; empty disables it.
  std::string http_address = "0.0.0.0:4151";
  // --https-address (https_address): the HTTP API over TLS; as in nsqd, opened only with
  // --tls-cert and --tls-key.
  std::string https_address = "0.0.0.0:4152";
  // --broadcast-address (broadcast_address): what lookupd advertises. Default: hostname.
  std::string broadcast_address;
  // --broadcast-tcp-port / --broadcast-http-port: 0 means the actual listening port.
  int64_t broadcast_tcp_port = 0;
  int64_t broadcast_http_port = 0;
  // --lookupd-tcp-address (nsqlookupd_tcp_addresses), repeatable.
  std::vector<std::string> nsqlookupd_tcp_addresses;

  // --data-path (data_path): where durable state lives. Empty: the current directory.
  std::string data_path;
  // --mem-queue-size (mem_queue_size): messages kept in memory per topic and per channel.
  int64_t mem_queue_size = 10000;
  // --max-bytes-per-file (max_bytes_per_file): nsqd's disk queue file size. Our store has no
  // rolling files, so only the default is accepted (another value is refused at startup).
  int64_t max_bytes_per_file = 104857600;
  // --sync-every (sync_every) and --sync-timeout (sync_timeout): store sync policy.
  int64_t sync_every = 2500;
  absl::Duration sync_timeout = absl::Seconds(2);

  // --msg-timeout (msg_timeout): default in-flight timeout.
  absl::Duration msg_timeout = absl::Seconds(60);
  // --max-msg-timeout (max_msg_timeout): cap for IDENTIFY msg_timeout and TOUCH.
  absl::Duration max_msg_timeout = absl::Minutes(15);
  // --max-msg-size (max_msg_size): a single message body.
  int64_t max_msg_size = 1048576;
  // --max-body-size (max_body_size): IDENTIFY/AUTH/MPUB body.
  int64_t max_body_size = 5242880;
  // --max-req-timeout (max_req_timeout): REQ clamp, DPUB and HTTP defer bound.
  absl::Duration max_req_timeout = absl::Hours(1);
  // --max-heartbeat-interval (max_heartbeat_interval).
  absl::Duration max_heartbeat_interval = absl::Seconds(60);
  // --max-rdy-count (max_rdy_count).
  int64_t max_rdy_count = 2500;
  // --max-output-buffer-size / --max-output-buffer-timeout / --min-output-buffer-timeout.
  int64_t max_output_buffer_size = 65536;
  absl::Duration max_output_buffer_timeout = absl::Seconds(30);
  absl::Duration min_output_buffer_timeout = absl::Milliseconds(25);
  // --output-buffer-timeout (output_buffer_timeout): the default flush timer.
  absl::Duration output_buffer_timeout = absl::Milliseconds(250);
  // --max-channel-consumers (max_channel_consumers): 0 = unlimited.
  int64_t max_channel_consumers = 0;

  // --deflate / --snappy: offer compression to clients (IDENTIFY deflate / snappy);
  // --max-deflate-level caps the level a client may ask for.
  bool deflate = true;
  int64_t max_deflate_level = 6;
  bool snappy = true;
  // TLS: --tls-cert and --tls-key enable it (IDENTIFY tls_v1, --https-address);
  // --tls-root-ca-file verifies client certificates (--tls-client-auth-policy=require-verify);
  // --tls-required=true makes every TCP client upgrade before any other command and closes
  // plain HTTP (403 TLS_REQUIRED), tcp-https only the first; --tls-min-version.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_root_ca_file;
  std::string tls_required = "false";
  std::string tls_min_version = "tls1.0";
  std::string tls_client_auth_policy;

  // --auth-http-address (auth_http_addresses): auth servers; with them every client must AUTH
  // before SUB/PUB/MPUB/DPUB (without: AUTH answers E_AUTH_DISABLED). --http-client-*-timeout
  // bound nsqd's outbound HTTP requests (auth servers, GET /channels on nsqlookupd).
  std::vector<std::string> auth_http_addresses;
  std::string auth_http_request_method = "get";
  absl::Duration http_client_connect_timeout = absl::Seconds(2);
  absl::Duration http_client_request_timeout = absl::Seconds(5);

  // --statsd-address turns the statsd pusher on (nsqd/statsd/statsd_pusher.h, the names it
  // sends in statsd_report.h); the other statsd flags only matter with it, as the e2e window
  // only matters with percentiles (as in nsqd).
  // --queue-scan-*: nsqd's timeout scanner; ours fires exact timers, so only the defaults are
  // accepted. --topology-region/zone are registered with nsqlookupd and shown in /stats, and
  // with --enable-experiment=topology-aware-consumption steer deliveries (the one experiment).
  std::string statsd_address;
  std::string statsd_prefix = "nsq.%s";
  absl::Duration statsd_interval = absl::Seconds(60);
  bool statsd_mem_stats = true;
  int64_t statsd_udp_packet_size = 508;
  bool statsd_exclude_ephemeral = false;
  std::vector<std::string> e2e_processing_latency_percentiles;  // as given, for /config
  std::vector<double> e2e_quantiles;  // the same, parsed, largest first (empty: off)
  absl::Duration e2e_processing_latency_window_time = absl::Minutes(10);
  int64_t queue_scan_worker_pool_max = 4;
  int64_t queue_scan_selection_count = 20;
  std::string topology_region;
  std::string topology_zone;
  std::vector<std::string> enable_experiment;
  // Event-loop threads (shards): each owns the topics that hash to it and serves a share of the
  // TCP connections (sockets, TLS, compression, decoding); shard 0 also runs HTTP and lookupd.
  // nsqd's command line defaults to the CPUs it may run on.
  int64_t worker_threads = 1;
  // How long an event loop keeps polling after it last had work before it sleeps (0: never).
  absl::Duration busy_poll = absl::ZeroDuration();

  // --enable-experiment=topology-aware-consumption: consumers in nsqd's zone, then region, are
  // offered messages first.
  bool TopologyAware() const {
    for (const std::string& experiment : enable_experiment) {
      if (experiment == "topology-aware-consumption") return true;
    }
    return false;
  }

  // Not settable: the client timeout; the default heartbeat interval is half of it.
  absl::Duration client_timeout = absl::Seconds(60);
};

}  // namespace nsq::nsqd
