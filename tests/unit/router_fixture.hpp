// A Router on fakes, for the router's and the methods' unit tests: a fake
// kernel and membership port writing into one call log (so a test reads
// the exact sequence of kernel changes), a clock moved by hand, and a
// listener that records what the service would have been asked to do.
//
//   RouterFixture f({{"a1", 2}, {"a2", 3}});
//   f.start("phyint a1 enable\nmroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
//   f.calls.clear();
//   ... call f.router ...
//   CHECK(f.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2"});
//   f.check_consistent();  // the kernel holds exactly what the router recorded
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/upcall.hpp"
#include "fakes.hpp"
#include "router/router.hpp"

namespace mfcd::test {

class FakeListener : public router::Listener {
 public:
  Calls events;  // "install 10.0.0.1,225.1.1.1", "mrdisc a1,a2"
  // events.subscribe: with `record_events` the router's events land in
  // `published`; a test may send them elsewhere instead (forward_to).
  bool record_events = false;
  std::vector<router::Event> published;
  std::function<bool()> wanted_fn;
  std::function<void(router::Event)> forward_to;
  bool events_wanted() const override { return wanted_fn ? wanted_fn() : record_events; }
  void event(router::Event e) override {
    if (forward_to)
      forward_to(std::move(e));
    else
      published.push_back(std::move(e));
  }
  void entry_installed(const core::SgKey& key) override {
    events.push_back("install " + key.source.str() + "," + key.group.str());
  }
  void mrdisc_changed(const std::set<std::string>& announce, const core::Links&) override {
    std::string line = "mrdisc ";
    for (const auto& name : announce)
      line += (line.size() > 7 ? "," : "") + name;
    events.push_back(line);
  }
};

struct RouterFixture {
  explicit RouterFixture(core::Links links_now = {}, router::Settings settings = {})
      : links(std::move(links_now)),
        membership(&kernel.calls),
        router(kernel, membership, clock, listener, settings) {}

  // Starts the router on `config_text` and the fixture's links.
  void start(const std::string& config_text) { router.start(config_from(config_text), links); }

  // Phase one and two of a reload of `config_text`.
  router::ReloadReport reload(const std::string& config_text) {
    return router.apply_reload(router.plan_reload(config_from(config_text)));
  }

  // A link event, as netlink would report it; also updates `links`.
  void link_added(const std::string& name, int ifindex, bool up = true) {
    core::Link l{name, ifindex, up, true, false};
    links.push_back(l);
    router.on_link_events({core::LinkEvent{core::LinkEvent::Kind::added_or_changed, l}});
  }
  void link_removed(const std::string& name) {
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (it->name != name) continue;
      const core::Link gone = *it;
      links.erase(it);
      kernel.device_gone(name);  // the kernel drops its VIFs by itself
      router.on_link_events({core::LinkEvent{core::LinkEvent::Kind::removed, gone}});
      return;
    }
    FAIL("no link " << name);
  }

  // One upcall, as the kernel would send it.
  void upcall(core::UpcallType type, core::VifIndex vif, const std::string& source,
              const std::string& group) {
    const auto s = *core::Addr::parse(source);
    const auto g = *core::Addr::parse(group);
    const core::Upcall u{g.family, type, vif, s, g};
    router.on_upcalls(std::span<const core::Upcall>(&u, 1));
  }

  // The kernel holds exactly what the router believes it installed.
  void check_consistent() const {
    CHECK(kernel.table() == state_lines(router.installed()));
    std::set<core::Membership> held(membership.memberships().begin(),
                                    membership.memberships().end());
    CHECK(held == router.installed().memberships);
  }

  core::Links links;
  FakeKernel kernel;
  FakeMembership membership;
  FakeClock clock;
  FakeListener listener;
  router::Router router;
};

inline core::RouteRequest route_request(const std::string& iif, const std::string& source,
                                        const std::string& group, std::vector<std::string> oifs,
                                        const std::string& owner = "api") {
  core::RouteRequest req;
  req.key.iif = iif;
  if (!source.empty()) req.key.source = core::Prefix::host(*core::Addr::parse(source));
  req.key.group = *core::parse_prefix(group).prefix;
  req.oifs = std::move(oifs);
  req.owner = owner;
  return req;
}

}  // namespace mfcd::test
