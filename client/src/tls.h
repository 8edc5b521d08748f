// TLS for the client's connections to nsqd (IDENTIFY tls_v1), on Boost.Asio SSL over OpenSSL.
// Internal; never installed.
//
//   absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context =
//       MakeClientTlsContext(config.tls_config);          // once per Producer / Consumer
//   ssl::stream<tcp::socket&> stream(socket, **context);
//   absl::Status s = PrepareClientTls(stream.native_handle(), config.tls_config, host);
//   ... async_handshake(ssl::stream_base::client) ...
//
// The context is built once per Producer or Consumer, so a bad file is reported by status()
// (or ConnectToNsqd) before any connection, and shared by its connections (only its io thread
// uses it). Per connection only the name changes: SNI and the name the certificate must carry.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nsq/config.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace nsq::client::internal {

// A client context: verifies the peer against tls.ca_file (or the system's CAs) unless
// tls.insecure_skip_verify, presents tls.cert_file/key_file when set, refuses versions older
// than tls.min_version. InvalidArgument naming the file that could not be loaded.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(
    const Config::TlsConfig& tls);

// What a Producer or Consumer starts with: the context when config.tls_v1 (else null), after
// `status` (the Config's validation) is OK; a failure becomes the new `status`.
std::shared_ptr<boost::asio::ssl::context> TlsContextFor(const Config& config,
                                                         absl::Status* status);

// Per connection, before the handshake: SNI (for a DNS name; not for an IP address, as RFC
// 6066 says) and, when verifying, the DNS name or IP address the certificate must match:
// tls.server_name, else `host` (the host of the nsqd address).
absl::Status PrepareClientTls(ssl_st* ssl, const Config::TlsConfig& tls, const std::string& host);

// Why a handshake failed, for the connection's Status: the OpenSSL error, plus the
// certificate verification result when that is what failed.
std::string DescribeTlsFailure(ssl_st* ssl, const std::string& error_message);

// "TLSv1.3" etc. of an established session.
std::string TlsVersion(ssl_st* ssl);

}  // namespace nsq::client::internal
