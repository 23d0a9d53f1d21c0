// Group memberships between intent and kernel. core::Joins says which
// memberships to make and drop; this file makes and drops them on the
// socket pool and remembers what the kernel refused. An API join is a small
// transaction: apply its memberships, and if the kernel refuses any, take
// the caller's share back again so the kernel and the listing look exactly
// as before. Config joins cannot be refused that way (the file says what it
// says), so a refused one is listed as failed and tried again on the next
// update.
#include "groups.hpp"

#include <spdlog/spdlog.h>

namespace mfcd {

namespace {

using nlohmann::json;

json prefix_or_null(const std::optional<core::Prefix>& p) {
  return p ? json(p->str()) : json(nullptr);
}

json key_json(const core::JoinKey& key) {
  return {{"iif", key.iif}, {"source", prefix_or_null(key.source)}, {"group", key.group.str()}};
}

}  // namespace

Groups::Groups() : Groups(core::kDefaultJoinRangeLimit) {}

Groups::Groups(size_t range_limit)
    : joins_(range_limit),
      sockets_(std::make_unique<kernel::MembershipSockets>(kernel::MembershipLimits::read())) {}

Groups::~Groups() = default;

std::vector<core::Error> Groups::apply(const core::JoinDiff& diff) {
  std::vector<core::Error> refused;
  for (const auto& m : diff.leave) {
    failed_.erase(m);
    if (!sockets_->holds(m)) continue;
    if (auto left = sockets_->leave(m); !left)
      spdlog::warn("group {}: {}", m.str(), left.error().message);
    else
      spdlog::debug("left {}", m.str());
  }
  for (const auto& m : diff.join) {
    if (auto joined = sockets_->join(m); !joined) {
      auto [it, fresh] = failed_.insert_or_assign(m, joined.error().message);
      if (fresh) spdlog::error("cannot join {}: {}", m.str(), joined.error().message);
      refused.push_back(joined.error());
    } else {
      failed_.erase(m);
      spdlog::debug("joined {}", m.str());
    }
  }
  return refused;
}

void Groups::retry_failed() {
  if (failed_.empty()) return;
  core::JoinDiff again;
  for (const auto& [m, why] : failed_)
    if (joins_.wanted().count(m)) again.join.push_back(m);
  std::erase_if(failed_, [&](const auto& f) { return !joins_.wanted().count(f.first); });
  for (const auto& m : again.join) {
    if (auto joined = sockets_->join(m)) {
      failed_.erase(m);
      spdlog::info("joined {} (refused before)", m.str());
    }
  }
}

void Groups::load_config(const std::vector<core::JoinConf>& joins) {
  auto diff = joins_.load_config(joins);
  apply(diff);
  for (const auto* j : joins_.joins())
    if (j->from_config() && !j->error.empty())
      spdlog::error("{}: mgroup {}: {}", j->pos ? j->pos->str() : std::string("config"),
                    j->key.str(), j->error);
  if (!diff.empty())
    spdlog::info("groups: config joined {} and left {} memberships", diff.join.size(),
                 diff.leave.size());
}

void Groups::update(const core::Links& links) {
  auto diff = joins_.set_links(links);
  apply(diff);
  if (!diff.empty())
    spdlog::info("groups: interfaces changed; joined {} and left {} memberships", diff.join.size(),
                 diff.leave.size());
  retry_failed();
}

core::Result<json> Groups::join(const core::JoinKey& requested, const std::string& owner) {
  const core::JoinKey key = core::normalized(requested);
  const core::JoinIntent* before = joins_.find(key);
  const bool held_before = before && before->owners.count(owner);
  auto diff = joins_.join(key, owner);
  if (!diff) return diff.error();

  // A join the config already holds may have memberships the kernel
  // refused earlier: this call is a good moment to try them again.
  core::JoinDiff work = diff.value();
  if (const auto* intent = joins_.find(key)) {
    for (const auto& m : joins_.memberships_of(*intent))
      if (failed_.count(m)) work.join.push_back(m);
  }
  auto refused = apply(work);
  if (!refused.empty()) {
    if (!held_before) {
      auto undo = joins_.leave(key, owner);
      if (undo) apply(undo.value());
    }
    core::Error err = refused.front();
    if (refused.size() > 1)
      err.message += " (and " + std::to_string(refused.size() - 1) + " more refused)";
    return err;
  }
  const auto* intent = joins_.find(key);
  if (!held_before) spdlog::info("joined {} for {}", key.str(), owner);
  return intent ? item(*intent) : json(nullptr);
}

core::Result<json> Groups::leave(const core::JoinKey& requested, const std::string& owner) {
  const core::JoinKey key = core::normalized(requested);
  auto diff = joins_.leave(key, owner);
  if (!diff) return diff.error();
  apply(diff.value());
  spdlog::info("left {} for {}", key.str(), owner);
  const auto* intent = joins_.find(key);
  return intent ? item(*intent) : json(nullptr);
}

json Groups::drop_api_joins(bool dry_run) {
  json left = json::array();
  std::vector<std::pair<core::JoinKey, std::string>> shares;
  for (const auto* j : joins_.joins()) {
    if (!j->from_config() && j->from_api()) left.push_back(item(*j));
    for (const auto& owner : j->api_owners())
      shares.emplace_back(j->key, owner);
  }
  if (dry_run) return left;
  for (const auto& [key, owner] : shares) {
    auto diff = joins_.leave(key, owner);
    if (diff) apply(diff.value());
  }
  if (!shares.empty()) spdlog::info("reload dropped {} joins made over the API", shares.size());
  return left;
}

json Groups::item(const core::JoinIntent& j) const {
  json it = key_json(j.key);
  it["family"] = std::string(core::family_name(j.key.family()));
  json origins = json::array();
  if (j.from_config()) origins.push_back("config");
  if (j.from_api()) origins.push_back("api");
  it["origins"] = origins;
  it["owners"] = j.api_owners();
  if (!j.error.empty()) {
    it["state"] = "failed";
    it["reason"] = j.error;
    it["memberships"] = 0;
  } else if (!j.ifindex) {
    it["state"] = "pending";
    it["reason"] = "interface " + j.key.iif + " does not exist";
    it["memberships"] = 0;
  } else {
    auto ms = joins_.memberships_of(j);
    size_t refused = 0;
    std::string first;
    if (!failed_.empty()) {
      for (const auto& m : ms) {
        auto f = failed_.find(m);
        if (f == failed_.end()) continue;
        if (refused++ == 0) first = f->second;
      }
    }
    it["memberships"] = ms.size() - refused;
    if (refused == 0) {
      it["state"] = "joined";
    } else {
      it["state"] = "failed";
      it["reason"] =
          refused > 1 ? first + " (and " + std::to_string(refused - 1) + " more refused)" : first;
    }
  }
  if (j.pos) {
    it["file"] = j.pos->file;
    it["line"] = j.pos->line;
  }
  return it;
}

json Groups::list() const {
  json conf = json::array();
  for (const auto* j : joins_.joins())
    conf.push_back(item(*j));
  json kernel = json::array();
  for (const auto& held : sockets_->list()) {
    const auto& m = held.membership;
    kernel.push_back({{"iif", m.ifname},
                      {"source", m.source ? json(m.source->str()) : json(nullptr)},
                      {"group", m.group.str()},
                      {"family", std::string(core::family_name(m.family()))},
                      {"socket", held.socket}});
  }
  return {{"groups", {{"conf", conf}, {"kernel", kernel}}}};
}

json Groups::pending() const {
  json out = json::array();
  for (const auto* j : joins_.joins()) {
    if (j->ifindex || !j->error.empty()) continue;
    json p = key_json(j->key);
    p["kind"] = "mgroup";
    p["reason"] = "interface " + j->key.iif + " does not exist";
    out.push_back(p);
  }
  return out;
}

json Groups::plan_config(const std::vector<core::JoinConf>& joins) const {
  auto plan = joins_.plan_config(joins);
  json joined = json::array();
  for (const auto& key : plan.joined) {
    core::JoinIntent j;
    j.key = key;
    j.owners.insert(core::kConfigOwner);
    for (const auto& c : joins)
      if (core::normalized(core::JoinKey{c.iif, c.source, c.group}) == key) {
        j.pos = c.pos;
        break;
      }
    if (auto ok = core::validate_join_key(key); !ok)
      j.error = ok.error().message;
    else if (auto pairs = core::expand_join(key, joins_.range_limit()); !pairs)
      j.error = pairs.error().message;
    j.ifindex = joins_.ifindex_of(key.iif);
    joined.push_back(item(j));
  }
  json left = json::array();
  for (const auto& key : plan.left)
    if (const auto* j = joins_.find(key)) left.push_back(item(*j));
  return {{"joined", joined}, {"left", left}};
}

void Groups::stop() {
  // Closing the sockets is the leave: the kernel drops every membership
  // they hold and sends the leave reports.
  if (sockets_->size() != 0) spdlog::info("leaving {} group memberships", sockets_->size());
  sockets_->close_all();
  failed_.clear();
  joins_ = core::Joins(joins_.range_limit());
}

}  // namespace mfcd
