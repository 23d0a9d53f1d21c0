// systemd readiness notification without libsystemd: the protocol is one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, so systems without
// systemd lose nothing and the daemon needs no extra library.
#pragma once

#include <string>

namespace mfcd {

// Sends `state` (e.g. "READY=1") if $NOTIFY_SOCKET is set. Returns false on
// failure, true when sent or when there is nowhere to send.
bool sd_notify_send(const std::string& state);
// RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload expects.
bool sd_notify_reloading();

}  // namespace mfcd
