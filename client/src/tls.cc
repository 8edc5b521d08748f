#include "client/src/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include "absl/strings/str_cat.h"

namespace nsq::client::internal {

namespace ssl = boost::asio::ssl;

namespace {

int ProtocolVersion(const std::string& name) {
  if (name == "tls1.0") return TLS1_VERSION;
  if (name == "tls1.1") return TLS1_1_VERSION;
  if (name == "tls1.3") return TLS1_3_VERSION;
  return TLS1_2_VERSION;  // Config::Validate allows nothing else
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

absl::Status FileError(const char* option, const std::string& file,
                       const boost::system::error_code& ec) {
  return absl::InvalidArgumentError(
      absl::StrCat("tls_config.", option, " \"", file, "\": ", ec.message()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeClientTlsContext(const Config::TlsConfig& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, ProtocolVersion(tls.min_version)) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_config.min_version \"", tls.min_version, "\" is not supported"));
  }
  boost::system::error_code ec;
  if (tls.insecure_skip_verify) {
    context->set_verify_mode(ssl::verify_none, ec);
  } else {
    context->set_verify_mode(ssl::verify_peer, ec);
    if (!tls.ca_file.empty()) {
      context->load_verify_file(tls.ca_file, ec);
      if (ec) return FileError("ca_file", tls.ca_file, ec);
    } else {
      context->set_default_verify_paths(ec);
      if (ec) {
        return absl::InternalError(absl::StrCat("loading the system's CAs: ", ec.message()));
      }
    }
  }
  if (!tls.cert_file.empty()) {
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) return FileError("cert_file", tls.cert_file, ec);
    context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) return FileError("key_file", tls.key_file, ec);
    if (SSL_CTX_check_private_key(native) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("tls_config.key_file \"", tls.key_file,
                                                     "\" does not match cert_file \"",
                                                     tls.cert_file, "\""));
    }
  }
  return context;
}

absl::Status PrepareClientTls(ssl_st* ssl, const Config::TlsConfig& tls, const std::string& host) {
  const std::string& name = tls.server_name.empty() ? host : tls.server_name;
  const bool is_ip = IsIpAddress(name);
  if (!is_ip && !name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot use \"", name, "\" as TLS SNI"));
  }
  if (tls.insecure_skip_verify) return absl::OkStatus();
  // OpenSSL checks the name during the handshake, together with the chain.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (ok != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot verify nsqd's certificate against the name \"", name, "\""));
  }
  if (!is_ip) X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return absl::OkStatus();
}

std::string DescribeTlsFailure(ssl_st* ssl, const std::string& error_message) {
  // With verify_none OpenSSL still records a result; it did not cause the failure.
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK || (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) {
    return error_message;
  }
  return absl::StrCat(error_message, ": ", X509_verify_cert_error_string(verify));
}

std::string TlsVersion(ssl_st* ssl) { return SSL_get_version(ssl); }

std::shared_ptr<ssl::context> TlsContextFor(const Config& config, absl::Status* status) {
  if (!status->ok() || !config.tls_v1) return nullptr;
  absl::StatusOr<std::shared_ptr<ssl::context>> tls = MakeClientTlsContext(config.tls_config);
  if (!tls.ok()) {
    *status = tls.status();
    return nullptr;
  }
  return std::move(*tls);
}

}  // namespace nsq::client::internal
