// See upcalls.hpp.
//
// Moving a flow. A dynamic stop filter (the flow first came in where no rule
// covers it) moves at once when the flow shows up where a rule does. An
// entry that already forwards, dynamic or static with a standby route on
// the new side, moves only once its own inbound counter (packets minus
// wrong_if, since the kernel counts wrong-side packets in both) has stood
// still for core::kFeedQuietMs: two live feeds never make it flap.
#include "router/upcalls.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mfcd::router {

namespace {

constexpr uint64_t kWatchMs = 500;  // how often a feed watch samples

uint64_t scan_interval_ms(uint64_t timeout_ms) {
  // An entry is removed between timeout and timeout + interval after its
  // last packet; reading every entry's counter more often buys nothing.
  return std::clamp<uint64_t>(timeout_ms / 4, kWatchMs, 5000);
}

uint64_t inbound_packets(const core::Counters& c) {
  return c.packets - std::min(c.packets, c.wrong_if);
}

}  // namespace

Upcalls::Upcalls(Writer& writer, const core::Clock& clock, unsigned cache_timeout)
    : writer_(writer), clock_(clock), timeout_ms_(uint64_t{cache_timeout} * 1000) {}

uint64_t Upcalls::lost() const {
  return writer_.kernel().upcalls_lost(core::Family::v4) +
         writer_.kernel().upcalls_lost(core::Family::v6);
}

void Upcalls::clear() {
  watches_.clear();
  scan_.clear();
  scan_pos_ = 0;
}

void Upcalls::refresh_vifs() {
  const auto& installed = writer_.installed();
  for (size_t f = 0; f < 2; ++f) {
    vifs_[f].clear();
    core::VifNames names;
    for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
      const auto& slot = installed.vifs[f][static_cast<size_t>(i)];
      if (!slot) continue;
      vifs_[f].push_back(VifName{slot->ifname, i, slot->ttl_threshold});
      names[static_cast<size_t>(i)] = slot->ifname;
    }
    names_[f] = std::make_shared<const core::VifNames>(std::move(names));
  }
}

std::vector<core::SgKey> Upcalls::handle(Model& m, RuleCache& rule_cache,
                                         std::span<const core::Upcall> upcalls) {
  if (upcalls.empty()) return {};
  const core::RuleIndex& rules = rule_cache.get(m.intent);
  refresh_vifs();
  std::vector<Install> installs;
  for (const auto& u : upcalls) {
    if (spdlog::should_log(spdlog::level::trace)) {
      spdlog::trace("upcall {} vif {} ({}, {})",
                    u.type == core::UpcallType::nocache    ? "nocache"
                    : u.type == core::UpcallType::wrongvif ? "wrongvif"
                                                           : "wholepkt",
                    u.vif, u.source.str(), u.group.str());
    }
    const auto& vifs = vifs_[core::family_index(u.family)];
    auto it =
        std::find_if(vifs.begin(), vifs.end(), [&](const VifName& v) { return v.vif == u.vif; });
    if (u.type == core::UpcallType::nocache) ++stats_.nocache;
    if (u.type == core::UpcallType::wrongvif) ++stats_.wrongvif;
    if (it == vifs.end()) {
      ++stats_.ignored;  // a VIF we did not make (or just removed)
      continue;
    }
    if (u.type == core::UpcallType::nocache)
      on_nocache(m, rules, u, it->name, installs);
    else if (u.type == core::UpcallType::wrongvif)
      on_wrongvif(m, rules, u, it->name, installs);
    else
      ++stats_.ignored;
  }
  return write_installs(m, installs);
}

core::Op Upcalls::install_op(const Install& in) const {
  const auto& vifs = vifs_[core::family_index(in.key.group.family)];
  core::MfcConf conf;
  conf.key = in.key;
  conf.iif = in.vif;
  if (in.rule) {
    const bool hairpin = in.rule->key.iif == in.iif && core::is_hairpin(in.iif, in.rule->oifs);
    for (const auto& v : vifs) {
      if (v.name == in.iif && !hairpin) continue;
      if (std::none_of(in.rule->oifs.begin(), in.rule->oifs.end(),
                       [&](const std::string& oif) { return core::ifname_matches(oif, v.name); }))
        continue;
      conf.ttls[static_cast<size_t>(v.vif)] = core::oif_ttl(v.ttl);
    }
  }
  const core::RouteKey route = in.rule ? in.rule->key
                                       : core::RouteKey{in.iif, core::Prefix::host(in.key.source),
                                                        core::Prefix::host(in.key.group)};
  return core::add_mfc_op(conf, route, true, names_[core::family_index(in.key.group.family)]);
}

std::vector<core::SgKey> Upcalls::write_installs(Model& m, const std::vector<Install>& installs) {
  std::vector<core::SgKey> announced;
  if (installs.empty()) return announced;
  core::Plan plan;
  plan.ops.reserve(installs.size());
  for (const auto& in : installs)
    plan.ops.push_back(install_op(in));
  auto failures = writer_.write(plan);
  std::vector<bool> failed(installs.size(), false);
  for (const auto& f : failures) {
    if (f.op == core::kNoOp) continue;
    failed[f.op] = true;
    ++stats_.failed;
    spdlog::error("{} from {}: {}", f.what, installs[f.op].iif, f.error.message);
  }
  const uint64_t now = clock_.now_ms();
  for (size_t i = 0; i < installs.size(); ++i) {
    if (failed[i]) continue;
    const Install& in = installs[i];
    auto& entry = m.dynamic[in.key];
    entry.iif = in.iif;
    entry.rule = in.rule ? std::optional<core::RouteKey>(in.rule->key) : std::nullopt;
    entry.moved_ms = now;
    if (in.moved) ++stats_.moved;
    if (in.rule) {
      if (!in.moved) ++stats_.installed;
      announced.push_back(in.key);
    } else {
      ++stats_.stop_filters;
    }
  }
  return announced;
}

void Upcalls::on_nocache(Model& m, const core::RuleIndex& rules, const core::Upcall& u,
                         const std::string& iif, std::vector<Install>& out) {
  const core::SgKey key{u.source, u.group};
  const bool queued_twice =
      std::any_of(out.begin(), out.end(), [&](const Install& in) { return in.key == key; });
  if (queued_twice || writer_.installed().mfc.count(key)) {
    ++stats_.ignored;  // queued before the entry went in
    return;
  }
  (void)m;
  out.push_back(Install{key, u.vif, iif, rules.match(iif, u.source, u.group), false});
}

void Upcalls::on_wrongvif(Model& m, const core::RuleIndex& rules, const core::Upcall& u,
                          const std::string& iif, std::vector<Install>& out) {
  const core::SgKey key{u.source, u.group};
  const auto& installed = writer_.installed();
  auto have = installed.mfc.find(key);
  if (have == installed.mfc.end()) {
    ++stats_.ignored;
    return;
  }
  if (have->second.dynamic) {
    const core::Rule* rule = rules.match(iif, u.source, u.group);
    auto entry = m.dynamic.find(key);
    if (!rule || entry == m.dynamic.end()) {
      ++stats_.ignored;
      log_ignored(key.str() + " arrived on " + iif + ", which no rule covers; ignored");
      return;
    }
    if (!entry->second.rule) {
      // A stop filter: the flow first came in where nothing covers it.
      spdlog::info("flow {} moved from {} to {} (rule {})", key.str(), entry->second.iif, iif,
                   rule->key.str());
      out.push_back(Install{key, u.vif, iif, rule, true});
      return;
    }
    watch(key, Watch{core::FeedWatch{rule->key, 0, 0}, iif, u.vif, true});
    return;
  }
  // Static: is there a standby route for this (S,G) on the new side?
  const core::RouteKey standby{iif, core::Prefix::host(key.source), core::Prefix::host(key.group)};
  if (have->second.route == standby || !m.intent.find_route(standby)) {
    ++stats_.ignored;
    log_ignored(key.str() + " arrived on " + iif + ", not its inbound " + have->second.route.iif +
                "; no route from there, ignored");
    return;
  }
  watch(key, Watch{core::FeedWatch{standby, 0, 0}, iif, u.vif, false});
}

void Upcalls::watch(const core::SgKey& key, Watch w) {
  auto it = watches_.find(key);
  if (it != watches_.end() && it->second.feed.target == w.feed.target) return;
  auto c = writer_.kernel().counters(key);
  if (!c) return;
  w.feed.rx = inbound_packets(c.value());
  w.feed.since_ms = clock_.now_ms();
  spdlog::debug("{} also arrives on {}; switching there if {} stays quiet", key.str(), w.iif,
                writer_.installed().mfc.at(key).route.iif);
  watches_.insert_or_assign(key, std::move(w));
}

void Upcalls::log_ignored(const std::string& line) {
  const uint64_t now = clock_.now_ms();
  if (now - last_log_ms_ < 1000) {
    ++suppressed_logs_;
    return;
  }
  if (suppressed_logs_)
    spdlog::info("{} ({} similar messages suppressed)", line, suppressed_logs_);
  else
    spdlog::info("{}", line);
  suppressed_logs_ = 0;
  last_log_ms_ = now;
}

void Upcalls::remove(Model& m, const std::vector<core::SgKey>& keys) {
  if (keys.empty()) return;
  core::Plan plan;
  plan.ops.reserve(keys.size());
  const auto& installed = writer_.installed();
  for (const auto& key : keys) {
    auto have = installed.mfc.find(key);
    if (have != installed.mfc.end()) plan.ops.push_back(core::del_mfc_op(key, have->second));
  }
  for (const auto& f : writer_.write(plan))
    spdlog::error("{}: {}", f.what, f.error.message);
  for (const auto& key : keys) {
    m.dynamic.erase(key);
    watches_.erase(key);
  }
}

std::optional<uint64_t> Upcalls::next_tick_ms(const Model& m) const {
  std::optional<uint64_t> next;
  if (!watches_.empty()) next = clock_.now_ms() + kWatchMs;
  if (timeout_ms_ > 0 && (!m.dynamic.empty() || scan_pos_ < scan_.size())) {
    // A round under way goes on at once; the next one starts on time.
    const uint64_t scan = scan_pos_ < scan_.size() ? clock_.now_ms() : next_scan_ms_;
    next = next ? std::min(*next, scan) : scan;
  }
  return next;
}

Upcalls::TickResult Upcalls::tick(Model& m, RuleCache& rule_cache) {
  TickResult result;
  const uint64_t now = clock_.now_ms();
  size_t budget = kTickBudget;
  refresh_vifs();

  std::vector<Install> moves;
  std::vector<core::SgKey> done;
  for (auto& [key, w] : watches_) {
    if (budget == 0) break;
    --budget;
    auto c = writer_.kernel().counters(key);
    if (!c || !writer_.installed().mfc.count(key)) {
      done.push_back(key);
      continue;
    }
    const auto verdict = core::feed_sample(w.feed, inbound_packets(c.value()), now);
    if (verdict == core::FeedVerdict::wait) continue;
    done.push_back(key);
    if (verdict != core::FeedVerdict::switch_now) continue;
    const std::string from = writer_.installed().mfc.at(key).route.iif;
    spdlog::info("flow {} moved from {} to {}: {} went quiet", key.str(), from, w.iif, from);
    if (w.dynamic) {
      const core::Rule* rule = rule_cache.get(m.intent).match(w.iif, key.source, key.group);
      moves.push_back(Install{key, w.vif, w.iif, rule, true});
    } else {
      ++stats_.moved;
      m.feeds.insert_or_assign(key, w.feed.target);
      result.resync = true;
    }
  }
  for (const auto& key : done)
    watches_.erase(key);
  result.installed = write_installs(m, moves);

  if (timeout_ms_ == 0) return result;
  if (scan_pos_ >= scan_.size()) {
    // Start a round when it is due: a snapshot of the keys, walked in
    // slices, so that entries learned meanwhile wait for the next round.
    if (now < next_scan_ms_ || m.dynamic.empty()) return result;
    scan_.clear();
    scan_.reserve(m.dynamic.size());
    for (const auto& [key, entry] : m.dynamic)
      scan_.push_back(key);
    scan_pos_ = 0;
    next_scan_ms_ = now + scan_interval_ms(timeout_ms_);
  }
  std::vector<core::SgKey> idle;
  for (; scan_pos_ < scan_.size() && budget > 0; ++scan_pos_, --budget) {
    const core::SgKey& key = scan_[scan_pos_];
    auto entry = m.dynamic.find(key);
    if (entry == m.dynamic.end()) continue;  // flushed or replaced meanwhile
    auto c = writer_.kernel().counters(key);
    if (!c || core::idle_after_sample(entry->second, c.value().packets, now, timeout_ms_))
      idle.push_back(key);
  }
  for (const auto& key : idle)
    spdlog::debug("{} idle for {} s: expired", key.str(), timeout_ms_ / 1000);
  stats_.expired += idle.size();
  remove(m, idle);
  return result;
}

size_t Upcalls::flush(Model& m) {
  std::vector<core::SgKey> keys;
  keys.reserve(m.dynamic.size());
  for (const auto& [key, entry] : m.dynamic)
    keys.push_back(key);
  remove(m, keys);
  stats_.flushed += keys.size();
  if (!keys.empty()) spdlog::info("cache flushed: {} dynamic entries removed", keys.size());
  return keys.size();
}

}  // namespace mfcd::router
