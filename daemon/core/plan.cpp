// The planner diffs two keyed sets, Installed and Desired, and emits only the
// difference. VIF numbers are handed out so that they stay put: an interface
// that already has a VIF keeps it for as long as it exists, a new interface
// takes the lowest index that is neither in use nor being released by this
// same plan (so a reload never makes two interfaces share a number in one
// kernel listing) and, while another is free, that no installed entry still
// names (see stale_indices), and VIFs nobody needs are deleted last, after
// every entry has stopped pointing at them. Entries are compared as complete kernel
// structures: equal means no syscall, different means one ADD (the kernel
// replaces in place), gone means one DEL. The work is one hash lookup per
// entry on each side, plus sorting only the operations actually produced.
#include "core/plan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mfcd::core {

namespace {

constexpr Family kFamilies[2] = {Family::v4, Family::v6};

// "10.0.0.1,225.1.1.1": the compact pair of Op::str().
std::string compact_pair(const SgKey& key) {
  return key.source.str() + "," + key.group.str();
}

std::string vif_word(Family f) {
  return f == Family::v4 ? "VIF" : "MIF";
}

Op vif_op(Op::Kind kind, Family family, VifIndex vif, const std::string& ifname, int ifindex,
          int ttl) {
  Op op{};
  op.kind = kind;
  op.vif = VifConf{family, vif, ifindex, ttl, ifname};
  return op;
}

// The first 8 address bytes as a number that orders like the bytes do.
uint64_t high_bytes(const Addr& a) {
  uint64_t v = 0;
  std::memcpy(&v, a.bytes.data(), sizeof v);
  return __builtin_bswap64(v);
}

uint64_t low_bytes(const Addr& a) {
  uint64_t v = 0;
  std::memcpy(&v, a.bytes.data() + 8, sizeof v);
  return __builtin_bswap64(v);
}

// SgKey's own order (source, then group; family before bytes) in four
// integer compares instead of two memcmp calls: sorting is a large part of
// planning a big table.
bool sg_less(const SgKey& a, const SgKey& b) {
  if (a.source.family != b.source.family) return a.source.family < b.source.family;
  if (const uint64_t x = high_bytes(a.source), y = high_bytes(b.source); x != y) return x < y;
  if (const uint64_t x = low_bytes(a.source), y = low_bytes(b.source); x != y) return x < y;
  if (a.group.family != b.group.family) return a.group.family < b.group.family;
  if (const uint64_t x = high_bytes(a.group), y = high_bytes(b.group); x != y) return x < y;
  return low_bytes(a.group) < low_bytes(b.group);
}

// Sorts through an index so that the (large) ops move once, not log n times.
void sort_by_key(std::vector<Op>& ops) {
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return sg_less(ops[a].mfc.key, ops[b].mfc.key); });
  std::vector<Op> sorted;
  sorted.reserve(ops.size());
  for (size_t i : order)
    sorted.push_back(std::move(ops[i]));
  ops = std::move(sorted);
}

// The VIF an interface will have once the plan has run.
struct PlannedVif {
  VifIndex vif = 0;
  int ttl_threshold = 1;
};

// One family's VIF decisions.
struct VifPlan {
  std::unordered_map<std::string, PlannedVif> by_name;
  std::array<std::string, kMaxVifs> names;
  // by_name as a short list: at most kMaxVifs entries, so a scan comparing
  // lengths first beats hashing the name for every entry of a big table.
  std::vector<std::pair<const std::string*, PlannedVif>> list;
  const PlannedVif* find(const std::string& name) const {
    for (const auto& [n, v] : list) {
      if (n->size() == name.size() && *n == name) return &v;
    }
    return nullptr;
  }
  uint32_t recreated = 0;  // bit per VIF that is deleted and added again
  std::unordered_map<std::string, Error> unavailable;  // interface -> why no VIF

  // Fills `list` once by_name is complete.
  void index_names() {
    list.reserve(by_name.size());
    for (const auto& [name, planned] : by_name)
      list.emplace_back(&name, planned);
  }
};

// The indices that no VIF holds but an installed entry still names, as its
// iif or with a TTL. The kernel keeps an entry's TTL for a VIF that was
// deleted (docs/kernel.md), so a VIF added at such an index forwards that
// entry's traffic to its interface at once, and adds come before the entry
// rewrites of the same plan. One pass over the family's entries, run only
// when a new interface needs a number.
std::array<bool, kMaxVifs> stale_indices(Family family, const Installed& installed) {
  const auto& slots = installed.vifs[family_index(family)];
  std::array<bool, kMaxVifs> stale{};
  for (const auto& [key, m] : installed.mfc) {
    if (key.group.family != family) continue;
    if (m.conf.iif >= 0 && m.conf.iif < kMaxVifs && !slots[m.conf.iif]) stale[m.conf.iif] = true;
    for (VifIndex i = 0; i < kMaxVifs; ++i)
      if (m.conf.ttls[i] > 0 && !slots[i]) stale[i] = true;
  }
  return stale;
}

// One family's VIF numbering for one plan: which installed VIFs stay, are
// re-created or go, and which number each new interface takes.
class VifNumbering {
 public:
  VifNumbering(Family family, const Installed& installed, Plan& plan, std::vector<Op>& early_dels,
               std::vector<Op>& adds, std::vector<Op>& late_dels, VifPlan& out)
      : family_(family),
        fi_(family_index(family)),
        installed_(installed),
        plan_(plan),
        early_dels_(early_dels),
        adds_(adds),
        late_dels_(late_dels),
        out_(out) {}

  // Every installed index is off limits for new interfaces in this plan,
  // whether it is kept, re-created or released.
  void keep_or_release_installed(const std::vector<DesiredVif>& desired) {
    std::unordered_map<std::string, const DesiredVif*> wanted;
    wanted.reserve(desired.size());
    for (const auto& dv : desired)
      wanted.emplace(dv.ifname, &dv);
    const auto& slots = installed_.vifs[fi_];
    for (VifIndex i = 0; i < kMaxVifs; ++i) {
      if (!slots[i]) continue;
      busy_[i] = true;
      const InstalledVif& iv = *slots[i];
      auto w = wanted.find(iv.ifname);
      if (w == wanted.end() || out_.by_name.count(iv.ifname)) {
        released_by_ifindex_[iv.ifindex] = late_dels_.size();
        late_dels_.push_back(op(Op::Kind::del_vif, i, iv.ifname, iv.ifindex, iv.ttl_threshold));
        continue;
      }
      const DesiredVif& dv = *w->second;
      out_.by_name[dv.ifname] = PlannedVif{i, dv.ttl_threshold};
      out_.names[i] = dv.ifname;
      if (dv.ifindex != iv.ifindex || dv.ttl_threshold != iv.ttl_threshold) {
        // Re-created interface (new ifindex) or new threshold: the kernel
        // cannot change a VIF, so delete and add it at the same index.
        early_dels_.push_back(op(Op::Kind::del_vif, i, iv.ifname, iv.ifindex, iv.ttl_threshold));
        adds_.push_back(op(Op::Kind::add_vif, i, dv.ifname, dv.ifindex, dv.ttl_threshold));
        out_.recreated |= 1U << i;
      }
    }
  }

  void number_new(const std::vector<DesiredVif>& desired) {
    for (const auto& dv : desired) {
      if (out_.by_name.count(dv.ifname)) continue;
      const VifIndex next = pick(dv.ifname);
      if (next == kMaxVifs) {
        refuse_full(dv.ifname);
        continue;
      }
      // A renamed interface keeps its ifindex; the kernel refuses a second
      // VIF on the same ifindex, so the old VIF must go before this add.
      if (auto r = released_by_ifindex_.find(dv.ifindex); r != released_by_ifindex_.end()) {
        early_dels_.push_back(late_dels_[r->second]);
        late_dels_[r->second].vif.vif = -1;  // dropped below
        released_by_ifindex_.erase(r);
      }
      busy_[next] = true;
      out_.by_name[dv.ifname] = PlannedVif{next, dv.ttl_threshold};
      out_.names[next] = dv.ifname;
      adds_.push_back(op(Op::Kind::add_vif, next, dv.ifname, dv.ifindex, dv.ttl_threshold));
    }
    std::erase_if(late_dels_, [](const Op& o) { return o.vif.vif < 0; });
  }

 private:
  Op op(Op::Kind kind, VifIndex vif, const std::string& ifname, int ifindex, int ttl) const {
    return vif_op(kind, family_, vif, ifname, ifindex, ttl);
  }

  // The number a new interface takes: its former one if free (the stale
  // TTLs there meant this interface), else the lowest free one that no
  // entry names, else the lowest free one (the entries naming it are
  // rewritten later in this plan, and until then may forward to it).
  VifIndex pick(const std::string& ifname) {
    for (VifIndex i = 0; i < kMaxVifs; ++i)
      if (!busy_[i] && installed_.former[fi_][i] == ifname) return i;
    if (!stale_) stale_ = stale_indices(family_, installed_);
    for (VifIndex i = 0; i < kMaxVifs; ++i)
      if (!busy_[i] && !(*stale_)[i]) return i;
    for (VifIndex i = 0; i < kMaxVifs; ++i)
      if (!busy_[i]) return i;
    return kMaxVifs;
  }

  void refuse_full(const std::string& ifname) {
    const std::string family(family_name(family_));
    Error error =
        make_error(Errc::vif_table_full, "no free " + vif_word(family_) + " for " + ifname +
                                             ": all " + std::to_string(kMaxVifs) + " " + family +
                                             " " + vif_word(family_) + "s are in use");
    plan_.failures.push_back(
        Failure{"add_vif " + ifname + " (" + family + ")", error, std::nullopt, ifname});
    out_.unavailable.emplace(ifname, std::move(error));
  }

  Family family_;
  size_t fi_;
  const Installed& installed_;
  Plan& plan_;
  std::vector<Op>& early_dels_;
  std::vector<Op>& adds_;
  std::vector<Op>& late_dels_;
  VifPlan& out_;
  std::array<bool, kMaxVifs> busy_{};
  std::unordered_map<int, size_t> released_by_ifindex_;  // ifindex -> late_dels_ position
  std::optional<std::array<bool, kMaxVifs>> stale_;      // computed on first need
};

void plan_vifs(Family family, const Installed& installed, const Desired& desired, Plan& plan,
               std::vector<Op>& early_dels, std::vector<Op>& adds, std::vector<Op>& late_dels,
               VifPlan& out) {
  const auto& wanted = desired.vifs[family_index(family)];
  VifNumbering numbering(family, installed, plan, early_dels, adds, late_dels, out);
  numbering.keep_or_release_installed(wanted);
  numbering.number_new(wanted);
}

}  // namespace

void Installed::forget_vifs_of(int ifindex) {
  for (size_t fi = 0; fi < vifs.size(); ++fi) {
    for (VifIndex i = 0; i < kMaxVifs; ++i) {
      auto& vif = vifs[fi][i];
      if (!vif || vif->ifindex != ifindex) continue;
      former[fi][i] = vif->ifname;
      vif.reset();
    }
  }
}

std::optional<VifIndex> Installed::vif_of(Family f, const std::string& ifname) const {
  const auto& slots = vifs[family_index(f)];
  for (VifIndex i = 0; i < kMaxVifs; ++i) {
    if (slots[i] && slots[i]->ifname == ifname) return i;
  }
  return std::nullopt;
}

size_t Installed::vif_count(Family f) const {
  const auto& slots = vifs[family_index(f)];
  return static_cast<size_t>(
      std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s.has_value(); }));
}

std::string Op::iif_name() const {
  if (!names || mfc.iif < 0 || mfc.iif >= kMaxVifs) return {};
  return (*names)[mfc.iif];
}

std::string Op::str() const {
  switch (kind) {
    case Kind::add_vif:
      return "add_vif " + std::string(family_name(vif.family)) + " " + std::to_string(vif.vif) +
             " " + vif.ifname + " ifindex=" + std::to_string(vif.ifindex) +
             " ttl=" + std::to_string(vif.ttl_threshold);
    case Kind::del_vif:
      return "del_vif " + std::string(family_name(vif.family)) + " " + std::to_string(vif.vif) +
             " " + vif.ifname;
    case Kind::add_mfc: {
      // OIFs in VIF order (the kernel's order), ":TTL" only when not 1.
      auto name = [&](VifIndex i) {
        if (names && i >= 0 && i < kMaxVifs && !(*names)[i].empty()) return (*names)[i];
        return "#" + std::to_string(i);
      };
      std::string out = "add_mfc " + compact_pair(mfc.key) + " iif=" + name(mfc.iif) + " oifs=";
      bool first = true;
      for (VifIndex i = 0; i < kMaxVifs; ++i) {
        if (!mfc.ttls[i]) continue;
        if (!first) out += ",";
        out += name(i);
        if (mfc.ttls[i] != 1) out += ":" + std::to_string(mfc.ttls[i]);
        first = false;
      }
      if (dynamic) out += " dynamic";
      return out;
    }
    case Kind::del_mfc:
      return "del_mfc " + compact_pair(mfc.key);
    case Kind::join:
      return "join " + membership.str();
    case Kind::leave:
      return "leave " + membership.str();
    case Kind::release_all:
      return "release_all";
  }
  return "?";
}

namespace {

// The VIF ops of a plan, by where each list goes in it.
struct VifOps {
  std::vector<Op> early_dels, adds, late_dels;
  bool empty() const { return early_dels.empty() && adds.empty() && late_dels.empty(); }
};

// An entry's kernel structure under the planned VIF numbers.
struct EntryConf {
  MfcConf conf;
  uint32_t used = 0;                     // bit per VIF the entry refers to
  const std::string* lacking = nullptr;  // the first interface with no VIF
};

EntryConf entry_conf(const SgKey& key, const DesiredMfc& want, const VifPlan& vp) {
  EntryConf out;
  out.conf.key = key;
  auto vif_for = [&](const std::string& name) -> const PlannedVif* {
    const PlannedVif* v = vp.find(name);
    if (!v) {
      if (!out.lacking) out.lacking = &name;
      return nullptr;
    }
    out.used |= 1U << v->vif;
    return v;
  };
  if (const PlannedVif* iif = vif_for(want.iif)) out.conf.iif = iif->vif;
  for (const auto& oif : want.oifs) {
    if (const PlannedVif* v = vif_for(oif)) out.conf.ttls[v->vif] = oif_ttl(v->ttl_threshold);
  }
  return out;
}

// The entry diff of one plan: which desired entries are written and which
// installed ones deleted, under the VIF numbers already planned.
class EntryDiff {
 public:
  EntryDiff(const Installed& installed, const Desired& desired, const std::array<VifPlan, 2>& vifs,
            Plan& plan)
      : installed_(installed), desired_(desired), vifs_(vifs), plan_(plan) {
    writes_.reserve(desired.mfc.size());
  }

  // Key by key: each installed entry is looked up once (on a big table
  // each lookup is a cache miss), and nothing walks the whole table.
  // False when an entry is dynamic: only a full plan may replace it.
  bool compare_keys(const std::vector<SgKey>& only) {
    for (const SgKey& key : only) {
      auto found = installed_.mfc.find(key);
      const InstalledMfc* have = found == installed_.mfc.end() ? nullptr : &found->second;
      if (have && have->dynamic) return false;
      if (auto want = desired_.mfc.find(key); want != desired_.mfc.end()) {
        consider(want->first, want->second, have);
      } else if (have) {
        dels_.push_back(del_mfc_op(key, *have));
      }
    }
    return true;
  }

  void compare_all() {
    for (const auto& [key, want] : desired_.mfc) {
      auto found = installed_.mfc.empty() ? installed_.mfc.end() : installed_.mfc.find(key);
      consider(key, want, found == installed_.mfc.end() ? nullptr : &found->second);
    }
    for (const auto& [key, have] : installed_.mfc) {
      if (!desired_.mfc.count(key)) dels_.push_back(del_mfc_op(key, have));
    }
  }

  // Appends the plan's ops in the order the kernel needs (see plan.hpp).
  void emit(VifOps& vif_ops) {
    const auto order = write_order();
    sort_by_key(dels_);
    // One copy of the VIF names per family, shared by that family's ops.
    std::array<std::shared_ptr<const VifNames>, 2> names;
    for (size_t fi = 0; fi < 2; ++fi)
      names[fi] = std::make_shared<const VifNames>(vifs_[fi].names);
    auto& ops = plan_.ops;
    ops.reserve(vif_ops.early_dels.size() + vif_ops.adds.size() + writes_.size() + dels_.size() +
                vif_ops.late_dels.size());
    for (auto* list : {&vif_ops.early_dels, &vif_ops.adds}) {
      std::move(list->begin(), list->end(), std::back_inserter(ops));
    }
    for (const auto& [sg, i] : order) {
      const Write& w = writes_[i];
      Op& op = ops.emplace_back();
      op.kind = Op::Kind::add_mfc;
      op.mfc = w.conf;
      op.route = w.want->route;
      op.dynamic = w.want->dynamic;
      op.names = names[family_index(w.key->group.family)];
    }
    for (auto* list : {&dels_, &vif_ops.late_dels}) {
      std::move(list->begin(), list->end(), std::back_inserter(ops));
    }
  }

 private:
  // An entry to write, found first and sorted as a small record, so that
  // each Op is built once, in place, in its final position.
  struct Write {
    const SgKey* key;
    const DesiredMfc* want;
    MfcConf conf;
  };

  // Whether `want` must be written, given what is installed for its key.
  void consider(const SgKey& key, const DesiredMfc& want, const InstalledMfc* have) {
    const VifPlan& vp = vifs_[family_index(key.group.family)];
    // Every interface of the entry must have a VIF, or the entry is not
    // written at all: a half-built entry would forward to the wrong set.
    const EntryConf entry = entry_conf(key, want, vp);
    if (entry.lacking) {
      refuse(key, want, vp, *entry.lacking);
      return;  // an installed entry stays as it was
    }
    // A re-created VIF vanished from the kernel's copy of every entry that
    // used it, so those entries are written again even if unchanged here.
    if (have && have->conf == entry.conf && have->dynamic == want.dynamic &&
        (entry.used & vp.recreated) == 0 && have->route == want.route) {
      return;
    }
    writes_.push_back(Write{&key, &want, entry.conf});
  }

  // An entry left unwritten is reported with why its interface has no VIF
  // (the table was full), so that the operator sees the real cause.
  void refuse(const SgKey& key, const DesiredMfc& want, const VifPlan& vp,
              const std::string& lacking) {
    auto why = vp.unavailable.find(lacking);
    Error error = why != vp.unavailable.end()
                      ? why->second
                      : make_error(Errc::internal, "no VIF planned for " + lacking);
    error.message = "route " + want.route.str() + " not installed: " + error.message;
    plan_.failures.push_back(
        Failure{"add_mfc " + key.str(), std::move(error), want.route, lacking});
  }

  // Sorted as (key, index) pairs held in one array: comparing through an
  // index into the hash table's nodes made the sort a cache miss per compare.
  std::vector<std::pair<SgKey, uint32_t>> write_order() const {
    std::vector<std::pair<SgKey, uint32_t>> order;
    order.reserve(writes_.size());
    for (uint32_t i = 0; i < writes_.size(); ++i)
      order.emplace_back(*writes_[i].key, i);
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return sg_less(a.first, b.first); });
    return order;
  }

  const Installed& installed_;
  const Desired& desired_;
  const std::array<VifPlan, 2>& vifs_;
  Plan& plan_;
  std::vector<Write> writes_;
  std::vector<Op> dels_;
};

// make_plan, or with `only` set, make_plan_for: entries outside `only` are
// neither written nor deleted, and a plan that would touch a VIF is given up
// (nullopt), because only a full desired state can say what VIFs to hold.
std::optional<Plan> plan_entries(const Installed& installed, const Desired& desired,
                                 const std::vector<SgKey>* only) {
  // Each key's installed entry is read below: started now, the cache
  // misses overlap instead of coming one after the other.
  if (only) {
    for (const SgKey& key : *only)
      installed.mfc.prefetch(key);
  }
  Plan plan;
  VifOps vif_ops;
  std::array<VifPlan, 2> vifs;
  for (Family f : kFamilies) {
    plan_vifs(f, installed, desired, plan, vif_ops.early_dels, vif_ops.adds, vif_ops.late_dels,
              vifs[family_index(f)]);
  }
  if (only && (!vif_ops.empty() || !plan.failures.empty())) return std::nullopt;
  for (auto& vp : vifs)
    vp.index_names();

  EntryDiff diff(installed, desired, vifs, plan);
  if (!only) {
    diff.compare_all();
  } else if (!diff.compare_keys(*only)) {
    return std::nullopt;
  }
  diff.emit(vif_ops);
  return plan;
}

}  // namespace

Op del_mfc_op(const SgKey& key, const InstalledMfc& installed) {
  Op op{};
  op.kind = Op::Kind::del_mfc;
  op.mfc.key = key;
  op.route = installed.route;
  op.dynamic = installed.dynamic;
  return op;
}

Op add_mfc_op(const MfcConf& mfc, const RouteKey& route, bool dynamic,
              std::shared_ptr<const VifNames> names) {
  Op op{};
  op.kind = Op::Kind::add_mfc;
  op.mfc = mfc;
  op.route = route;
  op.dynamic = dynamic;
  op.names = std::move(names);
  return op;
}

Op membership_op(Op::Kind kind, const Membership& m) {
  Op op{};
  op.kind = kind;
  op.membership = m;
  return op;
}

Plan make_plan(const Installed& installed, const Desired& desired) {
  return *plan_entries(installed, desired, nullptr);
}

std::optional<Plan> make_plan_for(const Installed& installed, const Desired& slice,
                                  const std::vector<SgKey>& keys) {
  return plan_entries(installed, slice, &keys);
}

namespace {

using BrokenVifs = std::array<std::array<std::optional<Error>, kMaxVifs>, 2>;

// One MFC op's kernel call, or why it was not made; apply() records a
// success in Installed.
std::optional<Failure> write_mfc(KernelPort& kernel, const Installed& installed,
                                 const BrokenVifs& broken, const Op& op) {
  if (op.kind == Op::Kind::del_mfc) {
    auto r = kernel.del_mfc(op.mfc.key);
    // ENOENT: not in the kernel any more, which is what we wanted.
    if (!r && r.error().sys_errno != ENOENT)
      return Failure{"del_mfc " + op.mfc.key.str(), r.error(), op.route, ""};
    return std::nullopt;
  }
  const auto fi = family_index(op.mfc.key.group.family);
  std::optional<Error> skip;
  for (VifIndex i = 0; i < kMaxVifs && !skip; ++i) {
    if (i != op.mfc.iif && !op.mfc.ttls[i]) continue;
    if (broken[fi][i]) {
      skip = *broken[fi][i];
    } else if (!installed.vifs[fi][i]) {
      skip = make_error(Errc::internal, vif_word(op.mfc.key.group.family) + " " +
                                            std::to_string(i) + " is not installed");
    }
  }
  if (skip) {
    skip->message = "route " + op.route.str() + " not installed: " + skip->message;
    return Failure{"add_mfc " + op.mfc.key.str(), std::move(*skip), op.route, op.iif_name()};
  }
  if (auto r = kernel.add_mfc(op.mfc); !r)
    return Failure{"add_mfc " + op.mfc.key.str(), r.error(), op.route, op.iif_name()};
  return std::nullopt;
}

}  // namespace

namespace {

// One run of a plan: what the kernel accepted goes into `installed`, what
// it refused into `failures`, each failure with its op's index.
class PlanRun {
 public:
  PlanRun(Writers writers, Installed& installed) : w_(writers), installed_(installed) {}

  void run(const Plan& plan) {
    // One rehash at most, not a series of them as a big table grows.
    const auto adds =
        static_cast<size_t>(std::count_if(plan.ops.begin(), plan.ops.end(), [](const Op& op) {
          return op.kind == Op::Kind::add_mfc;
        }));
    installed_.mfc.reserve(installed_.mfc.size() + adds);
    for (index_ = 0; index_ < plan.ops.size(); ++index_)
      step(plan.ops[index_]);
  }

  std::vector<Failure> failures;

 private:
  void step(const Op& op) {
    switch (op.kind) {
      case Op::Kind::add_mfc:
      case Op::Kind::del_mfc:
        return entry(op);
      case Op::Kind::add_vif:
        return add_vif(op);
      case Op::Kind::del_vif:
        return del_vif(op);
      case Op::Kind::join:
      case Op::Kind::leave:
        return membership(op);
      case Op::Kind::release_all:
        w_.kernel.release_all();
        w_.membership.release_all();
        installed_ = Installed{};
        return;
    }
  }

  void entry(const Op& op) {
    if (auto failure = write_mfc(w_.kernel, installed_, broken_, op)) {
      failure->op = index_;
      failures.push_back(std::move(*failure));
      pin_vifs_of(op.mfc.key);
    } else if (op.kind == Op::Kind::add_mfc) {
      installed_.mfc.insert_or_assign(op.mfc.key, InstalledMfc{op.mfc, op.route, op.dynamic});
    } else {
      installed_.mfc.erase(op.mfc.key);
    }
  }

  void add_vif(const Op& op) {
    auto& slot = installed_.vifs[family_index(op.vif.family)][op.vif.vif];
    if (slot) {
      return vif_failed(op, make_error(Errc::internal, vif_word(op.vif.family) + " " +
                                                           std::to_string(op.vif.vif) +
                                                           " is still held by " + slot->ifname));
    }
    if (auto r = w_.kernel.add_vif(op.vif); !r) return vif_failed(op, r.error());
    slot = InstalledVif{op.vif.ifname, op.vif.ifindex, op.vif.ttl_threshold};
    broken_[family_index(op.vif.family)][op.vif.vif].reset();
  }

  void del_vif(const Op& op) {
    // An entry the kernel refused to change or delete still uses its VIFs:
    // they stay until a later plan frees them.
    if (pinned_[family_index(op.vif.family)] & (1U << op.vif.vif)) return;
    auto r = w_.kernel.del_vif(op.vif.family, op.vif.vif);
    // EADDRNOTAVAIL: the kernel already dropped it (its device went away).
    if (!r && r.error().sys_errno != EADDRNOTAVAIL) return vif_failed(op, r.error());
    installed_.vifs[family_index(op.vif.family)][op.vif.vif].reset();
  }

  void membership(const Op& op) {
    const bool join = op.kind == Op::Kind::join;
    auto r = join ? w_.membership.join(op.membership) : w_.membership.leave(op.membership);
    // A leave that finds nothing: the kernel already dropped it (its
    // interface went away).
    if (!r && (join || r.error().code != Errc::not_found)) {
      failures.push_back(Failure{op.str(), r.error(), std::nullopt, op.membership.ifname, index_});
      return;
    }
    if (join)
      installed_.memberships.insert(op.membership);
    else
      installed_.memberships.erase(op.membership);
  }

  void vif_failed(const Op& op, Error error) {
    const std::string what = (op.kind == Op::Kind::add_vif ? "add_vif " : "del_vif ") +
                             op.vif.ifname + " (" + std::string(family_name(op.vif.family)) + ")";
    broken_[family_index(op.vif.family)][op.vif.vif] = error;
    failures.push_back(Failure{what, std::move(error), std::nullopt, op.vif.ifname, index_});
  }

  // The VIFs of an entry whose change failed: the entry the kernel still
  // holds refers to them.
  void pin_vifs_of(const SgKey& key) {
    auto it = installed_.mfc.find(key);
    if (it == installed_.mfc.end()) return;
    const MfcConf& held = it->second.conf;
    uint32_t& bits = pinned_[family_index(key.group.family)];
    if (held.iif >= 0 && held.iif < kMaxVifs) bits |= 1U << held.iif;
    for (VifIndex v = 0; v < kMaxVifs; ++v)
      if (held.ttls[static_cast<size_t>(v)]) bits |= 1U << v;
  }

  Writers w_;
  Installed& installed_;
  size_t index_ = 0;
  // Why a VIF is unusable in this run, so that entries needing it are
  // skipped with the real cause instead of being sent to the kernel.
  BrokenVifs broken_;
  uint32_t pinned_[2] = {0, 0};  // a bit per VIF, per family
};

}  // namespace

std::vector<Failure> apply(Writers writers, Installed& installed, const Plan& plan) {
  PlanRun run(writers, installed);
  run.run(plan);
  return std::move(run.failures);
}

Plan release_plan() {
  Plan plan;
  Op op{};
  op.kind = Op::Kind::release_all;
  plan.ops.push_back(std::move(op));
  return plan;
}

}  // namespace mfcd::core
