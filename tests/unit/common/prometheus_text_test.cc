#include "common/http/prometheus_text.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tests/testutil/prometheus_parser.h"

namespace nsq::http {
namespace {

using testutil::ParsePrometheusText;
using testutil::PromPage;

PromPage MustParse(const std::string& text) {
  absl::StatusOr<PromPage> page = ParsePrometheusText(text);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString(), "\n", text);
  return *page;
}

TEST_CASE("a family is its HELP and TYPE lines followed by its samples") {
  PrometheusText page;
  page.Family("nsq_topic_depth", MetricType::kGauge, "Messages queued in the topic.");
  page.Sample({{"topic", "a"}}, 3);
  page.Sample({{"topic", "b"}}, int64_t{-1});
  page.Family("nsq_up", MetricType::kGauge, "One.");
  page.Sample({}, 1u);
  CHECK(page.text() ==
        "# HELP nsq_topic_depth Messages queued in the topic.\n"
        "# TYPE nsq_topic_depth gauge\n"
        "nsq_topic_depth{topic=\"a\"} 3\n"
        "nsq_topic_depth{topic=\"b\"} -1\n"
        "# HELP nsq_up One.\n"
        "# TYPE nsq_up gauge\n"
        "nsq_up 1\n");
  const PromPage parsed = MustParse(page.text());
  CHECK(parsed.Value("nsq_topic_depth", {{"topic", "b"}}) == -1);
}

TEST_CASE("label values escape backslash, double quote and line feed; help texts too") {
  PrometheusText page;
  page.Family("nsq_x_total", MetricType::kCounter, "back\\slash and\nnew line");
  const std::string nasty = "a\\b\"c\nd{e}=,f";
  page.Sample({{"topic", nasty}, {"channel", "plain"}}, 7);
  CHECK(page.text().find(R"(nsq_x_total{topic="a\\b\"c\nd{e}=,f",channel="plain"} 7)") !=
        std::string::npos);
  CHECK(page.text().find("# HELP nsq_x_total back\\\\slash and\\nnew line\n") !=
        std::string::npos);
  const PromPage parsed = MustParse(page.text());
  CHECK(parsed.Value("nsq_x_total", {{"topic", nasty}, {"channel", "plain"}}) == 7);
  CHECK(parsed.Find("nsq_x_total")->help == "back\\slash and\nnew line");
  CHECK(EscapePrometheusLabelValue("\"") == "\\\"");
  CHECK(EscapePrometheusHelp("\"") == "\"");  // quotes stay as they are in help texts
}

TEST_CASE("values: exact integers, shortest doubles, infinities and NaN as Prometheus spells them") {
  CHECK(FormatPrometheusValue(0.25) == "0.25");
  CHECK(FormatPrometheusValue(0.0001) == "0.0001");
  CHECK(FormatPrometheusValue(1e-7) == "1e-07");
  CHECK(FormatPrometheusValue(123456) == "123456");
  CHECK(FormatPrometheusValue(1234567) == "1.234567e+06");
  CHECK(FormatPrometheusValue(-2.5) == "-2.5");
  CHECK(FormatPrometheusValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatPrometheusValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatPrometheusValue(std::nan("")) == "NaN");
  PrometheusText page;
  page.Family("nsq_big_total", MetricType::kCounter, "Big.");
  page.Sample({}, uint64_t{18446744073709551615u});  // beyond a double's exact integers
  CHECK(page.text().find("nsq_big_total 18446744073709551615\n") != std::string::npos);
  MustParse(page.text());
}

TEST_CASE("a histogram gets cumulative buckets, the +Inf bucket, _sum and _count") {
  PrometheusText page;
  page.Family("nsq_store_write_group_duration_seconds", MetricType::kHistogram, "Writes.");
  const std::vector<std::pair<double, uint64_t>> buckets = {{0.001, 2}, {0.01, 5}};
  page.Histogram({}, buckets, 0.031, 6);
  CHECK(page.text() ==
        "# HELP nsq_store_write_group_duration_seconds Writes.\n"
        "# TYPE nsq_store_write_group_duration_seconds histogram\n"
        "nsq_store_write_group_duration_seconds_bucket{le=\"0.001\"} 2\n"
        "nsq_store_write_group_duration_seconds_bucket{le=\"0.01\"} 5\n"
        "nsq_store_write_group_duration_seconds_bucket{le=\"+Inf\"} 6\n"
        "nsq_store_write_group_duration_seconds_sum 0.031\n"
        "nsq_store_write_group_duration_seconds_count 6\n");
  const PromPage parsed = MustParse(page.text());
  CHECK(parsed.Value("nsq_store_write_group_duration_seconds_bucket", {{"le", "+Inf"}}) == 6);
}

TEST_CASE("metric and label names are checked against the format's grammar") {
  CHECK(IsValidMetricName("nsq_topic_depth"));
  CHECK(IsValidMetricName("ns:q"));
  CHECK_FALSE(IsValidMetricName("9nsq"));
  CHECK_FALSE(IsValidMetricName("nsq-topic"));
  CHECK_FALSE(IsValidMetricName(""));
  CHECK(IsValidLabelName("topic"));
  CHECK_FALSE(IsValidLabelName("__reserved"));
  CHECK_FALSE(IsValidLabelName("a:b"));
}

TEST_CASE("the test parser refuses what Prometheus refuses") {
  // Guards the guard: the parser used by the /metrics tests must not accept broken pages.
  CHECK_FALSE(ParsePrometheusText("nsq_a 1").ok());  // no final line feed
  CHECK_FALSE(ParsePrometheusText("nsq_a 1\n").ok());  // no family
  CHECK_FALSE(ParsePrometheusText("# HELP a x\n# TYPE a gauge\na{l=\"x\ny\"} 1\n").ok());
  CHECK_FALSE(ParsePrometheusText("# HELP a x\n# TYPE a gauge\na{l=\"\\q\"} 1\n").ok());
  CHECK_FALSE(ParsePrometheusText("# HELP a x\n# TYPE a gauge\na 1\na 2\n").ok());
  CHECK_FALSE(
      ParsePrometheusText("# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\nb 1\na 1\n")
          .ok());
  CHECK_FALSE(ParsePrometheusText("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                                  "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n")
                  .ok());
  CHECK(ParsePrometheusText("# HELP a x\n# TYPE a gauge\na{l=\"\\\\\\\"\\n\"} 1\n").ok());
}

}  // namespace
}  // namespace nsq::http
