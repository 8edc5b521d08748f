// A strict reader of the Prometheus text exposition format 0.0.4 for tests: what our /metrics
// pages must look like for Prometheus to take them. Independent of the writer
// (common/http/prometheus_text.h), so a test that parses a page checks the writer's escaping
// and grouping rather than repeating it.
//
//   absl::StatusOr<PromPage> page = ParsePrometheusText(body);
//   CHECK(page->Value("nsq_topic_depth", {{"topic", "t"}}) == 3);
//
// Checked: every line ends in '\n'; "# HELP" then "# TYPE" open a family, once per name; each
// sample belongs to the family opened last (its name, or name_bucket/_sum/_count for a
// histogram or summary); label names, quoting and escapes (\\, \", \n); values (numbers,
// +Inf, -Inf, NaN); no sample twice; a histogram's buckets are cumulative and its +Inf bucket
// equals its _count.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::testutil {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // with its suffix (_bucket, _sum, _count) if any
  PromLabels labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;  // unescaped
  std::vector<PromSample> samples;
};

struct PromPage {
  std::vector<PromFamily> families;

  const PromFamily* Find(std::string_view name) const;
  // The value of the sample with exactly this name and these labels.
  std::optional<double> Value(std::string_view name, const PromLabels& labels = {}) const;
};

absl::StatusOr<PromPage> ParsePrometheusText(std::string_view text);

}  // namespace nsq::testutil
