#include "nsqd/http/metrics_format.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/http/prometheus_text.h"

namespace nsq::nsqd {
namespace {

using http::MetricLabel;
using http::MetricType;
using http::PrometheusText;

constexpr double kNanosPerSecond = 1e9;

// One family with a sample per topic.
template <typename Value>
void TopicFamily(PrometheusText* out, const BrokerStats& stats, std::string_view name,
                 MetricType type, std::string_view help, Value value) {
  out->Family(name, type, help);
  for (const TopicStats& topic : stats.topics) {
    out->Sample({{"topic", topic.topic_name}}, value(topic));
  }
}

// One family with a sample per channel.
template <typename Value>
void ChannelFamily(PrometheusText* out, const BrokerStats& stats, std::string_view name,
                   MetricType type, std::string_view help, Value value) {
  out->Family(name, type, help);
  for (const TopicStats& topic : stats.topics) {
    for (const ChannelStats& channel : topic.channels) {
      out->Sample({{"topic", topic.topic_name}, {"channel", channel.channel_name}},
                  value(channel));
    }
  }
}

// The e2e quantiles of one topic or channel: a sample per quantile, in seconds.
void LatencySamples(PrometheusText* out, std::vector<MetricLabel> labels,
                    const LatencySummary& e2e) {
  labels.push_back({});
  for (const auto& [quantile, nanos] : e2e.percentiles) {
    const std::string q = http::FormatPrometheusValue(quantile);
    labels.back() = MetricLabel{"quantile", q};
    out->Sample(labels, nanos / kNanosPerSecond);
  }
}

bool AnyLatency(const BrokerStats& stats) {
  for (const TopicStats& topic : stats.topics) {
    if (!topic.e2e.percentiles.empty()) return true;
  }
  return false;
}

void TopicMetrics(PrometheusText* out, const BrokerStats& stats) {
  TopicFamily(out, stats, "nsq_topic_depth", MetricType::kGauge,
              "Messages queued in the topic, in memory and in the store, not yet copied to its "
              "channels.",
              [](const TopicStats& t) { return t.depth; });
  TopicFamily(out, stats, "nsq_topic_backend_depth", MetricType::kGauge,
              "The part of nsq_topic_depth held in the store.",
              [](const TopicStats& t) { return t.backend_depth; });
  TopicFamily(out, stats, "nsq_topic_messages_total", MetricType::kCounter,
              "Messages published to the topic.",
              [](const TopicStats& t) { return t.message_count; });
  TopicFamily(out, stats, "nsq_topic_message_bytes_total", MetricType::kCounter,
              "Bytes of message bodies published to the topic.",
              [](const TopicStats& t) { return t.message_bytes; });
  TopicFamily(out, stats, "nsq_topic_paused", MetricType::kGauge,
              "1 while the topic is paused.", [](const TopicStats& t) { return t.paused ? 1 : 0; });
  if (!AnyLatency(stats)) return;
  out->Family("nsq_topic_e2e_processing_latency_seconds", MetricType::kGauge,
              "Publish-to-FIN latency quantiles of the topic's channels together, over "
              "--e2e-processing-latency-window-time.");
  for (const TopicStats& topic : stats.topics) {
    LatencySamples(out, {{"topic", topic.topic_name}}, topic.e2e);
  }
  TopicFamily(out, stats, "nsq_topic_e2e_processing_latency_samples", MetricType::kGauge,
              "FINs within the latency window (what the quantiles are computed over).",
              [](const TopicStats& t) { return t.e2e.count; });
}

void ChannelMetrics(PrometheusText* out, const BrokerStats& stats) {
  ChannelFamily(out, stats, "nsq_channel_depth", MetricType::kGauge,
                "Messages queued in the channel, in memory and in the store (in-flight and "
                "deferred ones not included).",
                [](const ChannelStats& c) { return c.depth; });
  ChannelFamily(out, stats, "nsq_channel_backend_depth", MetricType::kGauge,
                "The part of nsq_channel_depth held in the store.",
                [](const ChannelStats& c) { return c.backend_depth; });
  ChannelFamily(out, stats, "nsq_channel_in_flight", MetricType::kGauge,
                "Messages sent to consumers and not yet finished, requeued or timed out.",
                [](const ChannelStats& c) { return c.in_flight_count; });
  ChannelFamily(out, stats, "nsq_channel_deferred", MetricType::kGauge,
                "Messages waiting for their defer or requeue delay to pass.",
                [](const ChannelStats& c) { return c.deferred_count; });
  ChannelFamily(out, stats, "nsq_channel_clients", MetricType::kGauge,
                "Consumers subscribed to the channel.",
                [](const ChannelStats& c) { return c.client_count; });
  ChannelFamily(out, stats, "nsq_channel_paused", MetricType::kGauge,
                "1 while the channel is paused.",
                [](const ChannelStats& c) { return c.paused ? 1 : 0; });
  ChannelFamily(out, stats, "nsq_channel_messages_total", MetricType::kCounter,
                "Messages the channel received from its topic.",
                [](const ChannelStats& c) { return c.message_count; });
  ChannelFamily(out, stats, "nsq_channel_requeues_total", MetricType::kCounter,
                "Messages put back in the queue: REQ, and in-flight messages of a consumer that "
                "went away.",
                [](const ChannelStats& c) { return c.requeue_count; });
  ChannelFamily(out, stats, "nsq_channel_disconnect_requeues_total", MetricType::kCounter,
                "The part of nsq_channel_requeues_total put back because their consumer went "
                "away.",
                [](const ChannelStats& c) { return c.disconnect_requeue_count; });
  ChannelFamily(out, stats, "nsq_channel_timeouts_total", MetricType::kCounter,
                "In-flight messages requeued because their timeout passed without a FIN.",
                [](const ChannelStats& c) { return c.timeout_count; });

  out->Family("nsq_channel_deliveries_total", MetricType::kCounter,
              "Messages sent to consumers, redeliveries included, by where the consumer is "
              "relative to this nsqd (--topology-zone, --topology-region).");
  for (const TopicStats& topic : stats.topics) {
    for (const ChannelStats& channel : topic.channels) {
      const std::pair<std::string_view, uint64_t> localities[] = {
          {"zone", channel.zone_local_msg_count},
          {"region", channel.region_local_msg_count},
          {"global", channel.global_msg_count}};
      for (const auto& [locality, count] : localities) {
        out->Sample({{"topic", topic.topic_name},
                     {"channel", channel.channel_name},
                     {"locality", locality}},
                    count);
      }
    }
  }

  if (!AnyLatency(stats)) return;
  out->Family("nsq_channel_e2e_processing_latency_seconds", MetricType::kGauge,
              "Publish-to-FIN latency quantiles of the channel, over "
              "--e2e-processing-latency-window-time.");
  for (const TopicStats& topic : stats.topics) {
    for (const ChannelStats& channel : topic.channels) {
      LatencySamples(out, {{"topic", topic.topic_name}, {"channel", channel.channel_name}},
                     channel.e2e);
    }
  }
  ChannelFamily(out, stats, "nsq_channel_e2e_processing_latency_samples", MetricType::kGauge,
                "FINs within the latency window (what the quantiles are computed over).",
                [](const ChannelStats& c) { return c.e2e.count; });
}

void Counter(PrometheusText* out, std::string_view name, std::string_view help, uint64_t value) {
  out->Single(name, MetricType::kCounter, help, value);
}

void Gauge(PrometheusText* out, std::string_view name, std::string_view help, double value) {
  out->Single(name, MetricType::kGauge, help, value);
}

void StoreFamilies(PrometheusText* out, const StoreMetrics& store) {
  const storage::GroupCommitStats& w = store.writer;
  Counter(out, "nsq_store_batches_submitted_total",
          "Store writes asked for (a publish, a FIN, a requeue...).", w.batches_submitted);
  Counter(out, "nsq_store_batches_committed_total", "Store writes that succeeded.",
          w.batches_committed);
  Counter(out, "nsq_store_batches_failed_total",
          "Store writes that failed (each marks nsqd unhealthy until a write succeeds).",
          w.batches_failed);
  Counter(out, "nsq_store_write_groups_total",
          "RocksDB writes: the writer thread commits every pending store write as one group.",
          w.writes);
  Counter(out, "nsq_store_wal_syncs_total", "fsyncs of the RocksDB write-ahead log.",
          w.wal_syncs);
  out->Family("nsq_store_write_group_duration_seconds", MetricType::kHistogram,
              "How long one write group took (its RocksDB write and, when synced, the fsync).");
  std::vector<std::pair<double, uint64_t>> buckets;
  for (size_t i = 0; i < storage::kWriteGroupSecondsBounds.size(); ++i) {
    buckets.emplace_back(storage::kWriteGroupSecondsBounds[i], w.write_seconds_buckets[i]);
  }
  out->Histogram({}, buckets, w.write_seconds_sum, w.write_seconds_count);
  Gauge(out, "nsq_store_sst_bytes", "Bytes of the store's table files on disk.",
        static_cast<double>(store.files.sst_bytes));
  Gauge(out, "nsq_store_memtable_bytes", "Bytes of the store's memtables (in memory).",
        static_cast<double>(store.files.memtable_bytes));
  Counter(out, "nsq_store_compactions_total",
          "Range compactions the store ran to drop consumed messages.", store.files.compactions);
  Counter(out, "nsq_store_compaction_failures_total", "Range compactions that failed.",
          store.files.compaction_failures);
}

void StatsdFamilies(PrometheusText* out, const StatsdMetrics& statsd) {
  Counter(out, "nsq_statsd_pushes_total", "Pushes to --statsd-address (one per interval).",
          statsd.pushes);
  Counter(out, "nsq_statsd_packets_sent_total", "statsd UDP packets sent.", statsd.packets_sent);
  Counter(out, "nsq_statsd_packets_dropped_total",
          "statsd UDP packets dropped because the socket buffer was full (sending never waits).",
          statsd.packets_dropped);
  Counter(out, "nsq_statsd_send_errors_total",
          "statsd packets or pushes that failed otherwise (address not resolved, refused).",
          statsd.send_errors);
}

}  // namespace

PrometheusText MetricsText(const MetricsPage& page) {
  PrometheusText out;
  out.Family("nsq_info", MetricType::kGauge,
             "Always 1; the version label is the NSQ version this nsqd is compatible with.");
  out.Sample({{"version", page.version}, {"daemon", "nsqd"}}, 1);
  Gauge(&out, "nsq_healthy", "1 while /ping answers OK, 0 while the store fails writes.",
        page.healthy ? 1 : 0);
  if (page.stats != nullptr) {
    Gauge(&out, "nsq_topics", "Topics on this nsqd.", static_cast<double>(page.stats->topics.size()));
    TopicMetrics(&out, *page.stats);
    ChannelMetrics(&out, *page.stats);
  }
  if (page.store) StoreFamilies(&out, *page.store);
  if (page.statsd) StatsdFamilies(&out, *page.statsd);
  http::AppendProcessMetrics(&out, page.process, page.start_time, page.now_ns);
  return out;
}

}  // namespace nsq::nsqd
