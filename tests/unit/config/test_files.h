// Helpers shared by the config tests: an argv built from strings, and a temporary file that is
// removed when the test ends.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace nsq::config::testing {

// argv for a parser: Argv args({"--a=1", "--b"}); parse(args.argc(), args.argv()).
class Argv {
 public:
  Argv(std::initializer_list<std::string> args) : strings_{"prog"} {
    strings_.insert(strings_.end(), args.begin(), args.end());
    for (const std::string& s : strings_) pointers_.push_back(s.c_str());
  }
  int argc() const { return static_cast<int>(pointers_.size()); }
  const char* const* argv() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<const char*> pointers_;
};

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char path[] = "/tmp/nsq_config_test_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
    ::close(fd);
    path_ = path;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nsq::config::testing
