// Asking the auth servers (--auth-http-address) whether a client's AUTH secret is good, and what
// it may do. ClientConn talks to the Authenticator interface; HttpAuthenticator is nsqd's:
// each server in random order until one answers 200 with a valid document, GET with the
// parameters in the query string (or --auth-http-request-method=post: a JSON body whose values
// are arrays of strings), over HTTPS when the address is an https:// URL.
//
//   HttpAuthenticator auth(&io, options);
//   auth.Query({.remote_ip = "10.0.0.7", .tls = true, .secret = "s3cret"},
//              [](absl::StatusOr<AuthState> state) { ... });   // later, on the loop thread
//
// Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nsqd/auth/auth_state.h"
#include "nsqd/options.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace nsq::nsqd {

// What nsqd tells the auth server about the client.
struct AuthQuery {
  std::string remote_ip;
  bool tls = false;
  std::string secret;       // the AUTH body
  std::string common_name;  // the subject CN of the client's TLS certificate, if any
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `done` runs exactly once, later, on the loop thread: the parsed answer, or an error saying
  // why no server gave one (for the log only: the client just gets E_AUTH_FAILED).
  virtual void Query(const AuthQuery& query,
                     std::function<void(absl::StatusOr<AuthState>)> done) = 0;
};

class HttpAuthenticator final : public Authenticator {
 public:
  // How https:// auth servers are verified: against --tls-root-ca-file (the system's CAs
  // without it), no older than --tls-min-version. Fails on a CA file it cannot load, which
  // stops nsqd at startup.
  static absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> ClientTlsContext(
      const NsqdOptions& options);

  // Uses --auth-http-address, --auth-http-request-method, --http-client-*-timeout.
  HttpAuthenticator(boost::asio::io_context* io, const NsqdOptions& options,
                    std::shared_ptr<boost::asio::ssl::context> tls);
  ~HttpAuthenticator() override;

  void Query(const AuthQuery& query,
             std::function<void(absl::StatusOr<AuthState>)> done) override;

 private:
  struct Attempt;
  void TryNext(std::shared_ptr<Attempt> attempt);

  boost::asio::io_context* io_;
  std::vector<std::string> addresses_;
  bool post_ = false;
  absl::Duration connect_timeout_;
  absl::Duration request_timeout_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace nsq::nsqd
