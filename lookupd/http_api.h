// LookupdHttpApi: nsqlookupd's HTTP discovery API (NSQ-REFERENCE §7.3) as plain request ->
// response functions over the RegistrationDb: /ping, /info, /lookup, /topics, /channels,
// /nodes, /topic/create, /topic/delete, /channel/create, /channel/delete, /topic/tombstone and
// /debug, with upstream's status codes and JSON shapes. The shared common/http server moves the
// bytes; unit tests call Handle() directly.
//
// Lifecycle: owned by the Lookupd, used on its event-loop thread; the database and options
// must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/http/http_message.h"
#include "lookupd/options.h"
#include "lookupd/registration_db.h"

namespace nsq::lookupd {

class LookupdHttpApi final : public http::HttpHandler {
 public:
  // Request bodies are ignored; this bounds what the server reads of one.
  static constexpr int64_t kMaxBodySize = 1 << 20;

  LookupdHttpApi(RegistrationDb* db, const LookupdOptions* options, std::string version)
      : db_(db), options_(options), version_(std::move(version)) {}

  http::HttpResponse Handle(const http::HttpRequest& request) override;
  int64_t MaxRequestBodySize() const override { return kMaxBodySize; }
  http::HttpResponse BodyTooLarge(const http::HttpRequest& request) const override;

 private:
  RegistrationDb* db_;
  const LookupdOptions* options_;
  std::string version_;
};

}  // namespace nsq::lookupd
