#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "common/log/logger.h"

int main(int argc, char** argv) {
  // The broker logs topic and channel life; keep test output to failures.
  nsq::log::Init("[nsqd] ", nsq::log::Level::kError);
  return doctest::Context(argc, argv).run();
}
