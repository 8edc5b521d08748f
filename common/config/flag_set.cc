#include "common/config/flag_set.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/util/json_string.h"
#include "common/util/status_macros.h"

namespace nsq::config {
namespace {

using Target = FlagSet::Flag::Target;

// Lets std::visit take one lambda per alternative.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Local helpers because this abseil build has its own string_view type, so absl's string
// functions do not take std::string_view.
std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> items;
  for (size_t comma; (comma = text.find(',')) != std::string_view::npos;) {
    items.push_back(text.substr(0, comma));
    text.remove_prefix(comma + 1);
  }
  items.push_back(text);
  return items;
}

// Nanoseconds per Go duration unit; 0 when the unit is unknown.
int64_t UnitNanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  // Go accepts "us" and both spellings of micro: U+00B5 (micro sign) and U+03BC (Greek mu).
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return 0;
}

absl::StatusOr<int64_t> ParseDecimalInt(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  int64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(
        absl::StrCat("integer \"", std::string(text), "\" is out of range"));
  }
  if (digits.empty() || (text[0] == '+' && digits[0] == '-') || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(text), "\" is not a decimal integer"));
  }
  return value;
}

absl::StatusOr<double> ParseFloat(std::string_view text) {
  std::string_view digits = TrimSpaces(text);
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  double value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\" is not a number"));
  }
  return value;
}

// A comma-separated list of numbers, as Go nsqd's FloatArray flag takes them.
absl::StatusOr<std::vector<double>> ParseFloatList(std::string_view text) {
  std::vector<double> values;
  for (std::string_view item : SplitCommas(text)) {
    NSQ_ASSIGN_OR_RETURN(double value, ParseFloat(item));
    values.push_back(value);
  }
  return values;
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> items;
  for (std::string_view item : SplitCommas(text)) {
    items.emplace_back(TrimSpaces(item));
  }
  return items;
}

// Shortest text that reads back as the same double, which is also how Go's encoding/json writes
// the usual values (1 -> "1", 0.99 -> "0.99").
std::string FormatDouble(double value) {
  char buffer[64];
  auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, ptr);
}

// Applies one command-line occurrence. `first` is true for the first occurrence of the flag, when
// a list drops what the default or the config file put there.
absl::Status SetFromText(const Target& target, std::string_view text, bool first) {
  return std::visit(Overloaded{
                        [&](bool* value) -> absl::Status {
                          NSQ_ASSIGN_OR_RETURN(*value, ParseGoBool(text));
                          return absl::OkStatus();
                        },
                        [&](int64_t* value) -> absl::Status {
                          NSQ_ASSIGN_OR_RETURN(*value, ParseDecimalInt(text));
                          return absl::OkStatus();
                        },
                        [&](std::string* value) -> absl::Status {
                          *value = std::string(text);
                          return absl::OkStatus();
                        },
                        [&](absl::Duration* value) -> absl::Status {
                          NSQ_ASSIGN_OR_RETURN(*value, ParseGoDuration(text));
                          return absl::OkStatus();
                        },
                        [&](std::vector<std::string>* values) -> absl::Status {
                          if (first) values->clear();
                          values->emplace_back(text);
                          return absl::OkStatus();
                        },
                        [&](std::vector<double>* values) -> absl::Status {
                          NSQ_ASSIGN_OR_RETURN(std::vector<double> parsed, ParseFloatList(text));
                          if (first) values->clear();
                          values->insert(values->end(), parsed.begin(), parsed.end());
                          return absl::OkStatus();
                        },
                    },
                    target);
}

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

absl::Status WrongType(const toml::node& node, std::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", std::string(expected), ", got ", std::string(TomlTypeName(node))));
}

// Applies one config-file value. Besides the natural TOML type, the conversions go-options makes
// are accepted: a string for a boolean or an integer, an integer for a duration (milliseconds),
// and a comma-separated string for a list.
absl::Status SetFromToml(const Target& target, const toml::node& node, bool accepts_boolean) {
  return std::visit(
      Overloaded{
          [&](bool* value) -> absl::Status {
            if (auto b = node.value_exact<bool>()) {
              *value = *b;
            } else if (auto s = node.value_exact<std::string>()) {
              NSQ_ASSIGN_OR_RETURN(*value, ParseGoBool(*s));
            } else {
              return WrongType(node, "a boolean");
            }
            return absl::OkStatus();
          },
          [&](int64_t* value) -> absl::Status {
            if (auto i = node.value_exact<int64_t>()) {
              *value = *i;
            } else if (auto s = node.value_exact<std::string>()) {
              NSQ_ASSIGN_OR_RETURN(*value, ParseDecimalInt(*s));
            } else {
              return WrongType(node, "an integer");
            }
            return absl::OkStatus();
          },
          [&](std::string* value) -> absl::Status {
            if (auto s = node.value_exact<std::string>()) {
              *value = *s;
            } else if (auto b = node.value_exact<bool>(); b && accepts_boolean) {
              *value = *b ? "true" : "false";
            } else {
              return WrongType(node, accepts_boolean ? "a string or a boolean" : "a string");
            }
            return absl::OkStatus();
          },
          [&](absl::Duration* value) -> absl::Status {
            if (auto s = node.value_exact<std::string>()) {
              NSQ_ASSIGN_OR_RETURN(*value, ParseGoDuration(*s));
            } else if (auto i = node.value_exact<int64_t>()) {
              *value = absl::Milliseconds(*i);
            } else {
              return WrongType(node, "a duration string such as \"60s\"");
            }
            return absl::OkStatus();
          },
          [&](std::vector<std::string>* values) -> absl::Status {
            if (auto s = node.value_exact<std::string>()) {
              *values = SplitCommaList(*s);
              return absl::OkStatus();
            }
            const toml::array* array = node.as_array();
            if (array == nullptr) return WrongType(node, "an array of strings");
            std::vector<std::string> parsed;
            for (const toml::node& element : *array) {
              auto s = element.value_exact<std::string>();
              if (!s) return WrongType(element, "an array of strings");
              parsed.push_back(*s);
            }
            *values = std::move(parsed);
            return absl::OkStatus();
          },
          [&](std::vector<double>* values) -> absl::Status {
            if (auto s = node.value_exact<std::string>()) {
              NSQ_ASSIGN_OR_RETURN(*values, ParseFloatList(*s));
              return absl::OkStatus();
            }
            const toml::array* array = node.as_array();
            if (array == nullptr) return WrongType(node, "an array of numbers");
            std::vector<double> parsed;
            for (const toml::node& element : *array) {
              // value<double> also converts integers, so [1, 0.99] works.
              auto number = element.is_number() ? element.value<double>() : std::nullopt;
              if (!number) return WrongType(element, "an array of numbers");
              parsed.push_back(*number);
            }
            *values = std::move(parsed);
            return absl::OkStatus();
          },
      },
      target);
}

std::string ToJson(const Target& target) {
  return std::visit(Overloaded{
                        [](bool* value) -> std::string { return *value ? "true" : "false"; },
                        [](int64_t* value) -> std::string { return absl::StrCat(*value); },
                        [](std::string* value) { return util::QuoteJsonString(*value); },
                        [](absl::Duration* value) -> std::string {
                          return absl::StrCat(absl::ToInt64Nanoseconds(*value));
                        },
                        [](std::vector<std::string>* values) {
                          std::string json = "[";
                          for (size_t i = 0; i < values->size(); ++i) {
                            if (i > 0) json += ",";
                            json += util::QuoteJsonString((*values)[i]);
                          }
                          return json + "]";
                        },
                        [](std::vector<double>* values) {
                          std::string json = "[";
                          for (size_t i = 0; i < values->size(); ++i) {
                            if (i > 0) json += ",";
                            json += FormatDouble((*values)[i]);
                          }
                          return json + "]";
                        },
                    },
                    target);
}

// How the default is shown in the usage text; empty for a zero value, which Go does not show.
std::string DefaultText(const Target& target) {
  return std::visit(
      Overloaded{
          [](bool* value) -> std::string { return *value ? "true" : ""; },
          [](int64_t* value) -> std::string { return *value == 0 ? "" : absl::StrCat(*value); },
          [](std::string* value) -> std::string {
            return value->empty() ? "" : absl::StrCat("\"", *value, "\"");
          },
          [](absl::Duration* value) -> std::string {
            return *value == absl::ZeroDuration() ? "" : absl::FormatDuration(*value);
          },
          [](std::vector<std::string>* values) { return absl::StrJoin(*values, ","); },
          [](std::vector<double>* values) {
            return absl::StrJoin(*values, ",", [](std::string* out, double value) {
              out->append(FormatDouble(value));
            });
          },
      },
      target);
}

std::string_view TypeName(const Target& target) {
  return std::visit(Overloaded{
                        [](bool*) { return std::string_view(); },
                        [](int64_t*) { return std::string_view("int"); },
                        [](std::string*) { return std::string_view("string"); },
                        [](absl::Duration*) { return std::string_view("duration"); },
                        [](std::vector<std::string>*) { return std::string_view("value"); },
                        [](std::vector<double>*) { return std::string_view("value"); },
                    },
                    target);
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", std::string(text), "\""));
  };
  constexpr __int128 kMaxNanoseconds = INT64_MAX;

  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return absl::ZeroDuration();
  if (rest.empty()) return invalid();

  // 128-bit arithmetic so that no intermediate step can overflow before the range check.
  __int128 total = 0;
  while (!rest.empty()) {
    __int128 whole = 0;
    bool has_digits = false;
    while (!rest.empty() && IsDigit(rest[0])) {
      whole = whole * 10 + (rest[0] - '0');
      if (whole > kMaxNanoseconds) return invalid();
      has_digits = true;
      rest.remove_prefix(1);
    }
    // Fraction digits past 18 cannot change a nanosecond count in range, so they are dropped.
    __int128 fraction = 0;
    __int128 scale = 1;
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      while (!rest.empty() && IsDigit(rest[0])) {
        if (scale < 1'000'000'000'000'000'000) {
          fraction = fraction * 10 + (rest[0] - '0');
          scale *= 10;
        }
        has_digits = true;
        rest.remove_prefix(1);
      }
    }
    if (!has_digits) return invalid();

    size_t unit_length = 0;
    while (unit_length < rest.size() && rest[unit_length] != '.' && !IsDigit(rest[unit_length])) {
      ++unit_length;
    }
    std::string_view unit = rest.substr(0, unit_length);
    rest.remove_prefix(unit_length);
    if (unit.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing unit in duration \"", std::string(text), "\" (write e.g. 60s, 250ms or 1h30m)"));
    }
    int64_t unit_ns = UnitNanoseconds(unit);
    if (unit_ns == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown unit \"", std::string(unit),
                                                     "\" in duration \"", std::string(text), "\""));
    }
    total += whole * unit_ns + fraction * unit_ns / scale;
    if (total > kMaxNanoseconds) return invalid();
  }
  int64_t nanoseconds = static_cast<int64_t>(total);
  return absl::Nanoseconds(negative ? -nanoseconds : nanoseconds);
}

absl::StatusOr<bool> ParseGoBool(std::string_view text) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) return true;
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) return false;
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\" is not a boolean"));
}

FlagSet::Flag::Flag(std::string name, Target target, std::string help)
    : name_(std::move(name)), target_(target), help_(std::move(help)) {
  config_key_ = absl::StrReplaceAll(name_, {{"-", "_"}});
  default_text_ = DefaultText(target_);
}

FlagSet::Flag& FlagSet::Flag::ConfigKey(std::string key) {
  config_key_ = std::move(key);
  command_line_only_ = false;
  return *this;
}

FlagSet::Flag& FlagSet::Flag::CommandLineOnly() {
  config_key_.clear();
  command_line_only_ = true;
  return *this;
}

FlagSet::Flag& FlagSet::Flag::ImplicitValue(std::string value) {
  implicit_value_ = std::move(value);
  return *this;
}

FlagSet::FlagSet(std::string program) : program_(std::move(program)) {}

FlagSet::~FlagSet() = default;

FlagSet::Flag& FlagSet::Add(std::string name, Flag::Target target, std::string help) {
  if (FindByName(name) != nullptr) {
    std::cerr << "FlagSet " << program_ << ": flag --" << name << " registered twice\n";
    std::abort();
  }
  flags_.push_back(std::unique_ptr<Flag>(new Flag(std::move(name), target, std::move(help))));
  return *flags_.back();
}

FlagSet::Flag& FlagSet::AddBool(std::string name, bool* target, std::string help) {
  return Add(std::move(name), target, std::move(help)).ImplicitValue("true");
}

FlagSet::Flag& FlagSet::AddInt(std::string name, int64_t* target, std::string help) {
  return Add(std::move(name), target, std::move(help));
}

FlagSet::Flag& FlagSet::AddString(std::string name, std::string* target, std::string help) {
  return Add(std::move(name), target, std::move(help));
}

FlagSet::Flag& FlagSet::AddDuration(std::string name, absl::Duration* target, std::string help) {
  return Add(std::move(name), target, std::move(help));
}

FlagSet::Flag& FlagSet::AddStringList(std::string name, std::vector<std::string>* target,
                                      std::string help) {
  return Add(std::move(name), target, std::move(help));
}

FlagSet::Flag& FlagSet::AddFloatList(std::string name, std::vector<double>* target,
                                     std::string help) {
  return Add(std::move(name), target, std::move(help));
}

FlagSet::Flag& FlagSet::AddConfigFile(std::string name, std::string* path, std::string help) {
  Flag& flag = Add(std::move(name), path, std::move(help)).CommandLineOnly();
  config_file_flag_ = &flag;
  return flag;
}

FlagSet::Flag* FlagSet::FindByName(std::string_view name) const {
  for (const auto& flag : flags_) {
    if (flag->name_ == name) return flag.get();
  }
  return nullptr;
}

FlagSet::Flag* FlagSet::FindByConfigKey(std::string_view key) const {
  for (const auto& flag : flags_) {
    if (!flag->command_line_only_ && flag->config_key_ == key) return flag.get();
  }
  return nullptr;
}

absl::StatusOr<ParseResult> FlagSet::Parse(int argc, const char* const* argv) {
  struct Occurrence {
    Flag* flag;
    std::string value;
  };
  std::vector<Occurrence> given;
  ParseResult result;
  set_on_command_line_.clear();

  // First read the whole command line, so the config file is known before any value is applied.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", argv[i + 1],
                                                       "\" (flags are written --name=value)"));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", std::string(arg),
                                                     "\" (flags are written --name=value)"));
    }
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      return absl::InvalidArgumentError(absl::StrCat("bad flag syntax: ", std::string(arg)));
    }
    std::optional<std::string_view> inline_value;
    if (size_t equals = name.find('='); equals != std::string_view::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }

    Flag* flag = FindByName(name);
    if (flag == nullptr) {
      if (name == "help" || name == "h") {
        result.help_requested = true;
        return result;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("flag provided but not defined: --", std::string(name)));
    }
    std::string value;
    if (inline_value) {
      value = std::string(*inline_value);
    } else if (flag->implicit_value_) {
      value = *flag->implicit_value_;
    } else if (i + 1 < argc) {
      value = argv[++i];  // As in Go, the next argument is the value even if it starts with '-'.
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag needs an argument: --", std::string(name)));
    }
    given.push_back({flag, std::move(value)});
  }

  if (config_file_flag_ != nullptr) {
    std::string* path = std::get<std::string*>(config_file_flag_->target_);
    for (const Occurrence& occurrence : given) {
      if (occurrence.flag == config_file_flag_) *path = occurrence.value;
    }
    if (!path->empty()) {
      NSQ_RETURN_IF_ERROR(LoadConfigFile(*path, &result.ignored_config_keys));
      result.config_file = *path;
    }
  }

  // Command-line values go last so they override the config file.
  for (const Occurrence& occurrence : given) {
    Flag& flag = *occurrence.flag;
    bool first = set_on_command_line_.insert(flag.name_).second;
    absl::Status status = SetFromText(flag.target_, occurrence.value, first);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid value \"", occurrence.value,
                                                     "\" for flag --", flag.name_, ": ",
                                                     status.message()));
    }
  }
  return result;
}

absl::Status FlagSet::LoadConfigFile(const std::string& path, std::vector<std::string>* ignored) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file \"", path, "\": ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read config file \"", path, "\""));
  }

  toml::table table;
  try {
    table = toml::parse(contents.str(), path);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid config file \"", path, "\": line ", error.source().begin.line, ", column ",
        error.source().begin.column, ": ", std::string(error.description())));
  }

  for (const auto& [key, node] : table) {
    Flag* flag = FindByConfigKey(key.str());
    if (flag == nullptr) {
      ignored->emplace_back(key.str());
      continue;
    }
    absl::Status status = SetFromToml(flag->target_, node, flag->implicit_value_.has_value());
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config file \"", path, "\": key ", std::string(key.str()), ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

bool FlagSet::IsSetOnCommandLine(std::string_view name) const {
  return set_on_command_line_.find(name) != set_on_command_line_.end();
}

std::optional<std::string> FlagSet::ValueJson(std::string_view config_key) const {
  Flag* flag = FindByConfigKey(config_key);
  if (flag == nullptr) return std::nullopt;
  return ToJson(flag->target_);
}

std::vector<std::string> FlagSet::ConfigKeys() const {
  std::vector<std::string> keys;
  for (const auto& flag : flags_) {
    if (!flag->command_line_only_) keys.push_back(flag->config_key_);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string FlagSet::Usage() const {
  std::vector<const Flag*> sorted;
  for (const auto& flag : flags_) sorted.push_back(flag.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const Flag* a, const Flag* b) { return a->name_ < b->name_; });

  std::string usage = absl::StrCat("Usage of ", program_, ":\n");
  for (const Flag* flag : sorted) {
    absl::StrAppend(&usage, "  --", flag->name_);
    std::string_view type = TypeName(flag->target_);
    if (!type.empty()) absl::StrAppend(&usage, " ", std::string(type));
    absl::StrAppend(&usage, "\n        ", flag->help_);
    if (!flag->default_text_.empty()) {
      absl::StrAppend(&usage, " (default ", flag->default_text_, ")");
    }
    usage += "\n";
  }
  return usage;
}

namespace {

// `value` / 10^digits with trailing fractional zeros removed ("1.5", "10", "0.25").
std::string FixedPoint(int64_t value, int digits) {
  int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string out = std::to_string(value / scale);
  int64_t fraction = value % scale;
  if (fraction == 0) return out;
  std::string fraction_text = std::to_string(fraction);
  fraction_text.insert(0, static_cast<size_t>(digits) - fraction_text.size(), '0');
  while (fraction_text.back() == '0') fraction_text.pop_back();
  return out + "." + fraction_text;
}

}  // namespace

std::string FormatGoDuration(absl::Duration duration) {
  const int64_t ns = absl::ToInt64Nanoseconds(duration);
  if (ns == 0) return "0s";
  const std::string sign = ns < 0 ? "-" : "";
  const uint64_t magnitude = ns < 0 ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  const auto value = static_cast<int64_t>(magnitude);
  if (magnitude < 1'000) return sign + std::to_string(value) + "ns";
  if (magnitude < 1'000'000) return sign + FixedPoint(value, 3) + "\xC2\xB5s";  // µs
  if (magnitude < 1'000'000'000) return sign + FixedPoint(value, 6) + "ms";
  constexpr int64_t kMinute = 60'000'000'000;
  constexpr int64_t kHour = 60 * kMinute;
  std::string out = sign;
  if (value >= kHour) out += std::to_string(value / kHour) + "h";
  if (value >= kMinute) out += std::to_string((value / kMinute) % 60) + "m";
  out += FixedPoint(value % kMinute, 9) + "s";
  return out;
}

}  // namespace nsq::config
