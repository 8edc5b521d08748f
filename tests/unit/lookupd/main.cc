// doctest's main, with the handlers' INFO lines ("DB: adding topic(t)") kept out of the output.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "common/log/logger.h"

int main(int argc, char** argv) {
  nsq::log::Init("[nsqlookupd] ", nsq::log::Level::kWarn);
  return doctest::Context(argc, argv).run();
}
