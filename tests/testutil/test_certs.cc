#include "tests/testutil/test_certs.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testutil/process.h"

namespace nsq::testutil {
namespace {

// Runs `openssl args...`; an error with its output when it fails.
absl::Status OpenSsl(std::vector<std::string> args) {
  Process::Options options;
  options.argv = {FindOnPath("openssl", "/usr/bin/openssl")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  auto process = Process::Start(std::move(options));
  if (!process.ok()) return process.status();
  std::optional<ExitStatus> status = (*process)->Wait(std::chrono::seconds(30));
  if (!status.has_value() || !status->exited() || status->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("openssl ", args.front(), " failed:\n", (*process)->Output()));
  }
  return absl::OkStatus();
}

std::vector<std::string> NewKey(const std::string& key) {
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key};
}

// A certificate for `key`'s CSR, signed by the CA, with `extensions` (a file) applied.
absl::Status Sign(const std::string& dir, const std::string& name, const std::string& subject,
                  const std::string& extensions) {
  std::vector<std::string> request = {"req"};
  for (std::string& arg : NewKey(dir + "/" + name + ".key")) request.push_back(std::move(arg));
  request.insert(request.end(), {"-out", dir + "/" + name + ".csr", "-subj", subject});
  if (absl::Status s = OpenSsl(request); !s.ok()) return s;
  return OpenSsl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.pem",
                  "-CAkey", dir + "/ca.key", "-CAcreateserial", "-out", dir + "/" + name + ".pem",
                  "-days", "2", "-extfile", extensions});
}

}  // namespace

absl::StatusOr<TestCerts> TestCerts::Generate(const std::string& dir) {
  TestCerts certs;
  std::vector<std::string> ca = {"req", "-x509"};
  for (std::string& arg : NewKey(dir + "/ca.key")) ca.push_back(std::move(arg));
  ca.insert(ca.end(), {"-out", dir + "/ca.pem", "-days", "2", "-subj", "/CN=nsq-test-ca"});
  if (absl::Status s = OpenSsl(ca); !s.ok()) return s;

  const std::string server_ext = dir + "/server.ext";
  const std::string client_ext = dir + "/client.ext";
  std::ofstream(server_ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            << "extendedKeyUsage=serverAuth\n";
  std::ofstream(client_ext) << "extendedKeyUsage=clientAuth\n";
  if (absl::Status s = Sign(dir, "server", "/CN=127.0.0.1", server_ext); !s.ok()) return s;
  if (absl::Status s = Sign(dir, "client", "/CN=nsq-test-client", client_ext); !s.ok()) return s;

  std::vector<std::string> rogue = {"req", "-x509"};
  for (std::string& arg : NewKey(dir + "/rogue.key")) rogue.push_back(std::move(arg));
  rogue.insert(rogue.end(), {"-out", dir + "/rogue.pem", "-days", "2", "-subj", "/CN=rogue"});
  if (absl::Status s = OpenSsl(rogue); !s.ok()) return s;

  certs.ca_cert = dir + "/ca.pem";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server.key";
  certs.client_cert = dir + "/client.pem";
  certs.client_key = dir + "/client.key";
  certs.rogue_cert = dir + "/rogue.pem";
  certs.rogue_key = dir + "/rogue.key";
  return certs;
}

CertsDir::CertsDir() : dir_("nsq-certs") {
  absl::StatusOr<TestCerts> certs = TestCerts::Generate(dir_.path());
  if (!certs.ok()) {
    std::fprintf(stderr, "CertsDir: %s\n", std::string(certs.status().message()).c_str());
    std::abort();
  }
  certs_ = *certs;
}

}  // namespace nsq::testutil
