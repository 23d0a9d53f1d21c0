// The daemon's two files in shared directories, the PID file and the
// control socket, made so that neither a symlink nor a race can redirect
// them. Each is created under a fresh temporary name in its final
// directory (O_CREAT|O_EXCL|O_NOFOLLOW for the PID file, bind(2) for the
// socket: neither follows a link planted at that name), finished through
// its descriptor or under the umask, then rename(2)d over the final name,
// which replaces a link there instead of following it. The (dev, inode)
// recorded at creation says at exit whether the name is still ours, so a
// file that another daemon put there since is never removed.
//
// A socket path that a live daemon answers on is never taken over:
// claim_socket() connects to it first and only replaces it when the
// connection is refused (a socket left by a daemon that died).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace mfcd {

// What a name in the file system pointed to when we made it.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool valid() const { return ino != 0; }
  bool operator==(const FileId&) const = default;
};

// The FileId of `path` itself (a symlink is not followed); invalid if
// there is nothing there.
FileId file_id(const std::string& path);

// Unlinks `path` if it is still the file `id` was taken from. True when
// removed; false when it is gone, replaced, or the unlink failed (errno
// tells which).
bool remove_if_same(const std::string& path, FileId id);

// Creates `path`, which must not exist (a symlink there is an error,
// EEXIST, never followed), with `mode` set on the descriptor, writes `data`
// and fsyncs it. Records its FileId in `id`. Returns an error message (with
// errno left set) on failure, after removing what it created.
std::optional<std::string> write_new_file(const std::string& path, std::string_view data,
                                          mode_t mode, FileId& id);

// Writes "PID\n" to `path` as described above, mode 0644 (set on the
// descriptor, whatever the umask), synced before the rename. Returns an
// error message naming the path and the failing call; on error nothing is
// left behind and the final name is untouched.
std::optional<std::string> write_pid_file(const std::string& path, pid_t pid, FileId& id);

// What is at a socket path before we bind to it.
struct SocketProbe {
  enum class State {
    absent,      // nothing there
    stale,       // a socket nobody listens on (connect: ECONNREFUSED)
    live,        // a socket a process accepts on (or whose backlog is full)
    not_socket,  // something else: never replaced
    error,       // could not tell (message in `error`)
  } state = State::absent;
  pid_t pid = 0;  // for live: the listener's pid (SO_PEERCRED), 0 if unknown
  std::string error;
};
SocketProbe probe_socket(const std::string& path);

// A listening UNIX stream socket bound to its final path.
struct ClaimedSocket {
  int fd = -1;
  FileId id;
  std::string path;
};

// Why claim_socket() failed; `live` means another daemon answers there,
// `permission` that the socket could not be given its group (EPERM).
struct ClaimError {
  bool live = false;
  bool permission = false;
  std::string message;
};

// Probes `path`, then binds a listening socket (mode `mode` through the
// umask, `backlog`) to a temporary name in its directory and renames it
// over `path`. Daemons claiming sockets in the same directory are
// serialised by an flock(2) on it, so two that start at once cannot both
// find the path stale. The descriptor is non-blocking and close-on-exec.
// With `group`, the socket gets that group before it takes the final name,
// so no client ever sees it with the wrong one.
struct ClaimResult {
  std::optional<ClaimedSocket> socket;
  ClaimError error;
};
ClaimResult claim_socket(const std::string& path, mode_t mode, int backlog,
                         std::optional<gid_t> group = std::nullopt);

// Gives the socket at `path` group `group`, if `path` is still the socket
// `id` (a socket claimed by another daemon since is left alone). Returns
// an error naming the path and the failing call.
std::optional<std::string> set_socket_group(const std::string& path, FileId id, gid_t group);

// Replaces `path` with a file holding `data` (mode `mode`), atomically: a
// new file under a fresh temporary name beside it, fsynced, renamed over
// `path`, and the directory fsynced, so that after a crash `path` holds the
// old content or the new, never a mix. Returns an error naming the path and
// the failing call; `path` is untouched then. `made`, when given, gets the
// new file's FileId.
std::optional<std::string> replace_file(const std::string& path, std::string_view data, mode_t mode,
                                        FileId* made = nullptr);

}  // namespace mfcd
