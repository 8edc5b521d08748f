// A declarative command line plus TOML config file with the semantics of Go's nsqd (the Go flag
// package and mreiferson/go-options), shared by nsqd, nsqlookupd and the tools.
//
// Every flag is bound to a variable whose value at registration is the built-in default. Parse
// resolves each option as: explicit command-line flag > config file (--config) > default.
//
//   int64_t mem_queue_size = 10000;
//   absl::Duration msg_timeout = absl::Seconds(60);
//   std::string config_path;
//   nsq::config::FlagSet flags("nsqd");
//   flags.AddConfigFile("config", &config_path, "path to config file");
//   flags.AddInt("mem-queue-size", &mem_queue_size, "messages kept in memory");
//   flags.AddDuration("msg-timeout", &msg_timeout, "default in-flight timeout");
//   absl::StatusOr<nsq::config::ParseResult> parsed = flags.Parse(argc, argv);
//   if (!parsed.ok()) { print parsed.status().message(); exit(1); }
//   if (parsed->help_requested) { print flags.Usage(); exit(0); }
//
// Command-line syntax (as Go's flag package): `--name=value`, `--name value`, `-name` works like
// `--name`; a boolean is `--name` or `--name=false` (never `--name false`); `--` ends the flags.
// A list flag may be repeated and each occurrence appends. `--help`/`-h` asks for the usage.
//
// Config file: keys are the flags' config keys (the flag name with '-' replaced by '_' unless
// overridden). Types: booleans, integers, strings; durations as Go duration strings ("60s");
// lists as arrays. Keys that name no option are ignored (as nsqd does) and reported.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsq::config {

// Go's time.ParseDuration: a possibly signed sequence of decimal numbers, each with an optional
// fraction and a unit (ns, us, µs, ms, s, m, h), e.g. "1h30m", "1.5s", "250ms". "0" is the only
// number allowed without a unit.
absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text);

// Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "250µs", "10ns", "0s".
std::string FormatGoDuration(absl::Duration duration);

// Go's strconv.ParseBool: 1, t, T, TRUE, true, True and their false counterparts.
absl::StatusOr<bool> ParseGoBool(std::string_view text);

struct ParseResult {
  bool help_requested = false;  // --help or -h; nothing else was applied
  std::string config_file;      // the file that was loaded, empty when none
  // Keys of the config file that name no option; the caller may warn about them.
  std::vector<std::string> ignored_config_keys;
};

class FlagSet {
 public:
  // One registered flag; the Add* calls return it so a registration can be refined in place:
  //   flags.AddInt("node-id", &id, "...").ConfigKey("id");
  class Flag {
   public:
    // The variable a flag writes; the alternative in use is the flag's type.
    using Target = std::variant<bool*, int64_t*, std::string*, absl::Duration*,
                                std::vector<std::string>*, std::vector<double>*>;

    // The config-file key, when it is not the flag name with '-' replaced by '_'.
    Flag& ConfigKey(std::string key);
    // The option has no config-file key (--config, --version).
    Flag& CommandLineOnly();
    // The value a bare `--name` means, as for a Go flag with IsBoolFlag (e.g. --tls-required
    // means "true"). Such a flag never takes the next argument as its value, and its config key
    // also accepts a TOML boolean.
    Flag& ImplicitValue(std::string value);

   private:
    friend class FlagSet;
    Flag(std::string name, Target target, std::string help);

    std::string name_;
    Target target_;
    std::string help_;
    std::string default_text_;  // for the usage text, captured at registration
    std::string config_key_;
    bool command_line_only_ = false;
    std::optional<std::string> implicit_value_;
  };

  // `program` names the binary in the usage text.
  explicit FlagSet(std::string program);
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;
  ~FlagSet();

  // Registration. The target must outlive the FlagSet; its current value is the default.
  // Registering a name twice is a programming error (crashes).
  Flag& AddBool(std::string name, bool* target, std::string help);
  Flag& AddInt(std::string name, int64_t* target, std::string help);         // decimal, int64 range
  Flag& AddString(std::string name, std::string* target, std::string help);  // may be empty
  Flag& AddDuration(std::string name, absl::Duration* target, std::string help);
  // Repeatable. In the config file: an array of strings (or one comma-separated string).
  Flag& AddStringList(std::string name, std::vector<std::string>* target, std::string help);
  // Repeatable, and each occurrence may be a comma-separated list ("1.0,0.99").
  Flag& AddFloatList(std::string name, std::vector<double>* target, std::string help);
  // The flag whose value names the TOML file to load; command line only.
  Flag& AddConfigFile(std::string name, std::string* path, std::string help);

  // Parses argv (argv[0] is the program) and, when the config-file flag is given, the file.
  // Errors name the offending flag or config key and are fit to print as is.
  absl::StatusOr<ParseResult> Parse(int argc, const char* const* argv);

  // Whether the flag was given on the command line by the last Parse.
  bool IsSetOnCommandLine(std::string_view name) const;

  // The current value of the option with this config key as JSON, as Go's encoding/json renders
  // the option (durations in nanoseconds, lists as arrays). nullopt for an unknown key.
  std::optional<std::string> ValueJson(std::string_view config_key) const;

  // Every config key, sorted.
  std::vector<std::string> ConfigKeys() const;

  // The usage text for --help: every flag, sorted, with its help and non-zero default.
  std::string Usage() const;

 private:
  Flag& Add(std::string name, Flag::Target target, std::string help);
  Flag* FindByName(std::string_view name) const;
  Flag* FindByConfigKey(std::string_view key) const;
  absl::Status LoadConfigFile(const std::string& path, std::vector<std::string>* ignored);

  std::string program_;
  std::vector<std::unique_ptr<Flag>> flags_;
  Flag* config_file_flag_ = nullptr;
  std::set<std::string, std::less<>> set_on_command_line_;
};

}  // namespace nsq::config
