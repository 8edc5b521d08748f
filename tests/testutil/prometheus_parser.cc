#include "tests/testutil/prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace nsq::testutil {
namespace {

bool NameChar(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

// Reads a name at the front of `text` (metric names may hold ':', label names may not).
std::string TakeName(std::string_view* text, bool colon) {
  size_t n = 0;
  while (n < text->size() && NameChar((*text)[n], n == 0, colon)) ++n;
  std::string name(text->substr(0, n));
  text->remove_prefix(n);
  return name;
}

absl::StatusOr<double> ParseValue(std::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  if (text.empty()) return absl::InvalidArgumentError("empty value");
  std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) {
    return absl::InvalidArgumentError(absl::StrCat("bad value \"", copy, "\""));
  }
  return value;
}

// {name="value",...}: the escapes of the format, and nothing else, in values.
absl::StatusOr<PromLabels> ParseLabels(std::string_view* text) {
  PromLabels labels;
  if (text->empty() || text->front() != '{') return labels;
  text->remove_prefix(1);
  while (true) {
    if (!text->empty() && text->front() == '}') {
      text->remove_prefix(1);
      return labels;
    }
    std::string name = TakeName(text, /*colon=*/false);
    if (name.empty() || name.substr(0, 2) == "__") {
      return absl::InvalidArgumentError("bad label name");
    }
    if (text->substr(0, 2) != "=\"") return absl::InvalidArgumentError("label without =\"");
    text->remove_prefix(2);
    std::string value;
    while (true) {
      if (text->empty()) return absl::InvalidArgumentError("unterminated label value");
      const char c = text->front();
      text->remove_prefix(1);
      if (c == '"') break;
      if (c == '\n') return absl::InvalidArgumentError("raw line feed in a label value");
      if (c != '\\') {
        value += c;
        continue;
      }
      if (text->empty()) return absl::InvalidArgumentError("dangling backslash");
      const char e = text->front();
      text->remove_prefix(1);
      if (e == 'n') {
        value += '\n';
      } else if (e == '\\' || e == '"') {
        value += e;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", std::string(1, e)));
      }
    }
    if (!labels.emplace(name, std::move(value)).second) {
      return absl::InvalidArgumentError(absl::StrCat("label ", name, " twice"));
    }
    if (!text->empty() && text->front() == ',') text->remove_prefix(1);
  }
}

std::string UnescapeHelp(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 'n' || text[i + 1] == '\\')) {
      out += text[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool SampleBelongs(const PromFamily& family, std::string_view name) {
  if (name == family.name) return family.type != "histogram";
  if (family.type != "histogram" && family.type != "summary") return false;
  for (std::string_view suffix : {"_sum", "_count", "_bucket"}) {
    if (suffix == "_bucket" && family.type != "histogram") continue;
    if (name == family.name + std::string(suffix)) return true;
  }
  return false;
}

absl::Status CheckHistogram(const PromFamily& family) {
  // Per label set (without le): buckets in order, cumulative, +Inf == _count.
  std::map<PromLabels, std::vector<std::pair<double, double>>> buckets;
  std::map<PromLabels, double> counts;
  for (const PromSample& s : family.samples) {
    PromLabels labels = s.labels;
    if (s.name == family.name + "_bucket") {
      auto le = labels.find("le");
      if (le == labels.end()) return absl::InvalidArgumentError("bucket without le");
      absl::StatusOr<double> bound = ParseValue(le->second);
      if (!bound.ok()) return bound.status();
      labels.erase(le);
      buckets[labels].emplace_back(*bound, s.value);
    } else if (s.name == family.name + "_count") {
      counts[labels] = s.value;
    }
  }
  for (const auto& [labels, list] : buckets) {
    for (size_t i = 1; i < list.size(); ++i) {
      if (!(list[i].first > list[i - 1].first) || list[i].second < list[i - 1].second) {
        return absl::InvalidArgumentError(family.name + ": buckets not cumulative");
      }
    }
    if (list.empty() || !std::isinf(list.back().first) || counts[labels] != list.back().second) {
      return absl::InvalidArgumentError(family.name + ": +Inf bucket != _count");
    }
  }
  return absl::OkStatus();
}

}  // namespace

const PromFamily* PromPage::Find(std::string_view name) const {
  for (const PromFamily& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

std::optional<double> PromPage::Value(std::string_view name, const PromLabels& labels) const {
  for (const PromFamily& family : families) {
    for (const PromSample& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<PromPage> ParsePrometheusText(std::string_view text) {
  PromPage page;
  std::set<std::string> seen_families;
  std::set<std::pair<std::string, PromLabels>> seen_samples;
  std::string pending_help_name;
  std::string pending_help;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": no final \\n"));
    }
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    auto error = [&](std::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", std::string(what), ": ", std::string(line)));
    };
    if (line.empty()) continue;
    if (line.substr(0, 7) == "# HELP ") {
      std::string_view rest = line.substr(7);
      pending_help_name = TakeName(&rest, /*colon=*/true);
      if (pending_help_name.empty() || rest.empty() || rest.front() != ' ') {
        return error("bad HELP");
      }
      pending_help = UnescapeHelp(rest.substr(1));
      continue;
    }
    if (line.substr(0, 7) == "# TYPE ") {
      std::string_view rest = line.substr(7);
      PromFamily family;
      family.name = TakeName(&rest, /*colon=*/true);
      if (family.name.empty() || rest.empty() || rest.front() != ' ') return error("bad TYPE");
      family.type = std::string(rest.substr(1));
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (!kTypes.contains(family.type)) return error("unknown type");
      if (pending_help_name != family.name) return error("TYPE without its HELP just before");
      if (!seen_families.insert(family.name).second) return error("family twice");
      family.help = pending_help;
      page.families.push_back(std::move(family));
      continue;
    }
    if (line.front() == '#') continue;  // a comment
    PromSample sample;
    sample.name = TakeName(&line, /*colon=*/true);
    if (sample.name.empty()) return error("no metric name");
    absl::StatusOr<PromLabels> labels = ParseLabels(&line);
    if (!labels.ok()) return error(std::string(labels.status().message()));
    sample.labels = std::move(*labels);
    if (line.empty() || line.front() != ' ') return error("no space before the value");
    line.remove_prefix(1);
    // An optional timestamp follows the value; we never write one.
    if (line.find(' ') != std::string_view::npos) return error("unexpected timestamp");
    absl::StatusOr<double> value = ParseValue(line);
    if (!value.ok()) return error(std::string(value.status().message()));
    sample.value = *value;
    if (page.families.empty() || !SampleBelongs(page.families.back(), sample.name)) {
      return error("sample outside its family");
    }
    if (!seen_samples.emplace(sample.name, sample.labels).second) return error("sample twice");
    page.families.back().samples.push_back(std::move(sample));
  }
  for (const PromFamily& family : page.families) {
    if (family.type != "histogram") continue;
    if (absl::Status status = CheckHistogram(family); !status.ok()) return status;
  }
  return page;
}

}  // namespace nsq::testutil
