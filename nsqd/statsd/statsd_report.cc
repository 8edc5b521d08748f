#include "nsqd/statsd/statsd_report.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/net/host_port.h"
#include "common/protocol/names.h"

namespace nsq::nsqd {
namespace {

// Appends "<prefix><name>:<value>|<type>\n".
class LineWriter {
 public:
  LineWriter(const std::string& prefix, std::vector<std::string>* lines)
      : prefix_(prefix), lines_(lines) {}

  void Gauge(const std::string& name, int64_t value) { Add(name, value, "g"); }
  // A counter's increase since the last push (negative when it restarted lower, as nsqd).
  void Delta(const std::string& name, uint64_t now, uint64_t before) {
    Add(name, static_cast<int64_t>(now - before), "c");
  }
  void Latencies(const std::string& stem, const LatencySummary& e2e) {
    for (const auto& [quantile, nanos] : e2e.percentiles) {
      Gauge(absl::StrFormat("%se2e_processing_latency_%.0f", stem, quantile * 100.0),
            static_cast<int64_t>(nanos));
    }
  }

 private:
  void Add(const std::string& name, int64_t value, const char* type) {
    lines_->push_back(absl::StrFormat("%s%s:%d|%s\n", prefix_, name, value, type));
  }

  const std::string& prefix_;
  std::vector<std::string>* lines_;
};

}  // namespace

std::string StatsdHostKey(std::string_view host_port) {
  return absl::StrReplaceAll(std::string(host_port), {{".", "_"}, {":", "_"}});
}

std::string StatsdPrefix(std::string_view pattern, std::string_view broadcast_address,
                         int http_port) {
  if (pattern.empty()) return "";
  const std::string key = StatsdHostKey(net::JoinHostPort(broadcast_address, http_port));
  std::string prefix = absl::StrReplaceAll(std::string(pattern), {{"%s", key}});
  if (prefix.back() != '.') prefix += '.';
  return prefix;
}

std::vector<std::string> StatsdReport::Lines(const BrokerStats& stats, const StatsdMemStats* mem) {
  std::vector<std::string> lines;
  LineWriter out(options_.prefix, &lines);
  std::map<std::string, Counts> topics_now;
  std::map<std::pair<std::string, std::string>, Counts> channels_now;
  for (const TopicStats& topic : stats.topics) {
    if (options_.exclude_ephemeral && protocol::IsEphemeralName(topic.topic_name)) continue;
    const Counts before = last_topics_[topic.topic_name];
    const std::string t = absl::StrFormat("topic.%s.", topic.topic_name);
    out.Delta(t + "message_count", topic.message_count, before.message_count);
    out.Delta(t + "message_bytes", topic.message_bytes, before.message_bytes);
    out.Gauge(t + "depth", topic.depth);
    out.Gauge(t + "backend_depth", topic.backend_depth);
    out.Latencies(t, topic.e2e);
    topics_now[topic.topic_name] = {.message_count = topic.message_count,
                                    .message_bytes = topic.message_bytes};

    for (const ChannelStats& channel : topic.channels) {
      if (options_.exclude_ephemeral && protocol::IsEphemeralName(channel.channel_name)) {
        continue;
      }
      const std::pair<std::string, std::string> key(topic.topic_name, channel.channel_name);
      const Counts was = last_channels_[key];
      const std::string c = absl::StrFormat("%schannel.%s.", t, channel.channel_name);
      out.Delta(c + "message_count", channel.message_count, was.message_count);
      out.Gauge(c + "depth", channel.depth);
      out.Gauge(c + "backend_depth", channel.backend_depth);
      out.Gauge(c + "in_flight_count", channel.in_flight_count);
      out.Gauge(c + "deferred_count", channel.deferred_count);
      out.Delta(c + "requeue_count", channel.requeue_count, was.requeue_count);
      out.Delta(c + "disconnect_requeue_count", channel.disconnect_requeue_count,
                was.disconnect_requeue_count);
      out.Delta(c + "timeout_count", channel.timeout_count, was.timeout_count);
      out.Gauge(c + "clients", channel.client_count);
      out.Latencies(c, channel.e2e);
      channels_now[key] = {.message_count = channel.message_count,
                           .requeue_count = channel.requeue_count,
                           .disconnect_requeue_count = channel.disconnect_requeue_count,
                           .timeout_count = channel.timeout_count};
    }
  }
  // Topics and channels gone since are forgotten: if they come back, they count from 0.
  last_topics_ = std::move(topics_now);
  last_channels_ = std::move(channels_now);

  if (mem != nullptr) {
    out.Gauge("mem.heap_in_use_bytes", static_cast<int64_t>(mem->heap_in_use_bytes));
    out.Gauge("mem.heap_idle_bytes", static_cast<int64_t>(mem->heap_idle_bytes));
    out.Gauge("mem.resident_bytes", static_cast<int64_t>(mem->resident_bytes));
  }
  return lines;
}

std::vector<std::string> PackStatsdPackets(const std::vector<std::string>& lines,
                                           size_t packet_size) {
  std::vector<std::string> packets;
  std::string packet;
  for (const std::string& line : lines) {
    if (!packet.empty() && packet.size() + line.size() > packet_size) {
      packets.push_back(std::move(packet));
      packet.clear();
    }
    packet += line;
  }
  if (!packet.empty()) packets.push_back(std::move(packet));
  return packets;
}

}  // namespace nsq::nsqd
