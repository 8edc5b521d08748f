#include "common/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>

#include "absl/strings/str_format.h"

namespace nsq::net {
namespace {

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

std::string NameLine(X509_NAME* name) {
  if (name == nullptr) return "";
  char buffer[512];
  X509_NAME_oneline(name, buffer, sizeof(buffer));
  return buffer;
}

// OpenSSL's number for a --tls-min-version value (tls1.0 when unknown; flags are validated).
int ProtocolVersion(const std::string& min_version) {
  if (min_version == "tls1.1") return TLS1_1_VERSION;
  if (min_version == "tls1.2") return TLS1_2_VERSION;
  if (min_version == "tls1.3") return TLS1_3_VERSION;
  return TLS1_VERSION;
}

// "require": a certificate must be presented, but nsqd (Go's RequireAnyClientCert) does not
// check what signed it.
int AcceptAnyCertificate(int /*preverified*/, X509_STORE_CTX* /*context*/) { return 1; }

}  // namespace

TlsServerContext::TlsServerContext(std::unique_ptr<boost::asio::ssl::context> context)
    : context_(std::move(context)) {}

TlsServerContext::~TlsServerContext() = default;

absl::StatusOr<std::shared_ptr<TlsServerContext>> TlsServerContext::Create(
    const TlsServerSettings& settings) {
  auto context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  const int min_version = ProtocolVersion(settings.min_version);
  // Debian's OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; an operator who asks
  // for them gets them, as with Go.
  if (min_version < TLS1_2_VERSION) SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

  if (SSL_CTX_use_certificate_chain_file(ctx, settings.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--tls-cert %s: %s", settings.cert_file, OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--tls-key %s: %s", settings.key_file, OpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--tls-key %s does not belong to --tls-cert %s", settings.key_file, settings.cert_file));
  }
  if (!settings.root_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, settings.root_ca_file.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--tls-root-ca-file %s: %s", settings.root_ca_file, OpenSslError()));
    }
    // The CA names sent in the CertificateRequest, so clients know which certificate to send.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.root_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
  }
  switch (settings.client_auth) {
    case TlsServerSettings::ClientAuth::kNone:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case TlsServerSettings::ClientAuth::kRequire:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case TlsServerSettings::ClientAuth::kRequireVerify:
      if (settings.root_ca_file.empty()) {
        return absl::InvalidArgumentError(
            "--tls-client-auth-policy=require-verify needs --tls-root-ca-file to verify with");
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return std::shared_ptr<TlsServerContext>(new TlsServerContext(std::move(context)));
}

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsClientContext(
    const std::string& root_ca_file, const std::string& min_version) {
  auto context =
      std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, ProtocolVersion(min_version));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const bool loaded =
      root_ca_file.empty()
          ? SSL_CTX_set_default_verify_paths(ctx) == 1
          : SSL_CTX_load_verify_locations(ctx, root_ca_file.c_str(), nullptr) == 1;
  if (!loaded) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--tls-root-ca-file %s: %s", root_ca_file, OpenSslError()));
  }
  return context;
}

TlsSessionInfo DescribeTlsSession(ssl_st* ssl) {
  TlsSessionInfo info;
  if (ssl == nullptr) return info;
  switch (SSL_version(ssl)) {
    case TLS1_VERSION:
      info.version = "TLS1.0";
      break;
    case TLS1_1_VERSION:
      info.version = "TLS1.1";
      break;
    case TLS1_2_VERSION:
      info.version = "TLS1.2";
      break;
    case TLS1_3_VERSION:
      info.version = "TLS1.3";
      break;
    default:
      info.version = SSL_get_version(ssl);
  }
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    const char* name = SSL_CIPHER_standard_name(cipher);
    info.cipher_suite = name != nullptr ? name : SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr) {
    info.negotiated_protocol.assign(reinterpret_cast<const char*>(alpn), alpn_length);
    info.negotiated_protocol_is_mutual = true;
  }
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    info.client_cert_subject = NameLine(X509_get_subject_name(peer));
    info.client_cert_issuer = NameLine(X509_get_issuer_name(peer));
    char common_name[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, common_name,
                                  sizeof(common_name)) > 0) {
      info.client_cert_common_name = common_name;
    }
    X509_free(peer);
  }
  return info;
}

}  // namespace nsq::net
