// What nsqd's plain HTTP port answers when --tls-required=true: every request gets 403 and
// the HTTPS port to retry on, as Go's nsqd writes it ({"message": "TLS_REQUIRED",
// "https_port": N}, spaces included; go-nsq's HTTP client follows it). --tls-required=tcp-https
// leaves plain HTTP open and does not use this.
#pragma once

#include "common/http/http_message.h"

namespace nsq::nsqd {

class TlsRequiredHandler final : public http::HttpHandler {
 public:
  // `api` supplies the body limits; `https_port` is read at each request (it is known only once
  // the HTTPS listener is bound).
  TlsRequiredHandler(http::HttpHandler* api, const int* https_port)
      : api_(api), https_port_(https_port) {}

  std::optional<http::HttpResponse> CheckBeforeBody(const http::HttpRequest& request) const override {
    return Refusal();
  }
  http::HttpResponse Handle(const http::HttpRequest& request) override { return Refusal(); }
  int64_t MaxRequestBodySize() const override { return api_->MaxRequestBodySize(); }
  http::HttpResponse BodyTooLarge(const http::HttpRequest& request) const override {
    return Refusal();
  }

 private:
  http::HttpResponse Refusal() const;

  http::HttpHandler* api_;
  const int* https_port_;
};

}  // namespace nsq::nsqd
