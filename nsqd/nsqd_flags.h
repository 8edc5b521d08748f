// nsqd's command line and TOML config file: NSQ's flag names, defaults and precedence
// (explicit flag > config file > default), validated into NsqdOptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

struct NsqdCommandLine {
  NsqdOptions options;
  bool show_version = false;  // --version
  bool show_help = false;     // --help / -h
  std::string help_text;      // usage, filled when show_help
  // Keys of the --config file that name no option (nsqd ignores them; we warn).
  std::vector<std::string> ignored_config_keys;
};

// Parses argv (argv[0] is the program). Unknown flags, bad values, an unreadable or invalid
// --config file and out-of-range settings (e.g. --node-id outside [0,1024)) are errors whose
// message is fit to print as is.
absl::StatusOr<NsqdCommandLine> ParseNsqdCommandLine(int argc, const char* const* argv);

// Refuses the settings of features this nsqd does not have (yet): experiments other than
// topology-aware-consumption, and non-default values of Go-internal tuning (--max-bytes-per-file,
// --queue-scan-*). Accepting such a flag and doing nothing would mislead the operator, so nsqd
// refuses to start with this error, which names the flag. Run by main after parsing.
absl::Status CheckSupported(const NsqdOptions& options);

// The JSON encoding of one option by its config-file key, for GET /config/:opt
// (durations as nanosecond integers, log_level as its number). nullopt for an unknown key.
std::optional<std::string> NsqdConfigValueJson(const NsqdOptions& options, std::string_view key);

}  // namespace nsq::nsqd
