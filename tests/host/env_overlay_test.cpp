// The environment a reload of .env gives, without setenv(3): the host's
// lookups and its children see it, the process environment stays as it was.
#include "services/env_overlay.h"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>

using namespace orch;

namespace {

bool has(const std::vector<std::string>& env, const std::string& kv) {
    return std::find(env.begin(), env.end(), kv) != env.end();
}

bool names(const std::vector<std::string>& env, const std::string& name) {
    return std::any_of(env.begin(), env.end(), [&](const std::string& kv) { return kv.rfind(name + "=", 0) == 0; });
}

}  // namespace

TEST_CASE("env overlay: a reloaded value is seen by lookups and children, not set in the process") {
    setenv("ORCH_OVERLAY_T1", "start", 1);
    CHECK(env_get("ORCH_OVERLAY_T1") == "start");
    env_overlay_apply({{"ORCH_OVERLAY_T1", std::string("reloaded")}, {"ORCH_OVERLAY_T2", std::string("new")}});
    CHECK(env_get("ORCH_OVERLAY_T1") == "reloaded");
    CHECK(env_get("ORCH_OVERLAY_T2") == "new");
    CHECK(std::string(getenv("ORCH_OVERLAY_T1")) == "start");  // the process environment is untouched
    CHECK(getenv("ORCH_OVERLAY_T2") == nullptr);
    auto env = env_merged({"ORCH_OVERLAY_T3=extra"});
    CHECK(has(env, "ORCH_OVERLAY_T1=reloaded"));
    CHECK(!has(env, "ORCH_OVERLAY_T1=start"));
    CHECK(has(env, "ORCH_OVERLAY_T2=new"));
    CHECK(has(env, "ORCH_OVERLAY_T3=extra"));
    CHECK(names(env, "PATH"));  // the rest of the environment is there

    // the spawn's own values win over the overlay; an unset one is gone
    env = env_merged({"ORCH_OVERLAY_T2=mine"});
    CHECK(has(env, "ORCH_OVERLAY_T2=mine"));
    CHECK(!has(env, "ORCH_OVERLAY_T2=new"));
    env_overlay_apply({{"ORCH_OVERLAY_T1", std::nullopt}});
    CHECK(!env_get("ORCH_OVERLAY_T1"));
    CHECK(!names(env_merged({}), "ORCH_OVERLAY_T1"));
    env_overlay_apply({{"ORCH_OVERLAY_T1", std::string("back")}, {"ORCH_OVERLAY_T2", std::nullopt}});
    CHECK(env_get("ORCH_OVERLAY_T1") == "back");
    unsetenv("ORCH_OVERLAY_T1");
}
