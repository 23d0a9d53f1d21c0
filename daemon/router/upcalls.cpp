// Upcalls turn traffic into state, so they are the one place where an
// outside party (any sender on a covered network) decides how much work the
// daemon does. Hence: a NOCACHE costs one hash lookup and one syscall; a
// WRONGVIF is rate-limited by the kernel (one per (S,G) per 3 s) and only
// starts a watch; everything periodic runs on one 500 ms timer that is
// armed only while there is something to watch or expire.
//
// Moving a flow. A dynamic stop filter (the flow first came in where no rule
// covers it) moves at once when the flow shows up where a rule does. An
// entry that already forwards, dynamic or static with a standby route on
// the new side, moves only once its own inbound counter (packets minus
// wrong_if, since the kernel counts wrong-side packets in both) has stood
// still for core::kFeedQuietMs: two live feeds never make it flap.
#include "upcalls.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace mfcd {

namespace {

constexpr uint64_t kTickMs = 500;

uint64_t scan_interval_ms(uint64_t timeout_ms) {
  // An entry is removed between timeout and timeout + interval after its
  // last packet; reading every entry's counter more often buys nothing.
  return std::clamp<uint64_t>(timeout_ms / 4, kTickMs, 5000);
}

uint8_t clamp_ttl(int ttl) {
  return static_cast<uint8_t>(std::clamp(ttl, 1, 255));
}

}  // namespace

Upcalls::Upcalls(uv_loop_t* loop, kernel::Mroute& mroute, core::Installed& installed,
                 const core::Intent& intent, unsigned cache_timeout, Hooks hooks)
    : loop_(loop),
      mroute_(mroute),
      installed_(installed),
      intent_(intent),
      timeout_ms_(uint64_t{cache_timeout} * 1000),
      hooks_(std::move(hooks)) {
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  if (!mroute_.enable_wrongvif())
    spdlog::warn("the kernel does not report flows arriving on the wrong interface");
}

Upcalls::~Upcalls() {
  close();
}

void Upcalls::close() {
  if (!timer_) return;
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
}

uint64_t Upcalls::now_ms() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t Upcalls::lost() const {
  return mroute_.drops(core::Family::v4) + mroute_.drops(core::Family::v6);
}

void Upcalls::refresh_rules() {
  if (intent_.generation() == rules_generation_) return;
  rules_ = core::RuleIndex(intent_);
  rules_generation_ = intent_.generation();
}

void Upcalls::refresh_vifs() {
  for (size_t f = 0; f < 2; ++f) {
    vifs_[f].clear();
    for (core::VifIndex i = 0; i < core::kMaxVifs; ++i) {
      const auto& slot = installed_.vifs[f][static_cast<size_t>(i)];
      if (slot) vifs_[f].push_back(VifName{slot->ifname, i, slot->ttl_threshold});
    }
  }
}

void Upcalls::handle(const std::vector<kernel::Upcall>& upcalls) {
  if (upcalls.empty()) return;
  refresh_rules();
  refresh_vifs();
  for (const auto& u : upcalls) {
    const auto& vifs = vifs_[core::family_index(u.family)];
    auto it =
        std::find_if(vifs.begin(), vifs.end(), [&](const VifName& v) { return v.vif == u.vif; });
    if (u.type == kernel::UpcallType::nocache) ++stats_.nocache;
    if (u.type == kernel::UpcallType::wrongvif) ++stats_.wrongvif;
    if (it == vifs.end()) {
      ++stats_.ignored;  // a VIF we did not make (or just removed)
      continue;
    }
    if (u.type == kernel::UpcallType::nocache)
      on_nocache(u, it->name);
    else if (u.type == kernel::UpcallType::wrongvif)
      on_wrongvif(u, it->name);
    else
      ++stats_.ignored;
  }
}

bool Upcalls::install(const core::SgKey& key, core::VifIndex vif, const std::string& iif,
                      const core::Rule* rule) {
  const auto& vifs = vifs_[core::family_index(key.group.family)];
  core::MfcConf conf;
  conf.key = key;
  conf.iif = vif;
  std::string oif_text;
  if (rule) {
    for (const auto& v : vifs) {
      if (v.name == iif) continue;
      if (std::none_of(rule->oifs.begin(), rule->oifs.end(),
                       [&](const std::string& oif) { return core::ifname_matches(oif, v.name); }))
        continue;
      conf.ttls[static_cast<size_t>(v.vif)] = clamp_ttl(v.ttl);
      oif_text += (oif_text.empty() ? "" : ",") + v.name;
    }
  }
  if (auto r = mroute_.add_mfc(conf); !r) {
    ++stats_.failed;
    spdlog::error("add_mfc {} from {}: {}", key.str(), iif, r.error().message);
    return false;
  }
  core::RouteKey route =
      rule ? rule->key
           : core::RouteKey{iif, core::Prefix::host(key.source), core::Prefix::host(key.group)};
  installed_.mfc.insert_or_assign(key, core::InstalledMfc{conf, route, true});
  auto& entry = table_[key];
  entry.iif = iif;
  entry.rule = rule ? std::optional<core::RouteKey>(rule->key) : std::nullopt;
  entry.moved_ms = now_ms();
  if (spdlog::should_log(spdlog::level::debug))  // skip the formatting in a storm
    spdlog::debug("kernel: add_mfc {},{} iif={} oifs={} dynamic ({})", key.source.str(),
                  key.group.str(), iif, oif_text, rule ? "rule " + rule->key.str() : "stop filter");
  arm();
  return true;
}

void Upcalls::on_nocache(const kernel::Upcall& u, const std::string& iif) {
  const core::SgKey key{u.source, u.group};
  if (installed_.mfc.count(key)) {
    ++stats_.ignored;  // queued before the entry went in
    return;
  }
  const core::Rule* rule = rules_.match(iif, u.source, u.group);
  if (!install(key, u.vif, iif, rule)) return;
  if (rule) {
    ++stats_.installed;
    if (hooks_.installed) hooks_.installed(key);
  } else {
    ++stats_.stop_filters;
  }
}

void Upcalls::on_wrongvif(const kernel::Upcall& u, const std::string& iif) {
  const core::SgKey key{u.source, u.group};
  auto have = installed_.mfc.find(key);
  if (have == installed_.mfc.end()) {
    ++stats_.ignored;
    return;
  }
  if (have->second.dynamic) {
    const core::Rule* rule = rules_.match(iif, u.source, u.group);
    auto entry = table_.find(key);
    if (!rule || entry == table_.end()) {
      ++stats_.ignored;
      log_ignored(key.str() + " arrived on " + iif + ", which no rule covers; ignored");
      return;
    }
    if (!entry->second.rule) {
      // A stop filter: the flow first came in where nothing covers it.
      spdlog::info("flow {} moved from {} to {} (rule {})", key.str(), entry->second.iif, iif,
                   rule->key.str());
      if (install(key, u.vif, iif, rule)) {
        ++stats_.moved;
        if (hooks_.installed) hooks_.installed(key);
      }
      return;
    }
    watch(key, Watch{core::FeedWatch{rule->key, 0, 0}, iif, u.vif, true});
    return;
  }
  // Static: is there a standby route for this (S,G) on the new side?
  const core::RouteKey standby{iif, core::Prefix::host(key.source), core::Prefix::host(key.group)};
  if (have->second.route == standby || !intent_.find_route(standby)) {
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
  auto c = mroute_.counters(key);
  if (!c) return;
  w.feed.rx = c->packets - std::min(c->packets, c->wrong_if);
  w.feed.since_ms = now_ms();
  spdlog::debug("{} also arrives on {}; switching there if {} stays quiet", key.str(), w.iif,
                installed_.mfc.at(key).route.iif);
  watches_.insert_or_assign(key, std::move(w));
  arm();
}

void Upcalls::log_ignored(const std::string& line) {
  const uint64_t now = now_ms();
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

void Upcalls::arm() {
  if (armed_ || !timer_) return;
  if (watches_.empty() && (table_.empty() || timeout_ms_ == 0)) return;
  armed_ = true;
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Upcalls*>(t->data)->tick(); }, kTickMs, kTickMs);
}

void Upcalls::drop(const core::SgKey& key) {
  auto r = mroute_.del_mfc(key);
  if (!r && r.error().sys_errno != ENOENT)
    spdlog::error("del_mfc {}: {}", key.str(), r.error().message);
  else
    spdlog::debug("kernel: del_mfc {},{} dynamic", key.source.str(), key.group.str());
  installed_.mfc.erase(key);
  table_.erase(key);
  watches_.erase(key);
}

void Upcalls::tick() {
  const uint64_t now = now_ms();
  bool resync = false;
  refresh_rules();
  refresh_vifs();
  for (auto it = watches_.begin(); it != watches_.end();) {
    const core::SgKey key = it->first;
    Watch& w = it->second;
    auto c = mroute_.counters(key);
    if (!c || !installed_.mfc.count(key)) {
      it = watches_.erase(it);
      continue;
    }
    const auto verdict =
        core::feed_sample(w.feed, c->packets - std::min(c->packets, c->wrong_if), now);
    if (verdict == core::FeedVerdict::wait) {
      ++it;
      continue;
    }
    if (verdict == core::FeedVerdict::switch_now) {
      const std::string from = installed_.mfc.at(key).route.iif;
      spdlog::info("flow {} moved from {} to {}: {} went quiet", key.str(), from, w.iif, from);
      ++stats_.moved;
      if (w.dynamic) {
        install(key, w.vif, w.iif, rules_.match(w.iif, key.source, key.group));
      } else {
        feeds_.insert_or_assign(key, w.feed.target);
        resync = true;
      }
    }
    it = watches_.erase(it);
  }

  if (timeout_ms_ > 0 && now - last_scan_ms_ >= scan_interval_ms(timeout_ms_)) {
    last_scan_ms_ = now;
    std::vector<core::SgKey> idle;
    for (auto& [key, entry] : table_) {
      auto c = mroute_.counters(key);
      if (!c || core::idle_after_sample(entry, c->packets, now, timeout_ms_)) idle.push_back(key);
    }
    for (const auto& key : idle) {
      spdlog::debug("{} idle for {} s: expired", key.str(), timeout_ms_ / 1000);
      drop(key);
      ++stats_.expired;
    }
  }

  if (watches_.empty() && (table_.empty() || timeout_ms_ == 0)) {
    uv_timer_stop(timer_);
    armed_ = false;
  }
  if (resync && hooks_.resync) hooks_.resync();
}

void Upcalls::prepare(core::Desired& desired) {
  // The index is rebuilt lazily: a sync with no dynamic entry (start-up, a
  // route.add on a big static table) does not pay for it.
  if (!table_.empty()) refresh_rules();
  core::apply_active_feeds(desired, intent_, feeds_);
  core::merge_dynamic(desired, table_, rules_);
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (!desired.mfc.count(it->first))
      it = watches_.erase(it);
    else
      ++it;
  }
}

size_t Upcalls::flush() {
  std::vector<core::SgKey> keys;
  keys.reserve(table_.size());
  for (const auto& [key, entry] : table_)
    keys.push_back(key);
  for (const auto& key : keys)
    drop(key);
  stats_.flushed += keys.size();
  if (!keys.empty()) spdlog::info("cache flushed: {} dynamic entries removed", keys.size());
  return keys.size();
}

}  // namespace mfcd
