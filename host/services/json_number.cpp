#include "services/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace orch {

namespace {

// d's shortest text when it has at most 6 decimals, 1e-6 <= d < 2^33, and
// the fixed notation is chosen (not longer than the scientific one); else
// 0 (the caller takes std::to_chars). Why it is the shortest: below 2^33
// a double's spacing is under 1e-6, so at most one multiple of 1e-6 reads
// back as d, and a text with fewer digits than it would be another such
// multiple. m / 1e6 of two exact doubles is correctly rounded, as reading
// the text back is.
size_t fast_fixed(char* buf, double d) {
    if (!(d >= 1e-6 && d < 8589934592.0)) return 0;
    double scaled = d * 1e6;
    auto m = static_cast<std::int64_t>(std::llround(scaled));
    if (static_cast<double>(m) / 1e6 != d) return 0;
    auto whole = m / 1000000;
    auto frac = m % 1000000;
    int fdigits = 6;
    while (fdigits > 0 && frac % 10 == 0) { frac /= 10; --fdigits; }
    // the significant digits, and both notations' lengths
    char digits[24];
    char* end;
    size_t sig;
    if (whole > 0) {
        end = std::to_chars(digits, digits + sizeof digits, whole).ptr;
        size_t wd = static_cast<size_t>(end - digits);
        sig = wd + static_cast<size_t>(fdigits);
        size_t trailing = 0;  // zeros at the end of a whole number count for fixed, not scientific
        if (fdigits == 0)
            for (char* p = end; p > digits && p[-1] == '0'; --p) ++trailing;
        size_t sig_sci = sig - trailing;
        int exp10 = static_cast<int>(wd) - 1;
        size_t sci = sig_sci + (sig_sci > 1 ? 1 : 0) + (exp10 >= 100 ? 5 : 4);
        size_t fixed = wd + (fdigits > 0 ? 1 + static_cast<size_t>(fdigits) : 0);
        if (fixed > sci) return 0;
        char* p = buf;
        for (char* q = digits; q < end; ++q) *p++ = *q;
        if (fdigits > 0) {
            *p++ = '.';
            char f[8];
            for (int i = fdigits - 1; i >= 0; --i) { f[i] = static_cast<char>('0' + frac % 10); frac /= 10; }
            for (int i = 0; i < fdigits; ++i) *p++ = f[i];
        }
        return static_cast<size_t>(p - buf);
    }
    // 0 < d < 1: "0.000ddd"; scientific "d.dde-0X"
    end = std::to_chars(digits, digits + sizeof digits, frac).ptr;
    size_t nd = static_cast<size_t>(end - digits);
    size_t zeros = static_cast<size_t>(fdigits) - nd;  // after the point, before the digits
    size_t fixed = 2 + static_cast<size_t>(fdigits);
    size_t sci = nd + (nd > 1 ? 1 : 0) + 4;
    if (fixed > sci) return 0;
    char* p = buf;
    *p++ = '0';
    *p++ = '.';
    for (size_t i = 0; i < zeros; ++i) *p++ = '0';
    for (char* q = digits; q < end; ++q) *p++ = *q;
    return static_cast<size_t>(p - buf);
}

}  // namespace

size_t json_double_text(char* buf, double d) {
    if (!std::isfinite(d)) {
        std::memcpy(buf, "null", 4);
        return 4;
    }
    size_t n = fast_fixed(buf, d);
    if (n > 0) {
        for (size_t i = 0; i < n; ++i)
            if (buf[i] == '.') return n;
    } else {
        n = static_cast<size_t>(std::to_chars(buf, buf + k_json_double_max - 2, d).ptr - buf);
        for (size_t i = 0; i < n; ++i)
            if (buf[i] == '.' || buf[i] == 'e') return n;
    }
    buf[n] = '.';
    buf[n + 1] = '0';
    return n + 2;
}

void append_json_double(std::string& out, double d) {
    char buf[k_json_double_max];
    out.append(buf, json_double_text(buf, d));
}

}  // namespace orch
