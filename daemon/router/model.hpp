// What the router believes, apart from what it has installed: the operator's
// intent, the state last decided from it, the group joins, the entries
// learned from upcalls, and the links present. Planning reads and updates a
// Model; only the Writer touches the kernel. A dry run plans on a copy, so it
// takes exactly the path a real reload takes and changes nothing.
#pragma once

#include "core/desired.hpp"
#include "core/dynamic.hpp"
#include "core/intent.hpp"
#include "core/joins.hpp"
#include "core/links.hpp"

namespace mfcd::router {

struct Model {
  core::Intent intent;
  // The last decided state: every route's status and the VIF list. Its MFC
  // entries are dropped once planned (Installed holds what was written).
  core::Desired desired;
  core::Joins joins;
  core::DynamicMap dynamic;  // entries learned from (*,G) rules and stop filters
  core::ActiveFeeds feeds;   // redundant feeds switched away from the first route
  core::Links links;
};

}  // namespace mfcd::router
