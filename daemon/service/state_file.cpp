#include "service/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "service/safe_files.hpp"

namespace mfcd {

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

std::optional<std::string> StateFile::read_text(std::string& problem) const {
  // O_NOFOLLOW and O_NONBLOCK: neither a planted link nor a FIFO at the
  // name can redirect or stall the start.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) problem = errno_text("cannot open " + path_);
    return std::nullopt;
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0) {
    problem = errno_text("cannot stat " + path_);
  } else if (!S_ISREG(st.st_mode)) {
    problem = path_ + " is not a regular file";
  } else if (static_cast<size_t>(st.st_size) > kMaxBytes) {
    problem = path_ + " is larger than " + std::to_string(kMaxBytes >> 20) + " MiB";
  } else {
    text.resize(static_cast<size_t>(st.st_size));
    size_t have = 0;
    while (have < text.size()) {
      const ssize_t n = ::read(fd, text.data() + have, text.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        problem = n < 0 ? errno_text("cannot read " + path_) : path_ + " shrank while read";
        break;
      }
      have += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!problem.empty()) return std::nullopt;
  return text;
}

void StateFile::move_aside(std::string& problem) const {
  const std::string aside = path_ + ".corrupt";
  if (::rename(path_.c_str(), aside.c_str()) == 0)
    problem += "; moved aside to " + aside;
  else
    problem += "; could not move it aside: " + std::string(std::strerror(errno));
}

std::optional<nlohmann::json> StateFile::load(std::string& problem) {
  problem.clear();
  auto text = read_text(problem);
  if (!text) {
    // Nothing there is no problem; anything unusable there goes aside, or
    // the next save would replace the evidence.
    if (!problem.empty()) move_aside(problem);
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    problem = path_ + " is not valid JSON";
    move_aside(problem);
    return std::nullopt;
  }
  saved_ = doc.dump();
  return doc;
}

// The state directory is made on demand (the package's unit makes it with
// StateDirectory=); only its last component, never its parents.
std::optional<std::string> StateFile::make_directory() const {
  const auto slash = path_.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  const std::string dir = path_.substr(0, slash);
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return errno_text("cannot create " + dir);
  return std::nullopt;
}

std::optional<std::string> StateFile::save(const nlohmann::json& doc) {
  std::string text = doc.dump();
  if (text == saved_) return std::nullopt;
  if (auto err = make_directory()) return err;
  if (auto err = replace_file(path_, text + "\n", 0600)) return err;
  saved_ = std::move(text);
  return std::nullopt;
}

}  // namespace mfcd
