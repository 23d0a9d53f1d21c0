// See conn_limits.hpp. A non-root connection is refused once the shared
// slots are all taken, whoever holds them, so the slots above `shared` stay
// free for root alone.
#include "service/conn_limits.hpp"

#include <sys/resource.h>

namespace mfcd {

std::string ConnTable::admit(uid_t uid) {
  if (uid == 0) {
    if (total_ >= limits_.shared + limits_.root_reserve)
      return "too many clients connected (" + std::to_string(total_) + ")";
  } else {
    const size_t mine = count(uid);
    if (mine >= limits_.per_uid)
      return "too many connections from uid " + std::to_string(uid) + " (limit " +
             std::to_string(limits_.per_uid) + ")";
    if (total_ >= limits_.shared)
      return "too many clients connected (" + std::to_string(total_) + ")";
  }
  ++per_uid_[uid];
  ++total_;
  return "";
}

void ConnTable::release(uid_t uid) {
  auto it = per_uid_.find(uid);
  if (it == per_uid_.end()) return;
  if (--it->second == 0) per_uid_.erase(it);
  --total_;
}

size_t ConnTable::count(uid_t uid) const {
  auto it = per_uid_.find(uid);
  return it == per_uid_.end() ? 0 : it->second;
}

size_t fit_descriptor_limit(size_t wanted, size_t reserved, std::string& note) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return wanted;
  if (rl.rlim_cur < rl.rlim_max) {
    const rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) == 0)
      note = "raised the open file limit from " + std::to_string(before) + " to " +
             std::to_string(rl.rlim_cur);
    else
      ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= wanted + reserved) return wanted;
  const size_t fit = rl.rlim_cur > reserved ? static_cast<size_t>(rl.rlim_cur) - reserved : 1;
  note = "the open file limit (" + std::to_string(rl.rlim_cur) + ") allows only " +
         std::to_string(fit) + " control connections, not " + std::to_string(wanted);
  return fit;
}

}  // namespace mfcd
