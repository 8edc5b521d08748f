// TempDir: a fresh directory under /tmp for one test, removed with everything in it when the
// TempDir goes away. Set NSQ_TEST_KEEP_TMP=1 to keep it (its path is printed) for a post-mortem.
//
//   TempDir dir("nsqd");
//   std::string log = dir.File("nsqd.log");
#pragma once

#include <string>
#include <string_view>

namespace nsq::testutil {

class TempDir {
 public:
  // Creates /tmp/<prefix>-XXXXXX. Aborts the test binary if that fails: nothing can go on.
  explicit TempDir(std::string_view prefix = "nsq-test");
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of an entry inside the directory.
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace nsq::testutil
