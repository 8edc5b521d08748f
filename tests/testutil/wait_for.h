// WaitFor: poll a condition until it holds or a deadline passes. Tests use it to wait for an
// effect they cannot be told about (a /stats counter, a file, a process state) instead of
// sleeping for a guessed time.
//
//   REQUIRE(WaitFor([&] { return StatsDepth(port, "t") == 0; }, std::chrono::seconds(5)));
#pragma once

#include <chrono>
#include <functional>

namespace nsq::testutil {

// Evaluates `predicate` right away and then with a short, growing pause (1 ms up to 50 ms)
// until it returns true (→ true) or `deadline` has elapsed (→ false, after one last try).
bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds deadline);

}  // namespace nsq::testutil
