// Who may hold how many control-socket connections. Without limits per
// user, one local user's idle connections could take every slot and lock
// out the operator, root included. So:
//
//   - every uid but root may hold at most `per_uid` connections;
//   - all of them together at most `shared`;
//   - root may use the shared slots and `root_reserve` more on top, which
//     no other uid can take, so root can always connect.
//
// The table only counts; the server asks before it serves a connection
// and gives the slot back when the connection goes. Pure: no sockets.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <unordered_map>

namespace mfcd {

struct ConnLimits {
  size_t shared = 1024;
  size_t per_uid = 64;
  size_t root_reserve = 32;
};

class ConnTable {
 public:
  explicit ConnTable(ConnLimits limits = {}) : limits_(limits) {}

  // Takes a slot for `uid`, or returns why not ("" when admitted).
  std::string admit(uid_t uid);
  // Gives back a slot that admit() gave `uid`.
  void release(uid_t uid);

  size_t total() const { return total_; }
  size_t count(uid_t uid) const;
  const ConnLimits& limits() const { return limits_; }

 private:
  ConnLimits limits_;
  size_t total_ = 0;  // every admitted connection, root's included
  std::unordered_map<uid_t, size_t> per_uid_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit, then says how many
// connections fit under it next to the daemon's own descriptors
// (`reserved`). Returns that number; `note` explains a raise or a limit
// too low for `wanted`.
size_t fit_descriptor_limit(size_t wanted, size_t reserved, std::string& note);

}  // namespace mfcd
