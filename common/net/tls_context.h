// TLS for nsqd's listeners (the protocol V2 upgrade after IDENTIFY, and --https-address), on
// Boost.Asio SSL over OpenSSL, configured as Go's nsqd builds its tls.Config:
//
//   --tls-cert/--tls-key             the server's certificate and key (both, or no TLS)
//   --tls-root-ca-file               the CA that client certificates must chain to
//   --tls-client-auth-policy         require: a client certificate must be sent (not verified);
//                                    require-verify: sent and verified against the root CA
//   --tls-min-version                tls1.0 .. tls1.3
//
//   absl::StatusOr<std::shared_ptr<TlsServerContext>> tls = TlsServerContext::Create(settings);
//   boost::asio::ssl::stream<tcp::socket&> stream(socket, (*tls)->native());
//   ... handshake ...
//   TlsSessionInfo info = DescribeTlsSession(stream.native_handle());   // for /stats
//
// The context is immutable after Create and shared by every connection (OpenSSL's SSL_CTX is
// safe to share across threads once configured).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace nsq::net {

struct TlsServerSettings {
  std::string cert_file;
  std::string key_file;
  std::string root_ca_file;  // may be empty
  enum class ClientAuth { kNone, kRequire, kRequireVerify };
  ClientAuth client_auth = ClientAuth::kNone;
  std::string min_version = "tls1.0";  // tls1.0, tls1.1, tls1.2 or tls1.3
};

class TlsServerContext {
 public:
  // Loads the files and applies the settings; the error names the file that failed.
  static absl::StatusOr<std::shared_ptr<TlsServerContext>> Create(
      const TlsServerSettings& settings);
  ~TlsServerContext();

  boost::asio::ssl::context& native() { return *context_; }

 private:
  explicit TlsServerContext(std::unique_ptr<boost::asio::ssl::context> context);
  std::unique_ptr<boost::asio::ssl::context> context_;
};

// A client context for outbound TLS (nsqd asking an https:// auth server): verifies the server
// against `root_ca_file` (the system's CAs when empty), no older than `min_version`.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsClientContext(
    const std::string& root_ca_file, const std::string& min_version);

// What /stats reports about a client's TLS session, in Go nsqd's spelling.
struct TlsSessionInfo {
  std::string version;               // "TLS1.0" .. "TLS1.3"
  std::string cipher_suite;          // IANA name, e.g. "TLS_AES_128_GCM_SHA256"
  std::string negotiated_protocol;   // ALPN, usually empty
  bool negotiated_protocol_is_mutual = false;
  std::string client_cert_subject;   // the client certificate's subject, when it sent one
  std::string client_cert_issuer;
  std::string client_cert_common_name;  // what an auth server gets as common_name
};

TlsSessionInfo DescribeTlsSession(ssl_st* ssl);

}  // namespace nsq::net
