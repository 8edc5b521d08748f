#include "nsqd/http/stats_format.h"

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/config/flag_set.h"
#include "common/util/process_stats.h"

namespace nsq::nsqd {
namespace {

namespace json = boost::json;

// nsqd prints its Go version here; the compiler is our equivalent.
#if defined(__clang__)
constexpr std::string_view kBuiltWith = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr std::string_view kBuiltWith = "g++ " __VERSION__;
#else
constexpr std::string_view kBuiltWith = "c++";
#endif

// {"count":N,"percentiles":[{"quantile":0.99,"value":<ns>},...]}; without
// --e2e-processing-latency-percentile nsqd reports no percentiles, as null.
json::object E2eLatencyJson(const LatencySummary& e2e) {
  json::object latency;
  latency["count"] = e2e.count;
  if (e2e.percentiles.empty()) {
    latency["percentiles"] = nullptr;
    return latency;
  }
  json::array percentiles;
  for (const auto& [quantile, value] : e2e.percentiles) {
    json::object entry;
    entry["quantile"] = quantile;
    entry["value"] = value;
    percentiles.push_back(std::move(entry));
  }
  latency["percentiles"] = std::move(percentiles);
  return latency;
}

// The text format's e2e% column: each percentile's value as a Go duration, as nsqd prints it.
std::string E2eLatencyText(const LatencySummary& e2e) {
  std::vector<std::string> values;
  for (const auto& [quantile, value] : e2e.percentiles) {
    values.push_back(config::FormatGoDuration(absl::Nanoseconds(static_cast<int64_t>(value))));
  }
  return absl::StrJoin(values, ", ");
}

json::object ClientJson(const ClientStats& c) {
  json::object o;
  o["client_id"] = c.client_id;
  o["hostname"] = c.hostname;
  o["version"] = c.version;
  o["remote_address"] = c.remote_address;
  o["state"] = c.state;
  o["ready_count"] = c.ready_count;
  o["in_flight_count"] = c.in_flight_count;
  o["message_count"] = c.message_count;
  o["finish_count"] = c.finish_count;
  o["requeue_count"] = c.requeue_count;
  o["connect_ts"] = c.connect_ts;
  o["sample_rate"] = c.sample_rate;
  o["deflate"] = c.deflate;
  o["snappy"] = c.snappy;
  o["user_agent"] = c.user_agent;
  // nsqd tags these omitempty.
  if (c.authed) o["authed"] = true;
  if (!c.auth_identity.empty()) o["auth_identity"] = c.auth_identity;
  if (!c.auth_identity_url.empty()) o["auth_identity_url"] = c.auth_identity_url;
  if (!c.pub_counts.empty()) {
    json::array counts;
    for (const PubCount& pub : c.pub_counts) {
      json::object entry;
      entry["topic"] = pub.topic;
      entry["count"] = pub.count;
      counts.push_back(std::move(entry));
    }
    o["pub_counts"] = std::move(counts);
  }
  o["topology_region"] = c.topology_region;
  o["topology_zone"] = c.topology_zone;
  // nsqd leaves these empty/false on plain connections.
  o["tls"] = c.tls;
  o["tls_cipher_suite"] = c.tls_info.cipher_suite;
  o["tls_version"] = c.tls_info.version;
  o["tls_negotiated_protocol"] = c.tls_info.negotiated_protocol;
  o["tls_negotiated_protocol_is_mutual"] = c.tls_info.negotiated_protocol_is_mutual;
  // Not in Go's /stats: who the client certificate says the client is (omitted without one).
  if (!c.tls_info.client_cert_subject.empty()) {
    o["tls_client_cert_subject"] = c.tls_info.client_cert_subject;
    o["tls_client_cert_issuer"] = c.tls_info.client_cert_issuer;
  }
  return o;
}

json::value ClientsJson(const std::vector<ClientStats>& clients) {
  json::array out;
  for (const ClientStats& client : clients) out.push_back(ClientJson(client));
  return out;
}

json::object ChannelJson(const ChannelStats& c, bool include_clients) {
  json::object o;
  o["channel_name"] = c.channel_name;
  o["depth"] = c.depth;
  o["backend_depth"] = c.backend_depth;
  o["in_flight_count"] = c.in_flight_count;
  o["deferred_count"] = c.deferred_count;
  o["message_count"] = c.message_count;
  o["requeue_count"] = c.requeue_count;
  o["timeout_count"] = c.timeout_count;
  o["client_count"] = c.client_count;
  if (include_clients) {
    o["clients"] = ClientsJson(c.clients);
  } else {
    o["clients"] = nullptr;
  }
  o["paused"] = c.paused;
  o["e2e_processing_latency"] = E2eLatencyJson(c.e2e);
  // nsqd (HEAD) omits these when 0; nsqadmin's "Delivery" column sums them.
  if (c.zone_local_msg_count > 0) o["zone_local_msg_count"] = c.zone_local_msg_count;
  if (c.region_local_msg_count > 0) o["region_local_msg_count"] = c.region_local_msg_count;
  if (c.global_msg_count > 0) o["global_msg_count"] = c.global_msg_count;
  return o;
}

json::object TopicJson(const TopicStats& t, bool include_clients) {
  json::object o;
  o["topic_name"] = t.topic_name;
  json::array channels;
  for (const ChannelStats& channel : t.channels) {
    channels.push_back(ChannelJson(channel, include_clients));
  }
  o["channels"] = std::move(channels);
  o["depth"] = t.depth;
  o["backend_depth"] = t.backend_depth;
  o["message_count"] = t.message_count;
  o["message_bytes"] = t.message_bytes;
  o["paused"] = t.paused;
  o["e2e_processing_latency"] = E2eLatencyJson(t.e2e);
  return o;
}

json::object MemoryJson(const MemoryStats& m) {
  json::object o;
  o["heap_objects"] = m.heap_objects;
  o["heap_idle_bytes"] = m.heap_idle_bytes;
  o["heap_in_use_bytes"] = m.heap_in_use_bytes;
  o["heap_released_bytes"] = m.heap_released_bytes;
  o["gc_pause_usec_100"] = m.gc_pause_usec_100;
  o["gc_pause_usec_99"] = m.gc_pause_usec_99;
  o["gc_pause_usec_95"] = m.gc_pause_usec_95;
  o["next_gc_bytes"] = m.next_gc_bytes;
  o["gc_total_runs"] = m.gc_total_runs;
  return o;
}

// Go's RFC3339 in local time: "2024-05-01T12:00:00+02:00", or "...Z" in UTC.
std::string Rfc3339(int64_t unix_seconds) {
  const absl::Time t = absl::FromUnixSeconds(unix_seconds);
  const absl::TimeZone local = absl::LocalTimeZone();
  if (local.At(t).offset == 0) return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, local);
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, local);
}

std::string ClientLine(const ClientStats& c, int64_t now_s) {
  const size_t colon = c.remote_address.rfind(':');
  const std::string port =
      colon == std::string::npos ? std::string() : c.remote_address.substr(colon + 1);
  const std::string id = absl::StrCat(c.hostname, ":", port, " ", c.user_agent);
  const std::string connected = GoDurationSeconds(std::max<int64_t>(0, now_s - c.connect_ts));
  if (!c.pub_counts.empty()) {
    uint64_t total = 0;
    std::vector<std::string> topics;
    for (const PubCount& pub : c.pub_counts) {
      total += pub.count;
      topics.push_back(absl::StrCat(pub.topic, "=", pub.count));
    }
    return absl::StrFormat("[%s %-21s] msgs: %-8d topics: %s connected: %s", c.version, id, total,
                           absl::StrJoin(topics, ","), connected);
  }
  return absl::StrFormat(
      "[%s %-21s] state: %d inflt: %-4d rdy: %-4d fin: %-8d re-q: %-8d msgs: %-8d connected: %s",
      c.version, id, c.state, c.in_flight_count, c.ready_count, c.finish_count, c.requeue_count,
      c.message_count, connected);
}

}  // namespace

MemoryStats ReadMemoryStats() {
  MemoryStats m;
  const util::HeapStats heap = util::ReadHeapStats();
  m.heap_in_use_bytes = heap.in_use_bytes;
  m.heap_idle_bytes = heap.idle_bytes;
  return m;
}

std::string GoDurationSeconds(int64_t seconds) {
  std::string sign;
  if (seconds < 0) {
    sign = "-";
    seconds = -seconds;
  }
  const int64_t h = seconds / 3600;
  const int64_t m = seconds / 60 % 60;
  const int64_t s = seconds % 60;
  if (h > 0) return absl::StrCat(sign, h, "h", m, "m", s, "s");
  if (m > 0) return absl::StrCat(sign, m, "m", s, "s");
  return absl::StrCat(sign, s, "s");
}

std::string StatsJson(const StatsPage& page) {
  const BrokerStats& stats = *page.stats;
  json::object doc;
  doc["version"] = page.version;
  doc["health"] = page.health;
  doc["start_time"] = page.start_time;
  if (stats.topic_found) {
    json::array topics;
    for (const TopicStats& topic : stats.topics) {
      topics.push_back(TopicJson(topic, page.include_clients));
    }
    doc["topics"] = std::move(topics);
  } else {
    doc["topics"] = nullptr;  // nsqd: a topic filter that matches nothing gives null
  }
  if (page.memory) doc["memory"] = MemoryJson(*page.memory);
  // nsqd gives null, never [], when there are no producers to list.
  if (page.include_clients && !stats.producers.empty()) {
    doc["producers"] = ClientsJson(stats.producers);
  } else {
    doc["producers"] = nullptr;
  }
  return json::serialize(doc);
}

std::string StatsText(const StatsPage& page) {
  const BrokerStats& stats = *page.stats;
  const int64_t now_s = page.now_ns / 1'000'000'000;
  std::string out;
  absl::StrAppendFormat(&out, "nsqd v%s (built w/%s)\n", page.version, kBuiltWith);
  absl::StrAppendFormat(&out, "start_time %s\n", Rfc3339(page.start_time));
  absl::StrAppendFormat(&out, "uptime %s\n", GoDurationSeconds(now_s - page.start_time));
  absl::StrAppendFormat(&out, "\nHealth: %s\n", page.health);

  if (page.memory) {
    const MemoryStats& m = *page.memory;
    const std::pair<const char*, uint64_t> rows[] = {
        {"heap_objects", m.heap_objects},           {"heap_idle_bytes", m.heap_idle_bytes},
        {"heap_in_use_bytes", m.heap_in_use_bytes}, {"heap_released_bytes", m.heap_released_bytes},
        {"gc_pause_usec_100", m.gc_pause_usec_100}, {"gc_pause_usec_99", m.gc_pause_usec_99},
        {"gc_pause_usec_95", m.gc_pause_usec_95},   {"next_gc_bytes", m.next_gc_bytes},
        {"gc_total_runs", m.gc_total_runs},
    };
    out += "\nMemory:\n";
    for (const auto& [name, value] : rows)
      absl::StrAppendFormat(&out, "   %-25s\t%d\n", name, value);
  }

  out += stats.topics.empty() ? "\nTopics: None\n" : "\nTopics:";
  for (const TopicStats& t : stats.topics) {
    absl::StrAppendFormat(&out, "\n%s[%-15s] depth: %-5d be-depth: %-5d msgs: %-8d e2e%%: %s\n",
                          t.paused ? "*P " : "   ", t.topic_name, t.depth, t.backend_depth,
                          t.message_count, E2eLatencyText(t.e2e));
    for (const ChannelStats& c : t.channels) {
      absl::StrAppendFormat(&out,
                            "%s[%-25s] depth: %-5d be-depth: %-5d inflt: %-4d def: %-4d "
                            "re-q: %-5d timeout: %-5d msgs: %-8d e2e%%: %s\n",
                            c.paused ? "   *P " : "      ", c.channel_name, c.depth,
                            c.backend_depth, c.in_flight_count, c.deferred_count, c.requeue_count,
                            c.timeout_count, c.message_count, E2eLatencyText(c.e2e));
      for (const ClientStats& client : c.clients) {
        absl::StrAppend(&out, "        ", ClientLine(client, now_s), "\n");
      }
    }
  }

  if (stats.producers.empty()) {
    out += "\nProducers: None\n";
  } else {
    out += "\nProducers:\n";
    for (const ClientStats& client : stats.producers) {
      absl::StrAppend(&out, "   ", ClientLine(client, now_s), "\n");
    }
  }
  return out;
}

}  // namespace nsq::nsqd
