// Logging inside the client library: lines go to Config::logger, or to stderr when none is set.
//
//   CLIENT_LOG(config_, LogLevel::kWarning, "(%s) connection lost: %s", address, why);
#pragma once

#include <string>

#include "absl/strings/str_format.h"
#include "nsq/config.h"

namespace nsq::client::internal {

void Log(const Config& config, LogLevel level, const std::string& line);

}  // namespace nsq::client::internal

#define CLIENT_LOG(config, level, ...)                                                 \
  do {                                                                                 \
    if (static_cast<int>(level) >= static_cast<int>((config).log_level)) {             \
      ::nsq::client::internal::Log((config), (level), ::absl::StrFormat(__VA_ARGS__)); \
    }                                                                                  \
  } while (0)
