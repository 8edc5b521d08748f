#include "common/http/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nsq::http {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

// A name of ours that the format cannot carry is a bug: stop rather than serve a page
// Prometheus refuses whole.
void CheckName(bool valid, std::string_view what, std::string_view name) {
  if (valid) return;
  std::fprintf(stderr, "PrometheusText: invalid %.*s \"%.*s\"\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(name.size()), name.data());
  std::abort();
}

void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (quote && c == '"') {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

template <typename T>
void AppendNumber(std::string* out, T value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!(IsNameStart(c) || IsDigit(c) || c == ':')) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.substr(0, 2) == "__") return false;
  for (char c : name) {
    if (!(IsNameStart(c) || IsDigit(c))) return false;
  }
  return true;
}

std::string EscapePrometheusLabelValue(std::string_view value) {
  std::string out;
  AppendEscaped(&out, value, /*quote=*/true);
  return out;
}

std::string EscapePrometheusHelp(std::string_view help) {
  std::string out;
  AppendEscaped(&out, help, /*quote=*/false);
  return out;
}

std::string FormatPrometheusValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // As Go's strconv.FormatFloat(v, 'g', -1, 64), which the Go client library writes (and so
  // the "le" and "quantile" values dashboards match on): the shortest digits, in exponent form
  // when the exponent is below -4 or at least 6.
  char buffer[64];
  const std::to_chars_result scientific =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string exponent_form(buffer, scientific.ptr);
  const int exponent = std::atoi(exponent_form.c_str() + exponent_form.find('e') + 1);
  if (exponent < -4 || exponent >= 6) return exponent_form;
  const std::to_chars_result fixed =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  return std::string(buffer, fixed.ptr);
}

void PrometheusText::Family(std::string_view name, MetricType type, std::string_view help) {
  CheckName(IsValidMetricName(name), "metric name", name);
  family_.assign(name);
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  AppendEscaped(&text_, help, /*quote=*/false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += TypeName(type);
  text_ += '\n';
}

void PrometheusText::StartSample(std::string_view suffix, std::span<const MetricLabel> labels,
                                 std::span<const MetricLabel> extra) {
  text_ += family_;
  text_ += suffix;
  if (!labels.empty() || !extra.empty()) {
    text_ += '{';
    bool first = true;
    for (std::span<const MetricLabel> list : {labels, extra}) {
      for (const MetricLabel& label : list) {
        CheckName(IsValidLabelName(label.name), "label name", label.name);
        if (!first) text_ += ',';
        first = false;
        text_ += label.name;
        text_ += "=\"";
        AppendEscaped(&text_, label.value, /*quote=*/true);
        text_ += '"';
      }
    }
    text_ += '}';
  }
  text_ += ' ';
}

void PrometheusText::AppendInt(int64_t value) { AppendNumber(&text_, value); }
void PrometheusText::AppendUint(uint64_t value) { AppendNumber(&text_, value); }
void PrometheusText::AppendDouble(double value) { text_ += FormatPrometheusValue(value); }

void PrometheusText::Histogram(std::span<const MetricLabel> labels,
                               std::span<const std::pair<double, uint64_t>> buckets, double sum,
                               uint64_t count) {
  for (const auto& [bound, cumulative] : buckets) {
    const std::string le = FormatPrometheusValue(bound);
    const MetricLabel le_label{"le", le};
    StartSample("_bucket", labels, {&le_label, 1});
    AppendUint(cumulative);
    text_ += '\n';
  }
  const MetricLabel inf_label{"le", "+Inf"};
  StartSample("_bucket", labels, {&inf_label, 1});
  AppendUint(count);
  text_ += '\n';
  SampleWithSuffix("_sum", labels, sum);
  SampleWithSuffix("_count", labels, count);
}

HttpResponse PrometheusResponse(PrometheusText page) {
  return PrometheusResponse(std::move(page).Take());
}

HttpResponse PrometheusResponse(std::string text) {
  HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", std::string(PrometheusText::kContentType));
  response.body = std::move(text);
  return response;
}

void AppendProcessMetrics(PrometheusText* page, const util::ProcessStats& process,
                          int64_t start_time, int64_t now_ns) {
  page->Single("process_resident_memory_bytes", MetricType::kGauge,
               "Resident memory size in bytes (RSS, /proc/self/statm).", process.resident_bytes);
  page->Single("process_virtual_memory_bytes", MetricType::kGauge,
               "Virtual memory size in bytes.", process.virtual_bytes);
  page->Single("process_open_fds", MetricType::kGauge,
               "Open file descriptors (entries of /proc/self/fd): sockets, store files, pipes.",
               process.open_fds);
  page->Single("process_max_fds", MetricType::kGauge,
               "The open file descriptor limit (RLIMIT_NOFILE), 0 when unlimited.",
               process.max_fds);
  page->Single("process_cpu_seconds_total", MetricType::kCounter,
               "User and system CPU time spent, in seconds.", process.cpu_seconds);
  page->Single("process_start_time_seconds", MetricType::kGauge,
               "When the daemon started, in seconds since the Unix epoch.", start_time);
  page->Single("nsq_uptime_seconds", MetricType::kGauge, "Seconds since the daemon started.",
               std::max<double>(0, static_cast<double>(now_ns) / 1e9 -
                                       static_cast<double>(start_time)));
}

}  // namespace nsq::http
