// See groups.hpp.
#include "router/groups.hpp"

#include <spdlog/spdlog.h>

namespace mfcd::router {

core::Plan membership_plan(const core::JoinDiff& diff) {
  core::Plan plan;
  plan.ops.reserve(diff.leave.size() + diff.join.size());
  for (const auto& m : diff.leave)
    plan.ops.push_back(core::membership_op(core::Op::Kind::leave, m));
  for (const auto& m : diff.join)
    plan.ops.push_back(core::membership_op(core::Op::Kind::join, m));
  return plan;
}

std::vector<core::Error> Groups::write(const core::Plan& plan) {
  std::vector<core::Error> refused;
  if (plan.empty()) return refused;
  auto failures = writer_.write(plan);
  // Every op that did not fail took effect: its membership is no longer a
  // refused one (a leave ends the wish, a join fulfils it).
  std::vector<bool> failed(plan.ops.size(), false);
  for (const auto& f : failures) {
    if (f.op == core::kNoOp) continue;
    failed[f.op] = true;
    const core::Op& op = plan.ops[f.op];
    if (op.kind != core::Op::Kind::join) {
      spdlog::warn("{}: {}", f.what, f.error.message);
      continue;
    }
    auto [it, fresh] = failed_.insert_or_assign(op.membership, f.error.message);
    if (fresh) spdlog::error("cannot join {}: {}", op.membership.str(), f.error.message);
    refused.push_back(f.error);
  }
  for (size_t i = 0; i < plan.ops.size(); ++i)
    if (!failed[i]) failed_.erase(plan.ops[i].membership);
  return refused;
}

void Groups::write_config(const Model& m, const core::JoinDiff& diff) {
  write(membership_plan(diff));
  for (const auto* j : m.joins.joins())
    if (j->from_config() && !j->error.empty())
      spdlog::error("{}: mgroup {}: {}", j->pos ? j->pos->str() : std::string("config"),
                    j->key.str(), j->error);
  if (!diff.empty())
    spdlog::info("groups: config joined {} and left {} memberships", diff.join.size(),
                 diff.leave.size());
}

void Groups::update_links(Model& m) {
  auto diff = m.joins.set_links(m.links);
  write(membership_plan(diff));
  if (!diff.empty())
    spdlog::info("groups: interfaces changed; joined {} and left {} memberships", diff.join.size(),
                 diff.leave.size());
  // What the kernel refused before may work now (the interface came back).
  std::erase_if(failed_, [&](const auto& f) { return !m.joins.wanted().count(f.first); });
  if (failed_.empty()) return;
  core::JoinDiff again;
  for (const auto& [membership, why] : failed_)
    again.join.push_back(membership);
  write(membership_plan(again));
}

core::Result<void> Groups::join(Model& m, const core::JoinKey& requested,
                                const std::string& owner) {
  const core::JoinKey key = core::normalized(requested);
  const core::JoinIntent* before = m.joins.find(key);
  const bool held_before = before && before->owners.count(owner);
  // A join on an interface that does not exist waits for it, as a route
  // does; the API warns (or, asked to be strict, refuses) before this.
  auto diff = m.joins.join(key, owner, /*require_link=*/false);
  if (!diff) return diff.error();

  // A join the config already holds may have memberships the kernel
  // refused earlier: this call is a good moment to try them again.
  core::JoinDiff work = diff.value();
  if (const auto* intent = m.joins.find(key)) {
    for (const auto& membership : m.joins.memberships_of(*intent))
      if (failed_.count(membership)) work.join.push_back(membership);
  }
  auto refused = write(membership_plan(work));
  if (!refused.empty()) {
    if (!held_before) {
      auto undo = m.joins.leave(key, owner);
      if (undo) {
        // Leave only what the kernel took: the refused memberships were
        // never held.
        auto& leaves = undo.value().leave;
        const auto& held = writer_.installed().memberships;
        std::erase_if(leaves, [&](const core::Membership& ms) { return !held.count(ms); });
        write(membership_plan(undo.value()));
      }
    }
    core::Error err = refused.front();
    if (refused.size() > 1)
      err.message += " (and " + std::to_string(refused.size() - 1) + " more refused)";
    return err;
  }
  if (!held_before) spdlog::info("joined {} for {}", key.str(), owner);
  return {};
}

core::Result<void> Groups::leave(Model& m, const core::JoinKey& requested,
                                 const std::string& owner) {
  const core::JoinKey key = core::normalized(requested);
  auto diff = m.joins.leave(key, owner);
  if (!diff) return diff.error();
  write(membership_plan(diff.value()));
  spdlog::info("left {} for {}", key.str(), owner);
  return {};
}

void Groups::drop_api_shares(Model& m) {
  std::vector<std::pair<core::JoinKey, std::string>> shares;
  for (const auto* j : m.joins.joins())
    for (const auto& owner : j->api_owners())
      shares.emplace_back(j->key, owner);
  for (const auto& [key, owner] : shares) {
    auto diff = m.joins.leave(key, owner);
    if (diff) write(membership_plan(diff.value()));
  }
  if (!shares.empty()) spdlog::info("reload dropped {} joins made over the API", shares.size());
}

JoinState Groups::state(const Model& m, const core::JoinIntent& j) const {
  JoinState st;
  if (!j.error.empty()) {
    st.kind = JoinState::Kind::failed;
    st.reason = j.error;
    return st;
  }
  if (!j.ifindex) {
    st.kind = JoinState::Kind::pending;
    st.reason = "interface " + j.key.iif + " does not exist";
    return st;
  }
  auto memberships = m.joins.memberships_of(j);
  size_t refused = 0;
  std::string first;
  for (const auto& membership : memberships) {
    auto f = failed_.find(membership);
    if (f == failed_.end()) continue;
    if (refused++ == 0) first = f->second;
  }
  st.memberships = memberships.size() - refused;
  if (refused == 0) {
    st.kind = JoinState::Kind::joined;
  } else {
    st.kind = JoinState::Kind::failed;
    st.reason =
        refused > 1 ? first + " (and " + std::to_string(refused - 1) + " more refused)" : first;
  }
  return st;
}

}  // namespace mfcd::router
