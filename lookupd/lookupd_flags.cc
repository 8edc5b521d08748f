#include "lookupd/lookupd_flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/flag_set.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "common/util/status_macros.h"

namespace nsq::lookupd {

absl::StatusOr<LookupdCommandLine> ParseLookupdCommandLine(int argc, const char* const* argv) {
  LookupdCommandLine command_line;
  LookupdOptions& o = command_line.options;
  o.broadcast_address = net::Hostname();

  std::string config_path;
  bool deprecated_verbose = false;
  config::FlagSet flags("nsqlookupd");
  flags.AddBool("version", &command_line.show_version, "print the version and exit")
      .CommandLineOnly();
  flags.AddConfigFile("config", &config_path, "path to a TOML config file");
  flags.AddString("log-level", &o.log_level, "log verbosity: debug, info, warn, error or fatal");
  flags.AddString("log-prefix", &o.log_prefix, "prefix of every log line");
  flags.AddBool("verbose", &deprecated_verbose, "[deprecated] no effect, use --log-level")
      .CommandLineOnly();
  flags.AddString("tcp-address", &o.tcp_address, "<addr>:<port> to listen on for TCP clients");
  flags.AddString("http-address", &o.http_address, "<addr>:<port> to listen on for HTTP clients");
  flags.AddString("broadcast-address", &o.broadcast_address,
                  "address of this lookupd node (default: the hostname)");
  flags.AddDuration("inactive-producer-timeout", &o.inactive_producer_timeout,
                    "duration of time a producer will remain in the active list since its last "
                    "ping");
  flags.AddDuration("tombstone-lifetime", &o.tombstone_lifetime,
                    "duration of time a producer will remain tombstoned if registration remains");

  NSQ_ASSIGN_OR_RETURN(config::ParseResult parsed, flags.Parse(argc, argv));
  if (parsed.help_requested) {
    command_line.show_help = true;
    command_line.help_text = flags.Usage();
    return command_line;
  }
  command_line.ignored_config_keys = parsed.ignored_config_keys;
  if (command_line.show_version) return command_line;  // Go prints the version before validating.

  log::Level level;
  if (!log::ParseLevel(o.log_level, &level)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --log-level \"", o.log_level,
                                                   "\" (want debug, info, warn, error or fatal)"));
  }
  o.log_level = absl::AsciiStrToLower(o.log_level);
  return command_line;
}

}  // namespace nsq::lookupd
