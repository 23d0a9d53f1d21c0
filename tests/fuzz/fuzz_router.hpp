// A Router on the unit tests' fakes (tests/unit/fakes.hpp), for the fuzz
// targets that drive it: RPC calls, upcalls and link events reach the same
// code as in the daemon, and after each input the fake kernel must hold
// exactly what the router believes it installed. A mismatch aborts, which
// libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "fakes.hpp"
#include "router/router.hpp"

namespace mfcd::fuzz {

// Two families' worth of links, as a small router has them.
inline core::Links fuzz_links() {
  return {{"a1", 2, true, true, false},
          {"a2", 3, true, true, false},
          {"a3", 4, true, true, false},
          {"a4", 5, false, true, false}};
}

// Routes in both families, (*,G) rules and a join: something for every
// input to hit.
inline const char* kFuzzConfig =
    "phyint a1 enable\nphyint a2 enable ttl-threshold 3\nphyint a3 enable\n"
    "mroute from a1 source 192.0.2.1 group 225.1.1.1 to a2 a3\n"
    "mroute from a1 group 225.2.0.0/16 to a2\n"
    "mroute from a2 source 2001:db8::1 group ff0e::1 to a1\n"
    "mroute from a2 group ff0e::/16 to a3\n"
    "mgroup from a3 group 225.5.5.5\n";

// The service's side of the router: nothing to run, nothing to announce.
class QuietListener final : public router::Listener {
 public:
  void entry_installed(const core::SgKey&) override {}
  void mrdisc_changed(const std::set<std::string>&, const core::Links&) override {}
};

struct FuzzRouter {
  FuzzRouter()
      : membership(&kernel.calls), router(kernel, membership, clock, listener, settings()) {
    kernel.record = false;
    router.start(test::config_from(kFuzzConfig), links);
  }

  static router::Settings settings() {
    router::Settings s;
    s.cache_timeout = 60;
    return s;
  }

  // The invariant every input must keep.
  void check_consistent() const {
    const auto table = kernel.table();
    const auto believed = test::state_lines(router.installed());
    if (table != believed) {
      std::fprintf(stderr, "fuzz: the kernel and the router's Installed disagree\nkernel:\n");
      for (const auto& line : table)
        std::fprintf(stderr, "  %s\n", line.c_str());
      std::fprintf(stderr, "router:\n");
      for (const auto& line : believed)
        std::fprintf(stderr, "  %s\n", line.c_str());
      std::abort();
    }
    std::set<core::Membership> held(membership.memberships().begin(),
                                    membership.memberships().end());
    if (held != router.installed().memberships) {
      std::fprintf(stderr, "fuzz: memberships and the router's Installed disagree\n");
      std::abort();
    }
  }

  core::Links links = fuzz_links();
  test::FakeKernel kernel;
  test::FakeMembership membership;
  test::FakeClock clock;
  QuietListener listener;
  router::Router router;
};

}  // namespace mfcd::fuzz
