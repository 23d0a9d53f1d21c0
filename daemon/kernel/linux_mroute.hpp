// The kernel's mroute UAPI headers, included in the one order that compiles.
//
// <linux/mroute.h> pulls in <linux/in.h> and <linux/mroute6.h> pulls in
// <linux/in6.h>; both redefine struct in_addr, sockaddr_in6 and friends unless
// glibc's <netinet/in.h> came first (then <linux/libc-compat.h> sees it and
// skips its copies). Include this file instead of the linux headers directly.
// Private to kernel/: nothing outside it needs the raw structures.
#pragma once

// clang-format off
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <linux/mroute.h>
#include <linux/mroute6.h>
// clang-format on

static_assert(sizeof(struct mfcctl) == 60, "struct mfcctl must be 60 bytes (EINVAL otherwise)");
static_assert(sizeof(struct mif6ctl) == 12, "struct mif6ctl must be 12 bytes");
