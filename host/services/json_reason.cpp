#include "services/json_reason.h"

#include <cctype>
#include <cstring>

namespace orch {

std::string json_message(const std::string& what) {
    auto p = what.find("] ");
    return what.rfind("[json.exception", 0) == 0 && p != std::string::npos ? what.substr(p + 2) : what;
}

namespace {

using json = nlohmann::json;

// Where and what, in our words: nlohmann's message quotes the text it read
// last, which would echo a piece of the body (a secret, say) to the caller
// and into logs. Only the part before that excerpt is kept (without the
// "[json.exception.x.n] " prefix), cut to its vocabulary (letters, digits,
// spaces and a few marks), so nothing of the body can pass.
std::string words_of(const std::string& what) {
    std::string s = json_message(what);
    if (auto p = s.find("; last read"); p != std::string::npos) s.resize(p);
    for (auto& ch : s)
        if (!isalnum(static_cast<unsigned char>(ch)) && !strchr(" ,:-+()_.'[]{}<>", ch)) ch = '?';
    return s;
}

// A SAX reader that keeps nothing but where the parse stopped: the byte
// offset after the token it refused, and that token's length.
struct Stop {
    bool failed = false;
    std::size_t at = 0, len = 0;
    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(json::number_integer_t) { return true; }
    bool number_unsigned(json::number_unsigned_t) { return true; }
    bool number_float(json::number_float_t, const json::string_t&) { return true; }
    bool string(json::string_t&) { return true; }
    bool binary(json::binary_t&) { return true; }
    bool start_object(std::size_t) { return true; }
    bool key(json::string_t&) { return true; }
    bool end_object() { return true; }
    bool start_array(std::size_t) { return true; }
    bool end_array() { return true; }
    bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception&) {
        failed = true;
        at = position;
        len = token.size();
        return false;
    }
};

// "line L, column C" of byte offset `at` in text, both from 1 as the parser counts
std::string line_column(std::string_view text, std::size_t at) {
    if (at > text.size()) at = text.size();
    std::size_t line = 1, start = 0;
    for (std::size_t i = 0; i < at; ++i)
        if (text[i] == '\n') ++line, start = i + 1;
    return "line " + std::to_string(line) + ", column " + std::to_string(at - start + 1);
}

}  // namespace

std::string json_error_reason(std::string_view text, const nlohmann::json::exception& e) {
    if (dynamic_cast<const json::parse_error*>(&e)) return words_of(e.what());  // it says where
    std::string what = e.id == 406 ? "number out of range" : words_of(e.what());
    Stop stop;
    try {
        json::sax_parse(text.data(), text.data() + text.size(), &stop);
    } catch (const std::exception&) {
        return what;
    }
    if (!stop.failed) return what;
    return what + " at " + line_column(text, stop.at >= stop.len ? stop.at - stop.len : 0);
}

}  // namespace orch
