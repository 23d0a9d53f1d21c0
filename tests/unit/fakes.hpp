// Fakes of the ports (core/ports.hpp), for the unit tests of the core and
// the router.
//
// FakeKernel: a KernelPort that records every call as one readable line and
// keeps its own copy of the table the way the Linux mroute code would: a VIF index or an
// ifindex can be used once, OIFs naming a VIF that does not exist are
// silently dropped from an entry, deleting a VIF removes it from every
// entry, deleting a missing entry is ENOENT. Tests compare `calls` with the
// kernel changes they expect and `table()` with what mfcd believes it
// installed (state_lines(installed)). Failures are injected per call line
// prefix, the way leveldb's fault injection wraps its Env.
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/desired.hpp"
#include "core/intent.hpp"
#include "core/plan.hpp"
#include "core/ports.hpp"

namespace mfcd::test {

using Calls = std::vector<std::string>;

inline std::string errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : std::to_string(err);
}

class FakeKernel : public core::KernelPort {
 public:
  Calls calls;
  bool record = true;  // off for scale tests that only care about the table

  // The next `times` calls whose line starts with `prefix` fail with `err`
  // (times < 0: every such call). Failed calls are recorded with " -> ERRNO".
  void fail(std::string prefix, int err, int times = 1) {
    faults_.push_back(Fault{std::move(prefix), err, times});
  }

  // The interface went away: the kernel drops its VIFs on its own.
  void device_gone(const std::string& ifname) {
    for (size_t f = 0; f < 2; ++f) {
      for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
        if (vifs_[f][i] && vifs_[f][i]->ifname == ifname) drop_vif(f, i);
      }
    }
  }

  core::Result<void> add_vif(const core::VifConf& vif) override {
    const std::string line = "add_vif " + std::string(core::family_name(vif.family)) + " " +
                             std::to_string(vif.vif) + " " + vif.ifname +
                             " ifindex=" + std::to_string(vif.ifindex) +
                             " ttl=" + std::to_string(vif.ttl_threshold);
    if (int err = injected(line)) return refuse(line, err);
    if (vif.vif < 0 || vif.vif >= core::kMaxVifs) return refuse(line, ENFILE);
    auto& slots = vifs_[core::family_index(vif.family)];
    if (slots[vif.vif]) return refuse(line, EADDRINUSE);
    for (const auto& slot : slots) {
      if (slot && slot->ifindex == vif.ifindex) return refuse(line, EADDRINUSE);
    }
    slots[vif.vif] = vif;
    return accept(line);
  }

  core::Result<void> del_vif(core::Family family, core::VifIndex vif) override {
    const size_t f = core::family_index(family);
    const std::string line = "del_vif " + std::string(core::family_name(family)) + " " +
                             std::to_string(vif) + " " + name_of(f, vif);
    if (int err = injected(line)) return refuse(line, err);
    if (vif < 0 || vif >= core::kMaxVifs || !vifs_[f][vif]) return refuse(line, EADDRNOTAVAIL);
    drop_vif(f, vif);
    return accept(line);
  }

  core::Result<void> add_mfc(const core::MfcConf& mfc) override {
    const size_t f = core::family_index(mfc.key.group.family);
    const std::string line = "add_mfc " + entry_text(f, mfc);
    if (int err = injected(line)) return refuse(line, err);
    if (mfc.iif < 0 || mfc.iif >= core::kMaxVifs) return refuse(line, ENFILE);
    core::MfcConf stored = mfc;
    for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
      if (!vifs_[f][i]) stored.ttls[i] = 0;  // the kernel ignores TTLs of absent VIFs
    }
    mfc_.insert_or_assign(mfc.key, stored);
    return accept(line);
  }

  core::Result<void> del_mfc(const core::SgKey& key) override {
    const std::string line = "del_mfc " + key.source.str() + "," + key.group.str();
    if (int err = injected(line)) return refuse(line, err);
    if (mfc_.erase(key) == 0) return refuse(line, ENOENT);
    counters_.erase(key);
    return accept(line);
  }

  void release_all() override {
    for (auto& family_vifs : vifs_)
      for (auto& slot : family_vifs)
        slot.reset();
    mfc_.clear();
    counters_.clear();
    if (record) calls.push_back("release_all");
  }

  // An entry's counters: what set_counters said (zeros until then); a
  // missing entry fails as the kernel's SIOCGETSGCNT does.
  core::Result<core::Counters> counters(const core::SgKey& key) const override {
    if (!mfc_.count(key))
      return core::make_error(core::Errc::kernel, "SIOCGETSGCNT: no such entry", EADDRNOTAVAIL);
    auto it = counters_.find(key);
    return it == counters_.end() ? core::Counters{} : it->second;
  }
  void set_counters(const core::SgKey& key, core::Counters c) { counters_[key] = c; }
  // Traffic: `packets` more arrived for the entry (on its inbound VIF).
  void traffic(const core::SgKey& key, uint64_t packets) { counters_[key].packets += packets; }

  // A VIF's counters: what set_vif_counters said (zeros until then); a VIF
  // not in use fails as the kernel's SIOCGETVIFCNT does.
  core::Result<core::VifCounters> vif_counters(core::Family family,
                                               core::VifIndex vif) const override {
    if (vif < 0 || vif >= core::kMaxVifs || !vifs_[core::family_index(family)][size_t(vif)])
      return core::make_error(core::Errc::kernel, "SIOCGETVIFCNT: no such VIF", EADDRNOTAVAIL);
    auto it = vif_counters_.find({core::family_index(family), vif});
    return it == vif_counters_.end() ? core::VifCounters{} : it->second;
  }
  void set_vif_counters(core::Family family, core::VifIndex vif, core::VifCounters c) {
    vif_counters_[{core::family_index(family), vif}] = c;
  }

  uint64_t upcalls_lost(core::Family family) const override {
    return lost[core::family_index(family)];
  }
  uint64_t lost[2] = {0, 0};

  // The kernel's table, one sorted line per VIF and per entry:
  // "vif ipv4 0 a1 ifindex=2 ttl=1", "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2".
  std::vector<std::string> table() const {
    std::vector<std::string> lines;
    for (size_t f = 0; f < 2; ++f) {
      for (const auto& slot : vifs_[f]) {
        if (slot) lines.push_back(vif_line(*slot));
      }
    }
    for (const auto& [key, mfc] : mfc_) {
      lines.push_back("mfc " + entry_text(core::family_index(key.group.family), mfc));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  size_t mfc_count() const { return mfc_.size(); }

  static std::string vif_line(const core::VifConf& v) {
    return "vif " + std::string(core::family_name(v.family)) + " " + std::to_string(v.vif) + " " +
           v.ifname + " ifindex=" + std::to_string(v.ifindex) +
           " ttl=" + std::to_string(v.ttl_threshold);
  }

  // "S,G iif=NAME oifs=NAME,NAME" using this kernel's VIF names. Like
  // /proc/net/ip_mr_cache, it shows only the OIFs whose VIF exists.
  std::string entry_text(size_t f, const core::MfcConf& mfc) const {
    std::string out =
        mfc.key.source.str() + "," + mfc.key.group.str() + " iif=" + name_of(f, mfc.iif) + " oifs=";
    bool first = true;
    for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
      if (!mfc.ttls[i] || !vifs_[f][i]) continue;
      out += (first ? "" : ",") + name_of(f, i);
      if (mfc.ttls[i] != 1) out += ":" + std::to_string(mfc.ttls[i]);
      first = false;
    }
    return out;
  }

 private:
  struct Fault {
    std::string prefix;
    int err;
    int times;
  };

  std::string name_of(size_t f, core::VifIndex vif) const {
    if (vif >= 0 && vif < core::kMaxVifs && vifs_[f][vif]) return vifs_[f][vif]->ifname;
    return "#" + std::to_string(vif);
  }

  // As Linux does (docs/kernel.md, measured): the VIF goes, its TTL stays in
  // every entry, hidden while no VIF has that index and forwarding again as
  // soon as one does, whatever its device.
  void drop_vif(size_t f, core::VifIndex vif) { vifs_[f][vif].reset(); }

  int injected(const std::string& line) {
    for (auto& fault : faults_) {
      if (fault.times != 0 && line.rfind(fault.prefix, 0) == 0) {
        if (fault.times > 0) --fault.times;
        return fault.err;
      }
    }
    return 0;
  }

  core::Result<void> accept(const std::string& line) {
    if (record) calls.push_back(line);
    return {};
  }

  core::Result<void> refuse(const std::string& line, int err) {
    if (record) calls.push_back(line + " -> " + errno_name(err));
    return core::make_error(core::Errc::kernel,
                            line.substr(0, line.find(' ')) + ": " + std::strerror(err), err);
  }

  std::array<std::array<std::optional<core::VifConf>, core::kMaxVifs>, 2> vifs_;
  std::unordered_map<core::SgKey, core::MfcConf, core::SgKeyHash> mfc_;
  std::unordered_map<core::SgKey, core::Counters, core::SgKeyHash> counters_;
  std::map<std::pair<size_t, core::VifIndex>, core::VifCounters> vif_counters_;
  std::vector<Fault> faults_;
};

// A MembershipPort that records "join a1 (*, 225.1.1.1)" and "leave ..."
// lines (into `calls`, or another Calls shared with a FakeKernel, so that a
// test sees one sequence) and holds the memberships in a set. fail() as for
// FakeKernel.
class FakeMembership : public core::MembershipPort {
 public:
  explicit FakeMembership(Calls* log = nullptr) : log_(log ? log : &calls) {}
  Calls calls;

  void fail(std::string prefix, int err, int times = 1) {
    faults_.push_back(Fault{std::move(prefix), err, times});
  }

  core::Result<void> join(const core::Membership& m) override {
    const std::string line = "join " + m.str();
    if (int err = injected(line)) return refuse(line, err);
    held_.insert(m);
    log_->push_back(line);
    return {};
  }
  core::Result<void> leave(const core::Membership& m) override {
    const std::string line = "leave " + m.str();
    if (int err = injected(line)) return refuse(line, err);
    if (held_.erase(m) == 0) {
      log_->push_back(line + " -> not held");
      return core::make_error(core::Errc::not_found, line + ": not held");
    }
    log_->push_back(line);
    return {};
  }
  void release_all() override { held_.clear(); }
  std::vector<core::HeldMembership> held() const override {
    std::vector<core::HeldMembership> out;
    for (const auto& m : held_)
      out.push_back(core::HeldMembership{0, m});
    return out;
  }
  const std::set<core::Membership>& memberships() const { return held_; }

 private:
  struct Fault {
    std::string prefix;
    int err;
    int times;
  };
  int injected(const std::string& line) {
    for (auto& fault : faults_) {
      if (fault.times != 0 && line.rfind(fault.prefix, 0) == 0) {
        if (fault.times > 0) --fault.times;
        return fault.err;
      }
    }
    return 0;
  }
  core::Result<void> refuse(const std::string& line, int err) {
    log_->push_back(line + " -> " + errno_name(err));
    return core::make_error(
        core::Errc::kernel,
        "MCAST_JOIN_GROUP " + line.substr(line.find(' ') + 1) + ": " + std::strerror(err), err);
  }
  Calls* log_;
  std::set<core::Membership> held_;
  std::vector<Fault> faults_;
};

// A clock the test moves by hand.
class FakeClock : public core::Clock {
 public:
  uint64_t now = 1'000'000;
  uint64_t now_ms() const override { return now; }
  void advance(uint64_t ms) { now += ms; }
};

// What mfcd believes it installed, in FakeKernel::table()'s format.
inline std::vector<std::string> state_lines(const core::Installed& installed) {
  std::vector<std::string> lines;
  FakeKernel names;  // formats entries with the installed VIF names
  for (core::Family fam : {core::Family::v4, core::Family::v6}) {
    const auto& slots = installed.vifs[core::family_index(fam)];
    for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
      if (!slots[i]) continue;
      const core::VifConf v{fam, i, slots[i]->ifindex, slots[i]->ttl_threshold, slots[i]->ifname};
      lines.push_back(FakeKernel::vif_line(v));
      (void)names.add_vif(v);
    }
  }
  for (const auto& [key, mfc] : installed.mfc) {
    lines.push_back("mfc " + names.entry_text(core::family_index(key.group.family), mfc.conf));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// A config parsed from text; throws (and so fails the test) on errors.
inline core::Config config_from(const std::string& text) {
  core::FileSystem fs;
  fs.read = [](const std::string& path, size_t) -> core::Result<std::string> {
    return core::make_error(core::Errc::not_found, "no file " + path);
  };
  fs.glob = [](const std::string&) { return std::vector<std::string>{}; };
  core::ParseResult parsed = core::parse_config_text("test.conf", text, fs);
  if (!parsed.ok()) {
    std::string all;
    for (const auto& d : parsed.diagnostics)
      all += d.str() + "\n";
    throw std::runtime_error("test config does not parse:\n" + all);
  }
  return parsed.config;
}

inline core::Desired desired(const std::string& config_text, const core::Links& links) {
  core::Intent intent;
  intent.load_config(config_from(config_text));
  return core::compute_desired(intent, links);
}

// core::apply with no memberships to write.
inline std::vector<core::Failure> apply(core::KernelPort& kernel, core::Installed& installed,
                                        const core::Plan& plan) {
  FakeMembership none;
  return core::apply(core::Writers{kernel, none}, installed, plan);
}

// Plan and apply; returns every failure, from planning and from the kernel.
inline std::vector<core::Failure> sync(core::KernelPort& kernel, core::Installed& installed,
                                       const core::Desired& want) {
  core::Plan plan = core::make_plan(installed, want);
  std::vector<core::Failure> failures = std::move(plan.failures);
  for (auto& f : apply(kernel, installed, plan))
    failures.push_back(std::move(f));
  return failures;
}

inline Calls op_lines(const core::Plan& plan) {
  Calls out;
  for (const auto& op : plan.ops)
    out.push_back(op.str());
  return out;
}

// In-memory config files for the parser. Every read is recorded, with the
// bound it was asked for; glob answers in reverse name order on purpose:
// the parser, not the file system, sorts.
struct MemFs {
  std::map<std::string, std::string> files;
  std::vector<std::string> reads;       // every read() call, in order
  std::map<std::string, size_t> asked;  // path -> max_bytes of its read

  core::FileSystem fs() {
    core::FileSystem f;
    f.read = [this](const std::string& path, size_t max_bytes) -> core::Result<std::string> {
      reads.push_back(path);
      asked[path] = max_bytes;
      auto it = files.find(path);
      if (it == files.end()) {
        return core::make_error(core::Errc::not_found, "No such file or directory");
      }
      return it->second;
    };
    f.glob = [this](const std::string& pattern) {
      std::vector<std::string> out;
      for (auto it = files.rbegin(); it != files.rend(); ++it) {
        if (fnmatch(pattern.c_str(), it->first.c_str(), FNM_PATHNAME) == 0)
          out.push_back(it->first);
      }
      return out;
    };
    return f;
  }
};

// All diagnostics as "file:line:col: error: message" lines.
inline std::vector<std::string> diags(const core::ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics)
    out.push_back(d.str());
  return out;
}

// The sample lines of metric `name` in a Prometheus text, in text order.
inline std::vector<std::string> metric_samples(const std::string& text, const std::string& name) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0) out.push_back(line);
    at = end + 1;
  }
  return out;
}

}  // namespace mfcd::test
