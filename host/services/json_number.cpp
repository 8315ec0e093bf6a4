#include "services/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace orch {

namespace {

// the 100 two-digit pairs "00".."99"
constexpr char k_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// v < 10^8 as exactly 8 digits, leading zeros included
void write_8_digits(char* p, std::uint32_t v) {
    std::uint32_t a = v / 10000, b = v % 10000;
    std::memcpy(p, k_pairs + 2 * (a / 100), 2);
    std::memcpy(p + 2, k_pairs + 2 * (a % 100), 2);
    std::memcpy(p + 4, k_pairs + 2 * (b / 100), 2);
    std::memcpy(p + 6, k_pairs + 2 * (b % 100), 2);
}

// d's JSON text (with ".0" when whole) when it has at most 6 decimals,
// 1e-6 <= d < 2^33, and the fixed notation is chosen (not longer than the
// scientific one); else 0 (the caller takes std::to_chars). Why it is the
// shortest: below 2^33 a double's spacing is under 1e-6, so at most one
// multiple of 1e-6 reads back as d, and a text with fewer digits than it
// would be another such multiple. m / 1e6 of two exact doubles is correctly
// rounded, as reading the text back is. The digits of m = d * 1e6 are
// written once: the last 6 are the decimals.
//
// Any m with m / 1e6 == d gives that text (at most one does), so m is d * 1e6
// rounded by a truncating conversion, not llround's call; its 16 digits
// (m < 2^33 * 1e6 < 1e16) are written two at a time from a table, leading
// zeros and all, and the zeros skipped (to_chars cost ~180 instructions a
// number; the 30,000 times of a 10,000-task status were 9 M of its 69 M).
size_t fast_fixed(char* buf, double d) {
    if (!(d >= 1e-6 && d < 8589934592.0)) return 0;
    auto m = static_cast<std::uint64_t>(d * 1e6 + 0.5);
    if (static_cast<double>(m) / 1e6 != d) return 0;
    char all[16];
    write_8_digits(all, static_cast<std::uint32_t>(m / 100000000u));
    write_8_digits(all + 8, static_cast<std::uint32_t>(m % 100000000u));
    size_t lead = 0;
    while (all[lead] == '0') ++lead;  // m >= 1: a digit is not 0
    const char* digits = all + lead;
    size_t nd = 16 - lead;
    size_t end = nd;  // the significant digits end here (m >= 1: not all zeros)
    while (digits[end - 1] == '0') --end;
    if (nd > 6) {  // d >= 1: "w.fff"; scientific "w.wwfffe+0X" (the exponent below 100)
        size_t wd = nd - 6;
        size_t fdigits = end > wd ? end - wd : 0;
        size_t sig_sci = end;  // the zeros ending a whole number count for fixed, not scientific
        size_t sci = sig_sci + (sig_sci > 1 ? 1 : 0) + 4;
        size_t fixed = wd + (fdigits > 0 ? 1 + fdigits : 0);
        if (fixed > sci) return 0;
        std::memcpy(buf, digits, wd);
        buf[wd] = '.';
        if (fdigits == 0) {
            buf[wd + 1] = '0';
            return wd + 2;
        }
        std::memcpy(buf + wd + 1, digits + wd, fdigits);
        return wd + 1 + fdigits;
    }
    // 0 < d < 1: "0.000ddd"; scientific "d.dde-0X"
    size_t zeros = 6 - nd;  // after the point, before the digits
    size_t fixed = 2 + zeros + end;
    size_t sci = end + (end > 1 ? 1 : 0) + 4;
    if (fixed > sci) return 0;
    buf[0] = '0';
    buf[1] = '.';
    std::memset(buf + 2, '0', zeros);
    std::memcpy(buf + 2 + zeros, digits, end);
    return fixed;
}

}  // namespace

size_t json_double_text(char* buf, double d) {
    if (!std::isfinite(d)) {
        std::memcpy(buf, "null", 4);
        return 4;
    }
    size_t n = fast_fixed(buf, d);
    if (n > 0) return n;
    n = static_cast<size_t>(std::to_chars(buf, buf + k_json_double_max - 2, d).ptr - buf);
    for (size_t i = 0; i < n; ++i)
        if (buf[i] == '.' || buf[i] == 'e') return n;
    buf[n] = '.';
    buf[n + 1] = '0';
    return n + 2;
}

void append_json_double(std::string& out, double d) {
    char buf[k_json_double_max];
    out.append(buf, json_double_text(buf, d));
}

}  // namespace orch
