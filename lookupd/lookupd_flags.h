// nsqlookupd's command line and TOML config file: NSQ's flag names, defaults and precedence
// (explicit flag > config file > default), validated into LookupdOptions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lookupd/options.h"

namespace nsq::lookupd {

struct LookupdCommandLine {
  LookupdOptions options;
  bool show_version = false;  // --version
  bool show_help = false;     // --help / -h
  std::string help_text;      // usage, filled when show_help
  // Keys of the --config file that name no option (nsqlookupd ignores them; we warn).
  std::vector<std::string> ignored_config_keys;
};

// Parses argv (argv[0] is the program). Unknown flags, bad values and an unreadable or invalid
// --config file are errors whose message is fit to print as is.
absl::StatusOr<LookupdCommandLine> ParseLookupdCommandLine(int argc, const char* const* argv);

}  // namespace nsq::lookupd
