// What mfcd says when it cannot open a family's mroute socket: the kind of
// failure picks the exit code, and a missing kernel feature is named in
// words, with its kernel option, not only as an errno.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "kernel/mroute.hpp"

using mfcd::core::Family;
using mfcd::kernel::describe_open_failure;
using mfcd::kernel::OpenFailure;
using mfcd::kernel::OpenStep;

TEST_CASE("a kernel without multicast routing is named by its option") {
  auto v4 = describe_open_failure(Family::v4, OpenStep::init, "MRT_INIT", ENOPROTOOPT, 0);
  CHECK(v4.kind == OpenFailure::unsupported);
  CHECK(v4.message ==
        "this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE; MRT_INIT: Protocol not "
        "available)");

  auto v6 = describe_open_failure(Family::v6, OpenStep::init, "MRT6_INIT", ENOPROTOOPT, 0);
  CHECK(v6.kind == OpenFailure::unsupported);
  CHECK(v6.message ==
        "this kernel has no IPv6 multicast routing (CONFIG_IPV6_MROUTE; MRT6_INIT: Protocol not "
        "available)");
}

TEST_CASE("a table other than the default needs the multiple-tables option") {
  auto e = describe_open_failure(Family::v4, OpenStep::table, "MRT_TABLE 7", ENOPROTOOPT, 7);
  CHECK(e.kind == OpenFailure::unsupported);
  CHECK(e.message ==
        "this kernel has no IPv4 multicast routing tables but the default one "
        "(CONFIG_IP_MROUTE_MULTIPLE_TABLES), so table 7 cannot be used (MRT_TABLE 7: Protocol "
        "not available)");
}

TEST_CASE("IPv6 disabled at boot is said so") {
  auto e = describe_open_failure(Family::v6, OpenStep::socket,
                                 "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", EAFNOSUPPORT, 0);
  CHECK(e.kind == OpenFailure::unsupported);
  CHECK(e.message.rfind("IPv6 is disabled in this kernel (", 0) == 0);
}

TEST_CASE("other failures keep their kind and errno text") {
  auto held = describe_open_failure(Family::v4, OpenStep::init, "MRT_INIT", EADDRINUSE, 0);
  CHECK(held.kind == OpenFailure::in_use);
  CHECK(held.message ==
        "MRT_INIT: Address already in use (another multicast routing daemon holds this table)");
  auto denied = describe_open_failure(Family::v6, OpenStep::init, "MRT6_INIT", EPERM, 0);
  CHECK(denied.kind == OpenFailure::permission);
  CHECK(describe_open_failure(Family::v4, OpenStep::init, "MRT_INIT", EIO, 0).kind ==
        OpenFailure::os);
}
