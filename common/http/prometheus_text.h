// PrometheusText: a page in the Prometheus text exposition format, version 0.0.4 (what GET
// /metrics of nsqd and nsqlookupd answer). Pure: it only appends to a string.
//
//   PrometheusText page;
//   page.Family("nsq_topic_depth", MetricType::kGauge, "Messages queued in the topic.");
//   page.Sample({{"topic", "orders"}}, 12);              // nsq_topic_depth{topic="orders"} 12
//   page.Family("nsq_store_write_group_duration_seconds", MetricType::kHistogram, "...");
//   page.Histogram({}, buckets, sum_seconds, count);     // _bucket{le=...}, _sum, _count
//   response.body = std::move(page).Take();              // Content-Type: kContentType
//
// The format wants every sample of a family together, after its # HELP and # TYPE lines: call
// Family() once per name, then its samples. Label values and help texts are escaped as the
// format says (backslash, double quote in label values, line feed); metric and label names are
// ours, not a peer's, and must be valid (IsValidMetricName, IsValidLabelName): the unit tests
// check every name the daemons use. Integers print exactly; doubles in the shortest form that
// reads back the same (as Go's client library writes them), with +Inf, -Inf and NaN spelled
// as Prometheus reads them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/http/http_message.h"
#include "common/util/process_stats.h"

namespace nsq::http {

enum class MetricType { kCounter, kGauge, kHistogram, kSummary, kUntyped };

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

class PrometheusText {
 public:
  // The Content-Type of a page (Prometheus picks its parser by it).
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family: its # HELP and # TYPE lines. Samples that follow belong to it.
  void Family(std::string_view name, MetricType type, std::string_view help);

  // A family of one sample without labels (a daemon-wide figure).
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Single(std::string_view name, MetricType type, std::string_view help, T value) {
    Family(name, type, help);
    Sample({}, value);
  }

  // A sample of the current family: `<family>{labels} <value>`.
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Sample(std::initializer_list<MetricLabel> labels, T value) {
    SampleWithSuffix("", std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Sample(std::span<const MetricLabel> labels, T value) {
    SampleWithSuffix("", labels, value);
  }
  // A sample named the family's name plus `suffix` (a histogram's "_bucket", "_sum", "_count").
  template <typename T>
    requires std::is_arithmetic_v<T>
  void SampleWithSuffix(std::string_view suffix, std::span<const MetricLabel> labels, T value) {
    StartSample(suffix, labels, {});
    if constexpr (std::is_floating_point_v<T>) {
      AppendDouble(static_cast<double>(value));
    } else if constexpr (std::is_signed_v<T>) {
      AppendInt(static_cast<int64_t>(value));
    } else {
      AppendUint(static_cast<uint64_t>(value));
    }
    text_ += '\n';
  }

  // One histogram of the current family (of type kHistogram): `buckets` are (upper bound,
  // observations <= bound) in increasing bound order, cumulative; the +Inf bucket (= count) is
  // added, then _sum and _count.
  void Histogram(std::span<const MetricLabel> labels,
                 std::span<const std::pair<double, uint64_t>> buckets, double sum,
                 uint64_t count);

  const std::string& text() const { return text_; }
  std::string Take() && { return std::move(text_); }

 private:
  // Writes `<family><suffix>{labels[,extra]} ` (no value).
  void StartSample(std::string_view suffix, std::span<const MetricLabel> labels,
                   std::span<const MetricLabel> extra);
  void AppendInt(int64_t value);
  void AppendUint(uint64_t value);
  void AppendDouble(double value);

  std::string text_;
  std::string family_;
};

// The process families both daemons export, under the names Prometheus client libraries use
// (process_resident_memory_bytes, process_open_fds, ...), plus nsq_uptime_seconds.
// `start_time` in Unix seconds, `now_ns` in Unix nanoseconds.
void AppendProcessMetrics(PrometheusText* page, const util::ProcessStats& process,
                          int64_t start_time, int64_t now_ns);

// GET /metrics's answer: 200 with the page (or its text) and its Content-Type.
HttpResponse PrometheusResponse(PrometheusText page);
HttpResponse PrometheusResponse(std::string text);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved).
bool IsValidLabelName(std::string_view name);
// A label value between its double quotes: \ -> \\, " -> \", line feed -> \n.
std::string EscapePrometheusLabelValue(std::string_view value);
// A # HELP text: \ -> \\, line feed -> \n.
std::string EscapePrometheusHelp(std::string_view help);
// A sample value as Go's strconv.FormatFloat(v, 'g', -1, 64): shortest round-trip digits,
// exponent form below 1e-4 and from 1e6 ("0.0001", "1e-05", "123456", "1.234567e+06");
// "+Inf", "-Inf", "NaN".
std::string FormatPrometheusValue(double value);

}  // namespace nsq::http
