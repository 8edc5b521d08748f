#include "nsqd/http/tls_required.h"

#include "absl/strings/str_format.h"

namespace nsq::nsqd {

http::HttpResponse TlsRequiredHandler::Refusal() const {
  http::HttpResponse response;
  response.status = 403;
  response.headers = {{"X-NSQ-Content-Type", "nsq; version=1.0"},
                      {"Content-Type", "application/json; charset=utf-8"}};
  response.body =
      absl::StrFormat(R"({"message": "TLS_REQUIRED", "https_port": %d})", *https_port_);
  return response;
}

}  // namespace nsq::nsqd
