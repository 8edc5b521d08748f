#include "tests/testutil/temp_dir.h"

#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace nsq::testutil {

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = "/tmp/";
  pattern.append(prefix);
  pattern.append("-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "TempDir: mkdtemp(%s) failed: %s\n", pattern.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  path_ = std::move(pattern);
}

TempDir::~TempDir() {
  const char* keep = std::getenv("NSQ_TEST_KEEP_TMP");
  if (keep != nullptr && *keep != '\0' && std::string_view(keep) != "0") {
    std::fprintf(stderr, "TempDir: keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;  // best effort: a leftover dir in /tmp must not fail a test
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(std::string_view name) const {
  std::string out = path_;
  out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace nsq::testutil
