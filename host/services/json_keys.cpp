#include "services/json_keys.h"

#include <string>
#include <unordered_set>
#include <vector>

namespace orch {

namespace {

struct Frame {
    bool object = false;
    bool expect_key = false;  // in an object: the next string is a key
    long index = 0;           // in an array: the element being read
    std::string key;          // in an object: the member being read
    std::unordered_set<std::string_view> keys;
};

// RFC 6901: "~" as "~0", "/" as "~1"
void append_token(std::string& out, std::string_view raw) {
    out += '/';
    for (char c : raw) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
}

std::string pointer_of(const std::vector<Frame>& stack) {
    std::string p;
    for (size_t i = 0; i + 1 < stack.size(); ++i)
        append_token(p, stack[i].object ? std::string_view(stack[i].key) : std::to_string(stack[i].index));
    return p;
}

}  // namespace

bool json_duplicate_key(std::string_view text, DuplicateKey& out) {
    std::vector<Frame> stack;
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        switch (c) {
        case '\n':
            ++line;
            line_start = i + 1;
            break;
        case '{':
        case '[':
            stack.emplace_back();
            stack.back().object = c == '{';
            stack.back().expect_key = c == '{';
            break;
        case '}':
        case ']':
            if (!stack.empty()) stack.pop_back();
            break;
        case ',':
            if (stack.empty()) break;
            if (stack.back().object) stack.back().expect_key = true;
            else ++stack.back().index;
            break;
        case '"': {
            size_t start = i + 1, j = start;
            while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
            if (!stack.empty() && stack.back().object && stack.back().expect_key) {
                Frame& f = stack.back();
                std::string_view key = text.substr(start, j - start);
                if (!f.keys.insert(key).second) {
                    out.key = std::string(key);
                    out.pointer = pointer_of(stack);
                    append_token(out.pointer, key);
                    out.line = line;
                    out.column = static_cast<int>(i - line_start) + 1;
                    return true;
                }
                f.key = std::string(key);
                f.expect_key = false;
            }
            i = j;
            break;
        }
        default: break;
        }
    }
    return false;
}

}  // namespace orch
