// Certificates for TLS tests, made at test time with the openssl command line (no keys are
// committed): a CA, a server certificate for 127.0.0.1/localhost signed by it, a client
// certificate signed by it, and a self-signed client certificate it did not sign. EC P-256 keys,
// valid for two days.
//
//   absl::StatusOr<TestCerts> certs = TestCerts::Generate(dir.path());
//   StartNsqd({"--tls-cert=" + certs->server_cert, "--tls-key=" + certs->server_key});
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testutil/temp_dir.h"

namespace nsq::testutil {

struct TestCerts {
  std::string ca_cert;  // PEM
  std::string server_cert;
  std::string server_key;
  std::string client_cert;  // CN=nsq-test-client, signed by the CA
  std::string client_key;
  std::string rogue_cert;   // CN=rogue, self-signed
  std::string rogue_key;

  // Writes every file into `dir` (which must exist).
  static absl::StatusOr<TestCerts> Generate(const std::string& dir);

  // --tls-cert and --tls-key for nsqd.
  std::vector<std::string> NsqdFlags() const {
    return {"--tls-cert=" + server_cert, "--tls-key=" + server_key};
  }
};

// TestCerts in a temporary directory that lives as long as this object. Aborts the test
// binary when openssl fails (nothing TLS can be tested then).
class CertsDir {
 public:
  CertsDir();
  const TestCerts& certs() const { return certs_; }

 private:
  TempDir dir_;
  TestCerts certs_;
};

}  // namespace nsq::testutil
