#include "services/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <random>
#include <string>

using namespace orch;

namespace {

// nlohmann's rule over std::to_chars's shortest text
std::string reference(double d) {
    if (!std::isfinite(d)) return "null";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

std::string written(double d) {
    std::string out;
    append_json_double(out, d);
    return out;
}

}  // namespace

TEST_CASE("json number: every double is written as std::to_chars's shortest text, whole ones with .0") {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<long long> micros(0, 8'589'934'591'999'999LL);  // up to 2^33 s, in 1e-6
    std::uniform_int_distribution<long long> small(0, 9'999'999);
    std::uniform_int_distribution<std::uint64_t> bits;
    for (int i = 0; i < 200000; ++i) {
        double ts = 1.7e9 + static_cast<double>(small(rng)) / 1e3 + static_cast<double>(small(rng)) / 1e6;
        double cost = static_cast<double>(small(rng)) / 1e6;
        double any = static_cast<double>(micros(rng)) / 1e6;
        double whole = static_cast<double>(small(rng) * (i % 7 == 0 ? 1000 : 1));
        std::uint64_t b = bits(rng);
        double raw;
        std::memcpy(&raw, &b, sizeof raw);
        for (double d : {ts, cost, any, whole, raw, -cost})
            REQUIRE_MESSAGE(written(d) == reference(d), d);
    }
}

TEST_CASE("json number: the edges of the fast path") {
    for (double d : {0.0, -0.0, 1e-6, 9.99e-7, 1.5e-6, 1e-5, 0.0001, 0.001, 0.1, 0.5, 1.0, 10.0, 100.0, 1e5, 1e6,
                     3e6, 1234567.0, 1e7, 8589934591.999999, 8589934592.0, 8589934592.5, 4294967296.000001,
                     1796144801.626606, 1796144801.6, 0.034255, 123456.000001, 9.9999995, 0.1 + 0.2, 1e300, 5e-324,
                     HUGE_VAL, -HUGE_VAL, static_cast<double>(NAN)})
        CHECK_MESSAGE(written(d) == reference(d), d);
}
