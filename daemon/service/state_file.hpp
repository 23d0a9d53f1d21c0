// The state file (-S): where the routes and joins added over the API live,
// so that a crash, a kill -9 or a restart does not lose them. The service
// saves the API's state document (api/state.hpp) after every change, before
// the reply goes out, and reads it back at start. A file that cannot be
// read or understood never stops the daemon: it is reported and moved
// aside (FILE.corrupt), and the daemon starts without it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace mfcd {

class StateFile {
 public:
  // The largest state file read: a generous 250,000 routes of long names
  // fit in a tenth of it.
  static constexpr size_t kMaxBytes = 256u << 20;

  explicit StateFile(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // At start. nullopt when there is no file yet or it was unusable: then
  // `problem` says why (empty when there simply is none) and a file that was
  // there has been moved aside.
  std::optional<nlohmann::json> load(std::string& problem);

  // After a change: writes `doc` unless it is what the file already holds.
  // Returns the error on failure (the old file stays as it was).
  std::optional<std::string> save(const nlohmann::json& doc);

 private:
  std::optional<std::string> read_text(std::string& problem) const;
  void move_aside(std::string& problem) const;
  std::optional<std::string> make_directory() const;

  std::string path_;
  std::string saved_;  // what the file holds, as written (empty: not known)
};

}  // namespace mfcd
