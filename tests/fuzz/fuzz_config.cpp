// The config parser, with includes, on an in-memory file system: the input
// is up to eight files separated by NUL bytes. The first is the main file,
// /etc/mfcd.conf; the others are /etc/mfcd.d/1.conf ... 7.conf, which
// `include /etc/mfcd.d/*.conf` (or a path of one of them) reaches. Each
// input is parsed as mfcd and as smcrouted reads it; a config that parses
// is then loaded into a Router on the fakes, which must stay consistent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "fuzz_router.hpp"

namespace {

std::vector<std::string> split_files(const uint8_t* data, size_t size) {
  std::vector<std::string> files(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && files.size() < 8) {
      files.emplace_back();
    } else {
      files.back().push_back(static_cast<char>(data[i]));
    }
  }
  return files;
}

std::string path_of(size_t i) {
  return i == 0 ? "/etc/mfcd.conf" : "/etc/mfcd.d/" + std::to_string(i) + ".conf";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mfcd;
  const std::vector<std::string> files = split_files(data, size);
  core::FileSystem fs;
  fs.read = [&](const std::string& path, size_t max_bytes) -> core::Result<std::string> {
    for (size_t i = 0; i < files.size(); ++i)
      if (path == path_of(i)) return files[i].substr(0, max_bytes + 1);
    return core::make_error(core::Errc::not_found, "No such file or directory");
  };
  fs.glob = [&](const std::string& pattern) {
    std::vector<std::string> out;
    if (pattern.rfind("/etc/mfcd.d/", 0) == 0)
      for (size_t i = 1; i < files.size(); ++i)
        out.push_back(path_of(i));
    return out;
  };
  core::ParseOptions lenient;
  lenient.mask_host_bits = true;
  lenient.skip_bad_lines = true;
  lenient.unreadable_file_ok = true;
  for (const auto& options : {core::ParseOptions{}, lenient}) {
    core::ParseResult parsed = core::parse_config_file(path_of(0), fs, options);
    if (!parsed.ok()) continue;
    fuzz::FuzzRouter r;
    r.router.apply_reload(r.router.plan_reload(parsed.config));
    r.check_consistent();
  }
  return 0;
}
