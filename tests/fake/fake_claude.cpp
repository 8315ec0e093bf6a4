// fake_claude.cpp: a fast stand-in for the Claude Code CLI (`claude -p`), used by
// orch-host's tests and benchmarks instead of the real 250-380 MB binary.
//
// It prints the same output shapes as the real CLI 2.1.197 (see
// docs/stream-json.md and bench/stream-json.txt, a recorded run), with fresh session_id/uuid
// values per run and cwd = the real cwd. What it does is chosen by a marker in the
// prompt, `[fake:MODE]` or `[fake:MODE:ARG]` (first one wins), else the env var
// FAKE_CLAUDE_MODE, else `success`. See tests/fake/README.md for the list of modes.
//
// Single file, C++17, standard library + POSIX only:
//   g++ -std=c++17 -O2 -o fake_claude tests/fake/fake_claude.cpp

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace {

// ---------------------------------------------------------------- low-level I/O

// Write all bytes to fd. A closed reader (EPIPE) ends the process quietly with 141,
// the status a shell reports for death by SIGPIPE; SIGPIPE itself is ignored.
void write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) _exit(141);
            _exit(141);  // stdout unusable: nothing sensible left to do
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void out_line(const std::string& s) {
    std::string line = s;
    line.push_back('\n');
    write_all(1, line.data(), line.size());
}

void err_line(const std::string& s) {
    std::string line = s;
    line.push_back('\n');
    ssize_t r = ::write(2, line.data(), line.size());
    (void)r;
}

// Append one line to a file with O_APPEND and a single write(2), so lines from
// concurrent processes never interleave.
void append_line(const char* path, const std::string& s) {
    int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::string line = s;
    line.push_back('\n');
    ssize_t r;
    do {
        r = ::write(fd, line.data(), line.size());
    } while (r < 0 && errno == EINTR);
    ::close(fd);
}

std::string read_fd_all(int fd) {
    std::string s;
    char buf[65536];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (r == 0) break;
        s.append(buf, static_cast<size_t>(r));
    }
    return s;
}

void sleep_seconds(double secs) {
    if (!(secs > 0)) return;
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(secs);
    ts.tv_nsec = static_cast<long>((secs - static_cast<double>(ts.tv_sec)) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

[[noreturn]] void sleep_forever() {
    for (;;) pause();
}

struct timespec g_t0;

long elapsed_ms() {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - g_t0.tv_sec) * 1000L + (t.tv_nsec - g_t0.tv_nsec) / 1000000L;
}

std::string iso_now() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000L);
    return buf;
}

// ---------------------------------------------------------------- ids

uint64_t g_rng;

uint64_t next_rand() {  // splitmix64
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void seed_rng() {
    uint64_t seed = 0;
    int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (::read(fd, &seed, sizeof seed) != static_cast<ssize_t>(sizeof seed)) seed = 0;
        ::close(fd);
    }
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    seed ^= static_cast<uint64_t>(t.tv_nsec) * 0x100000001B3ULL ^
            static_cast<uint64_t>(t.tv_sec) ^ (static_cast<uint64_t>(getpid()) << 32);
    g_rng = seed;
}

std::string hex(size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(n);
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 16 == 0) r = next_rand();
        s.push_back(d[r & 15]);
        r >>= 4;
    }
    return s;
}

std::string uuid4() {
    std::string h = hex(32);
    h[12] = '4';
    h[16] = "89ab"[next_rand() & 3];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
           h.substr(16, 4) + "-" + h.substr(20, 12);
}

// ---------------------------------------------------------------- JSON

// Quote a string as JSON. Invalid UTF-8 is replaced by U+FFFD, as the real CLI's
// JavaScript strings would do, so the output is always valid JSON.
std::string q(const std::string& s) {
    std::string o;
    o.reserve(s.size() + 2);
    o.push_back('"');
    const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t n = s.size();
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
                case '"': o += "\\\""; break;
                case '\\': o += "\\\\"; break;
                case '\n': o += "\\n"; break;
                case '\r': o += "\\r"; break;
                case '\t': o += "\\t"; break;
                case '\b': o += "\\b"; break;
                case '\f': o += "\\f"; break;
                default:
                    if (c < 0x20) {
                        char b[8];
                        snprintf(b, sizeof b, "\\u%04x", c);
                        o += b;
                    } else {
                        o.push_back(static_cast<char>(c));
                    }
            }
            i++;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) ok = false;
            else cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
            ok = false;
        if (ok) {
            o.append(s, i, len);
            i += len;
        } else {
            o += "\xEF\xBF\xBD";
            i++;
        }
    }
    o.push_back('"');
    return o;
}

std::string fmt_cost(double v) {
    char b[64];
    snprintf(b, sizeof b, "%.6f", v);
    std::string s = b;  // trim trailing zeros like JS number printing
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// ---------------------------------------------------------------- run state

enum class Fmt { Text, Json, Stream };

struct Opts {
    Fmt fmt = Fmt::Text;
    bool verbose = false;
    std::string model;
    long max_turns = -1;
    std::vector<std::string> allowed, disallowed;
    std::string permission_mode;
    bool skip_permissions = false;
    std::string append_system_prompt;
    std::string resume;
    bool has_resume = false;
    std::string session_id_flag;
    std::string positional;
    bool has_positional = false;
};

Opts g_opt;
std::string g_session;
std::string g_cwd;
std::string g_model;      // as in init / modelUsage, e.g. claude-opus-4-8[1m]
std::string g_msg_model;  // as in assistant messages, e.g. claude-opus-4-8
std::string g_stdin;      // the prompt read from stdin
std::string g_prompt;     // stdin + positional
const char* g_ledger = nullptr;
std::string g_ledger_key;

bool stream() { return g_opt.fmt == Fmt::Stream; }
bool g_linger = false;     // stay alive after the result line (mode linger)

void ledger(const char* what) {
    if (g_ledger) append_line(g_ledger, std::string(what) + " " + g_ledger_key);
}

const char* kTools[] = {"Task", "Bash", "CronCreate", "CronDelete", "CronList", "Edit",
                        "EnterWorktree", "ExitWorktree", "NotebookEdit", "Read",
                        "ReportFindings", "ScheduleWakeup", "SendMessage", "Skill",
                        "TaskCreate", "TaskGet", "TaskList", "TaskOutput", "TaskStop",
                        "TaskUpdate", "WebFetch", "WebSearch", "Workflow", "Write"};

const char* kInitTail1 =
    "\"slash_commands\":[\"deep-research\",\"update-config\",\"verify\",\"debug\","
    "\"code-review\",\"simplify\",\"batch\",\"fewer-permission-prompts\",\"loop\","
    "\"claude-api\",\"run\",\"run-skill-generator\",\"clear\",\"compact\",\"config\","
    "\"context\",\"heapdump\",\"init\",\"reload-skills\",\"review\",\"security-review\","
    "\"usage\",\"insights\",\"goal\",\"team-onboarding\"],";
const char* kInitTail2 =
    "\"claude_code_version\":\"2.1.197\",\"output_style\":\"default\","
    "\"agents\":[\"claude\",\"Explore\",\"general-purpose\",\"Plan\",\"statusline-setup\"],"
    "\"skills\":[\"deep-research\",\"update-config\",\"verify\",\"debug\",\"code-review\","
    "\"simplify\",\"batch\",\"fewer-permission-prompts\",\"loop\",\"claude-api\",\"run\","
    "\"run-skill-generator\"],\"plugins\":[],\"analytics_disabled\":true,"
    "\"product_feedback_disabled\":true,";

void emit_init() {
    if (!stream()) return;
    std::string perm = g_opt.permission_mode;
    if (perm.empty()) perm = g_opt.skip_permissions ? "bypassPermissions" : "default";
    std::string tools = "[";
    bool first = true;
    for (const char* t : kTools) {
        bool removed = false;  // a bare name in --disallowedTools removes the tool
        for (const auto& d : g_opt.disallowed)
            if (d == t) removed = true;
        if (removed) continue;
        if (!first) tools += ",";
        first = false;
        tools += q(t);
    }
    tools += "]";
    const char* cfg = getenv("CLAUDE_CONFIG_DIR");
    const char* home = getenv("HOME");
    std::string base = cfg && *cfg ? std::string(cfg) : std::string(home ? home : "") + "/.claude";
    std::string slug = g_cwd;
    for (char& c : slug)
        if (c == '/' || c == '.') c = '-';
    std::string s = "{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":" + q(g_cwd) +
                    ",\"session_id\":" + q(g_session) + ",\"tools\":" + tools +
                    ",\"mcp_servers\":[],\"model\":" + q(g_model) +
                    ",\"permissionMode\":" + q(perm) + "," + kInitTail1 +
                    "\"apiKeySource\":\"ANTHROPIC_API_KEY\"," + kInitTail2 +
                    "\"uuid\":" + q(uuid4()) + ",\"memory_paths\":{\"auto\":" +
                    q(base + "/projects/" + slug + "/memory/") +
                    "},\"fast_mode_state\":\"off\"}";
    out_line(s);
}

struct Msg {  // one API turn: message id and request id shared by its blocks
    std::string id = "msg_mock_" + hex(20);
    std::string req = "req_mock_" + hex(16);
    long in_tokens = 3204;
    long out_tokens = 1;
};

std::string assistant_line(const Msg& m, const std::string& block, const char* model = nullptr) {
    return "{\"type\":\"assistant\",\"message\":{\"id\":" + q(m.id) +
           ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
           q(model ? model : g_msg_model) + ",\"content\":[" + block +
           "],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":" +
           std::to_string(m.in_tokens) + ",\"output_tokens\":" + std::to_string(m.out_tokens) +
           ",\"cache_creation_input_tokens\":0,"
           "\"cache_read_input_tokens\":0},\"context_management\":null},"
           "\"parent_tool_use_id\":null,\"session_id\":" +
           q(g_session) + ",\"uuid\":" + q(uuid4()) + ",\"request_id\":" + q(m.req) + "}";
}

void emit_text(const Msg& m, const std::string& text) {
    if (!stream()) return;
    out_line(assistant_line(m, "{\"type\":\"text\",\"text\":" + q(text) + "}"));
}

void emit_tool_use(const Msg& m, const std::string& id, const std::string& name,
                   const std::string& input_json) {
    if (!stream()) return;
    out_line(assistant_line(m, "{\"type\":\"tool_use\",\"id\":" + q(id) + ",\"name\":" +
                                   q(name) + ",\"input\":" + input_json + "}"));
}

void emit_tool_result(const std::string& tool_id, const std::string& content, bool is_error,
                      const std::string& tool_use_result_json) {
    if (!stream()) return;
    std::string block =
        is_error ? "{\"type\":\"tool_result\",\"content\":" + q(content) +
                       ",\"is_error\":true,\"tool_use_id\":" + q(tool_id) + "}"
                 : "{\"tool_use_id\":" + q(tool_id) +
                       ",\"type\":\"tool_result\",\"content\":" + q(content) + "}";
    out_line("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[" + block +
             "]},\"parent_tool_use_id\":null,\"session_id\":" + q(g_session) +
             ",\"uuid\":" + q(uuid4()) + ",\"timestamp\":" + q(iso_now()) +
             ",\"tool_use_result\":" + tool_use_result_json + "}");
}

std::string usage_json(long in, long out) {
    return "{\"input_tokens\":" + std::to_string(in) +
           ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
           "\"output_tokens\":" + std::to_string(out) +
           ",\"server_tool_use\":{\"web_search_requests\":0,\"web_fetch_requests\":0},"
           "\"service_tier\":\"standard\",\"cache_creation\":{\"ephemeral_1h_input_tokens\":0,"
           "\"ephemeral_5m_input_tokens\":0},\"inference_geo\":\"\",\"iterations\":[],"
           "\"speed\":\"standard\"}";
}

std::string model_usage_json(long in, long out, double cost) {
    if (in == 0 && out == 0) return "{}";
    return "{" + q(g_model) + ":{\"inputTokens\":" + std::to_string(in) +
           ",\"outputTokens\":" + std::to_string(out) +
           ",\"cacheReadInputTokens\":0,\"cacheCreationInputTokens\":0,"
           "\"webSearchRequests\":0,\"costUSD\":" + fmt_cost(cost) +
           ",\"contextWindow\":1000000,\"maxOutputTokens\":64000}}";
}

struct Result {
    std::string subtype = "success";
    bool is_error = false;
    std::string api_error_status = "null";
    long num_turns = 2;
    bool has_result = true;
    std::string result = "done";
    std::string stop_reason = "\"end_turn\"";
    long in = 6533, out = 62;
    double cost = 0.034215;
    std::string denials = "[]";
    std::string terminal_reason = "completed";
    std::string errors;  // JSON array, only for error subtypes
    std::string text_out;  // what text mode prints; defaults to result
};

// Print the result in the chosen format and exit with the real CLI's code.
[[noreturn]] void finish(const Result& r) {
    ledger("end");
    long ms = elapsed_ms();
    if (ms < 1) ms = 1;
    if (g_opt.fmt == Fmt::Text) {
        out_line(r.text_out.empty() ? r.result : r.text_out);
    } else {
        long api = ms < 66 ? ms : 66;
        std::string s = "{\"type\":\"result\",\"subtype\":" + q(r.subtype) +
                        ",\"is_error\":" + (r.is_error ? "true" : "false") +
                        ",\"api_error_status\":" + r.api_error_status +
                        ",\"duration_ms\":" + std::to_string(ms) +
                        ",\"duration_api_ms\":" + std::to_string(api) +
                        ",\"ttft_ms\":" + std::to_string(api) +
                        ",\"ttft_stream_ms\":" + std::to_string(api) +
                        ",\"time_to_request_ms\":" + std::to_string(ms / 2) +
                        ",\"num_turns\":" + std::to_string(r.num_turns);
        if (r.has_result) s += ",\"result\":" + q(r.result);
        s += ",\"stop_reason\":" + r.stop_reason + ",\"session_id\":" + q(g_session) +
             ",\"total_cost_usd\":" + fmt_cost(r.cost) + ",\"usage\":" + usage_json(r.in, r.out) +
             ",\"modelUsage\":" + model_usage_json(r.in, r.out, r.cost) +
             ",\"permission_denials\":" + r.denials + ",\"terminal_reason\":" +
             q(r.terminal_reason) + ",\"fast_mode_state\":\"off\",\"uuid\":" + q(uuid4());
        if (!r.errors.empty()) s += ",\"errors\":" + r.errors;
        s += "}";
        out_line(s);
    }
    if (g_linger) sleep_forever();
    _exit(r.is_error ? 1 : 0);
}

// ---------------------------------------------------------------- scenarios

std::string first_line(const std::string& s) {
    size_t e = s.find('\n');
    std::string l = s.substr(0, e);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    return l;
}

// The final text of a normal run: "done", unless --resume overrides it.
std::string final_text(const std::string& normal) {
    if (!g_opt.has_resume) return normal;
    return "Resumed with answer: " + first_line(g_stdin.empty() ? g_opt.positional : g_stdin);
}

std::string abs_path(const std::string& p) {
    if (!p.empty() && p[0] == '/') return p;
    return g_cwd + "/" + p;
}

bool write_enabled() {
    const char* w = getenv("FAKE_CLAUDE_WRITE");
    return w && strcmp(w, "1") == 0;
}

// Does one --disallowedTools entry forbid this tool call? `Name`, `Name(exact)`,
// `Name(prefix:*)` / `Name(prefix*)`.
bool rule_matches(const std::string& rule, const std::string& name, const std::string& arg) {
    size_t lp = rule.find('(');
    if (lp == std::string::npos) return rule == name;
    if (rule.compare(0, lp, name) != 0 || lp != name.size() || rule.back() != ')') return false;
    std::string pat = rule.substr(lp + 1, rule.size() - lp - 2);
    if (pat.size() >= 2 && pat.compare(pat.size() - 2, 2, ":*") == 0) {
        std::string pre = pat.substr(0, pat.size() - 2);
        return arg.compare(0, pre.size(), pre) == 0;
    }
    if (!pat.empty() && pat.back() == '*') {
        std::string pre = pat.substr(0, pat.size() - 1);
        return arg.compare(0, pre.size(), pre) == 0;
    }
    return pat == arg || (name != "Bash" && abs_path(pat) == abs_path(arg));
}

bool disallowed(const std::string& name, const std::string& arg) {
    for (const auto& r : g_opt.disallowed)
        if (rule_matches(r, name, arg)) return true;
    return false;
}

std::string denial_text(const std::string& name, const std::string& arg) {
    if (name == "Bash") return "Permission to use Bash with command " + arg + " has been denied.";
    return "Permission to use " + name + " has been denied.";
}

std::string denial_json(const std::string& name, const std::string& id, const std::string& input) {
    return "[{\"tool_name\":" + q(name) + ",\"tool_use_id\":" + q(id) + ",\"tool_input\":" +
           input + "}]";
}

std::string write_result_text(const std::string& path) {
    return "File created successfully at: " + path +
           " (file state is current in your context \xE2\x80\x94 no need to Read it back)";
}

std::string write_tool_use_result(const std::string& path, const std::string& content) {
    return "{\"type\":\"create\",\"filePath\":" + q(path) + ",\"content\":" + q(content) +
           ",\"structuredPatch\":[],\"originalFile\":null,\"userModified\":false}";
}

// Write `content` to `path` for real only when FAKE_CLAUDE_WRITE=1.
void maybe_write(const std::string& path, const std::string& content) {
    if (!write_enabled()) return;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t r = ::write(fd, content.data(), content.size());
    (void)r;
    ::close(fd);
}

// fake-<n>.txt with the lowest n >= 1 not present in cwd.
std::string fresh_fake_file() {
    for (int n = 1;; n++) {
        std::string p = g_cwd + "/fake-" + std::to_string(n) + ".txt";
        if (write_enabled()) {
            int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::close(fd);
                return p;
            }
            if (errno != EEXIST) return p;
        } else {
            struct stat st;
            if (::lstat(p.c_str(), &st) != 0) return p;
        }
    }
}

// The sample run: text, Write tool_use, tool_result, text "done", result.
[[noreturn]] void run_success(const std::string& normal_text) {
    Msg m1;
    emit_text(m1, "I'll create the file.");
    std::string path = fresh_fake_file();
    std::string content = "hello from fake claude\n";
    std::string tid = "toolu_mock_" + hex(20);
    emit_tool_use(m1, tid, "Write",
                  "{\"file_path\":" + q(path) + ",\"content\":" + q(content) + "}");
    maybe_write(path, content);
    emit_tool_result(tid, write_result_text(path), false, write_tool_use_result(path, content));
    Msg m2;
    m2.in_tokens = 3332;
    Result r;
    r.result = final_text(normal_text);
    emit_text(m2, r.result);
    finish(r);
}

[[noreturn]] void run_denied() {
    Msg m1;
    emit_text(m1, "I'll commit the change.");
    std::string cmd = "git commit -m x";
    std::string input = "{\"command\":" + q(cmd) + ",\"description\":\"run\"}";
    emit_tool_use(m1, "toolu_x", "Bash", input);
    std::string msg = denial_text("Bash", cmd);
    emit_tool_result("toolu_x", msg, true, q("Error: " + msg));
    Msg m2;
    m2.in_tokens = 3332;
    Result r;
    r.result = final_text("done");
    r.denials = denial_json("Bash", "toolu_x", input);
    emit_text(m2, r.result);
    finish(r);
}

[[noreturn]] void run_tool(const std::string& name, const std::string& arg) {
    Msg m1;
    emit_text(m1, "I'll use " + name + ".");
    std::string tid = "toolu_mock_" + hex(20);
    std::string input, ok_text, ok_result;
    if (name == "Bash") {
        input = "{\"command\":" + q(arg) + ",\"description\":\"run\"}";
        ok_text = "(Bash completed with no output)";
        ok_result = "{\"stdout\":\"\",\"stderr\":\"\",\"interrupted\":false,\"isImage\":false,"
                    "\"noOutputExpected\":false}";
    } else if (name == "Write") {
        std::string p = abs_path(arg);
        input = "{\"file_path\":" + q(p) + ",\"content\":\"x\"}";
        ok_text = write_result_text(p);
        ok_result = write_tool_use_result(p, "x");
    } else if (name == "Read" || name == "Edit") {
        std::string p = abs_path(arg);
        input = name == "Read" ? "{\"file_path\":" + q(p) + "}"
                               : "{\"file_path\":" + q(p) +
                                     ",\"old_string\":\"x\",\"new_string\":\"y\"}";
        ok_text = "ok";
        ok_result = q("ok");
    } else if (name == "AskUserQuestion") {
        if (g_opt.has_resume) run_success("done");  // resumed with the answer: no question again
        input = "{\"questions\":[{\"question\":" + q(arg) +
                ",\"header\":\"Question\",\"options\":[{\"label\":\"A\",\"description\":\"the first way\"},"
                "{\"label\":\"B\",\"description\":\"the second way\"}],\"multiSelect\":false}]}";
        ok_text = "ok";
        ok_result = q("ok");
    } else {
        input = "{\"command\":" + q(arg) + "}";
        ok_text = "ok";
        ok_result = q("ok");
    }
    emit_tool_use(m1, tid, name, input);
    sleep_seconds(0.3);
    Result r;
    if (disallowed(name, name == "Bash" ? arg : abs_path(arg))) {
        std::string msg = denial_text(name, arg);
        emit_tool_result(tid, msg, true, q("Error: " + msg));
        r.denials = denial_json(name, tid, input);
    } else {
        if (name == "Write") maybe_write(abs_path(arg), "x");
        emit_tool_result(tid, ok_text, false, ok_result);
    }
    Msg m2;
    m2.in_tokens = 3332;
    r.result = final_text("done");
    emit_text(m2, r.result);
    finish(r);
}

[[noreturn]] void run_fail() {
    Result r;
    r.is_error = true;
    r.api_error_status = "500";
    r.num_turns = 1;
    r.result =
        "API Error: 500 mock internal error. This is a server-side issue, usually temporary "
        "\xE2\x80\x94 try again in a moment.";
    r.stop_reason = "\"stop_sequence\"";
    r.in = r.out = 0;
    r.cost = 0;
    Msg m;
    m.in_tokens = 0;
    m.out_tokens = 0;
    if (stream())
        out_line(assistant_line(m, "{\"type\":\"text\",\"text\":" + q(r.result) + "}",
                                "<synthetic>"));
    finish(r);
}

// An API error the CLI gave up on, with the real CLI's texts for the status.
[[noreturn]] void run_api_error(long status) {
    Result r;
    r.is_error = true;
    r.api_error_status = std::to_string(status);
    r.num_turns = 1;
    if (status == 401 || status == 403)
        r.result = "Failed to authenticate. API Error: " + std::to_string(status) +
                   " {\"type\":\"error\",\"error\":{\"type\":\"" +
                   (status == 401 ? "authentication_error" : "permission_error") +
                   "\",\"message\":\"invalid x-api-key\"}}";
    else if (status == 529)
        r.result = "API Error: 529 Overloaded (overloaded_error). This is a server-side issue, usually temporary "
                   "\xE2\x80\x94 try again in a moment.";
    else
        r.result = "API Error: " + std::to_string(status) + " mock error (api_error)";
    r.stop_reason = "\"stop_sequence\"";
    r.in = r.out = 0;
    r.cost = 0;
    Msg m;
    m.in_tokens = 0;
    m.out_tokens = 0;
    if (stream())
        out_line(assistant_line(m, "{\"type\":\"text\",\"text\":" + q(r.result) + "}", "<synthetic>"));
    finish(r);
}

std::string rate_limit_event(const std::string& status, long resets_at, const std::string& extra) {
    return "{\"type\":\"rate_limit_event\",\"rate_limit_info\":{\"status\":" + q(status) +
           ",\"resetsAt\":" + std::to_string(resets_at) + ",\"rateLimitType\":\"five_hour\"" + extra +
           ",\"isUsingOverage\":false},\"uuid\":" + q(uuid4()) + ",\"session_id\":" + q(g_session) + "}";
}

// The subscription's usage limit, as the real CLI reports a 429 that carries
// anthropic-ratelimit-unified-status: rejected: a rate_limit_event, a
// <synthetic> text, an is_error result with api_error_status 429.
[[noreturn]] void run_limit(double secs) {
    long resets = static_cast<long>(time(nullptr) + static_cast<long>(secs));
    Result r;
    r.is_error = true;
    r.api_error_status = "429";
    r.num_turns = 1;
    r.result = "You've hit your session limit \xC2\xB7 resets 5:49pm (UTC)";
    r.stop_reason = "\"stop_sequence\"";
    r.in = r.out = 0;
    r.cost = 0;
    Msg m;
    m.in_tokens = 0;
    m.out_tokens = 0;
    if (stream()) {
        out_line(rate_limit_event("rejected", resets, ""));
        out_line(assistant_line(m, "{\"type\":\"text\",\"text\":" + q(r.result) + "}", "<synthetic>"));
    }
    finish(r);
}

// The older result text of the usage limit, with the reset time after "|"; no event.
[[noreturn]] void run_limit_text(double secs) {
    long resets = static_cast<long>(time(nullptr) + static_cast<long>(secs));
    Result r;
    r.is_error = true;
    r.api_error_status = "429";
    r.num_turns = 1;
    r.result = "Claude AI usage limit reached|" + std::to_string(resets);
    r.stop_reason = "\"stop_sequence\"";
    r.in = r.out = 0;
    r.cost = 0;
    finish(r);
}

// Whether this is one of the first N runs in this cwd that counted in
// <cwd>/fake-<name>.count (flaky: a 529; stall_once: a hang), or, run by
// orch-host for a task, fake-<name>-<ORCH_TASK_ID>.count (a worktree that
// starts from another task's work carries that task's counter along).
bool first_runs(const char* name, long n) {
    const char* task = getenv("ORCH_TASK_ID");
    std::string path = g_cwd + "/fake-" + name + (task && *task ? std::string("-") + task : "") + ".count";
    long count = 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        count = strtol(read_fd_all(fd).c_str(), nullptr, 10);
        ::close(fd);
    }
    ++count;
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        std::string v = std::to_string(count) + "\n";
        write_all(fd, v.data(), v.size());
        ::close(fd);
    }
    return count <= n;
}

[[noreturn]] void run_max_turns() {
    long n = g_opt.max_turns > 0 ? g_opt.max_turns : 1;
    Msg m1;
    emit_text(m1, "I'll create the file.");
    std::string path = fresh_fake_file();
    std::string content = "hello from fake claude\n";
    std::string tid = "toolu_mock_" + hex(20);
    emit_tool_use(m1, tid, "Write",
                  "{\"file_path\":" + q(path) + ",\"content\":" + q(content) + "}");
    maybe_write(path, content);
    emit_tool_result(tid, write_result_text(path), false, write_tool_use_result(path, content));
    Result r;
    r.subtype = "error_max_turns";
    r.is_error = true;
    r.has_result = false;
    r.num_turns = n + 1;
    r.stop_reason = "\"tool_use\"";
    r.in = 3204;
    r.out = 31;
    r.cost = 0.016795;
    r.terminal_reason = "max_turns";
    r.errors = "[" + q("Reached maximum number of turns (" + std::to_string(n) + ")") + "]";
    r.text_out = "Error: Reached max turns (" + std::to_string(n) + ")";
    finish(r);
}

[[noreturn]] void run_slow(double secs) {
    Msg m;
    int ticks = static_cast<int>(secs / 0.5);
    for (int i = 1; i <= ticks; i++) {
        sleep_seconds(0.5);
        emit_text(m, "working... " + std::to_string(i));
    }
    sleep_seconds(secs - ticks * 0.5);
    run_success("done");
}

[[noreturn]] void run_flood(double mb) {
    unsigned long long total = static_cast<unsigned long long>(mb * 1048576.0);
    // Filler with escapes and multi-byte UTF-8, so a parser gets real work.
    std::string filler;
    while (filler.size() < 8000)
        filler += "flood \"quoted\" back\\slash tab\t newline\n caf\xC3\xA9 \xE2\x80\x94 ";
    Msg m;
    std::string buf;
    buf.reserve(1 << 20);
    unsigned long long sent = 0;
    long i = 0;
    while (sent < total) {
        std::string line = assistant_line(m, "{\"type\":\"text\",\"text\":" +
                                                 q("line " + std::to_string(++i) + " " + filler) +
                                                 "}");
        line.push_back('\n');
        sent += line.size();
        buf += line;
        if (buf.size() >= (1u << 20) - 16384) {
            if (stream()) write_all(1, buf.data(), buf.size());
            buf.clear();
        }
    }
    if (stream() && !buf.empty()) write_all(1, buf.data(), buf.size());
    run_success("done");
}

[[noreturn]] void run_garbage() {
    std::string g;
    g += "garbage: this is not JSON at all\n";
    g += "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"te\n";
    g += "invalid utf-8: \xFF\xFE\xFD \xC3\x28 \xE2\x82 \xF0\x9F\x98 \xED\xA0\x80 \xC0\xAF end\n";
    g += "}}}]]]{{{[[[\n";
    g += std::string("nul byte here:\0:after nul\n", 26);
    g += "\x1B[31mANSI red text\x1B[0m and a bell \x07\n";
    write_all(1, g.data(), g.size());
    // One 2 MB line with no newline inside it (some invalid bytes sprinkled in).
    std::string big(2u << 20, 'G');
    for (size_t i = 4096; i < big.size(); i += 65536) big[i] = '\xFF';
    big.push_back('\n');
    write_all(1, big.data(), big.size());
    std::string tail = "not json after the long line\ntrailing partial line without newline";
    write_all(1, tail.data(), tail.size());
    _exit(0);
}

// A child in its own session that ignores SIGTERM and SIGHUP, has its stdio on
// /dev/null, sleeps `secs` and then creates `survivor`. Returns its pid.
pid_t spawn_survivor(double secs, const std::string& survivor) {
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_DFL);
        int nul = ::open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 2) ::close(nul);
        }
        sleep_seconds(secs);
        int fd = ::open(survivor.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            const char msg[] = "survived\n";
            ssize_t r = ::write(fd, msg, sizeof msg - 1);
            (void)r;
            ::close(fd);
        }
        _exit(0);
    }
    return pid;
}

[[noreturn]] void run_tree(double secs) {
    spawn_survivor(secs, g_cwd + "/tree-survivor.txt");
    signal(SIGTERM, SIG_IGN);
    emit_init();
    Msg m;
    emit_text(m, "I'll run a background command.");
    char num[64];
    snprintf(num, sizeof num, "%g", secs);
    emit_tool_use(m, "toolu_mock_" + hex(20), "Bash",
                  "{\"command\":" + q(std::string("sleep ") + num + " && touch tree-survivor.txt") +
                      ",\"description\":\"run\"}");
    sleep_forever();
}

// ---------------------------------------------------------------- command line

bool takes_value(const std::string& f) {
    static const char* v[] = {
        "--output-format", "--model", "--max-turns", "--allowedTools", "--allowed-tools",
        "--disallowedTools", "--disallowed-tools", "--permission-mode", "--append-system-prompt",
        "--resume", "-r", "--session-id", "--add-dir", "--agent", "--agents", "--betas",
        "--effort", "--fallback-model", "--file", "--input-format", "--json-schema",
        "--max-budget-usd", "--mcp-config", "-n", "--name", "--plugin-dir", "--plugin-url",
        "--remote-control-session-name-prefix", "--setting-sources", "--settings",
        "--system-prompt", "--system-prompt-file", "--append-system-prompt-file", "--tools",
        "--debug-file", "--permission-prompt-tool", "--permission-prompts", "--autocompact",
        "--environment"};
    for (const char* s : v)
        if (f == s) return true;
    return false;
}

void parse_args(int argc, char** argv) {
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (only_pos || a.empty() || a[0] != '-' || a == "-") {
            g_opt.positional = a;  // the last positional argument is the prompt
            g_opt.has_positional = true;
            continue;
        }
        if (a == "--") {
            only_pos = true;
            continue;
        }
        std::string flag = a, val;
        bool has_val = false;
        size_t eq = a.find('=');
        if (a.compare(0, 2, "--") == 0 && eq != std::string::npos) {
            flag = a.substr(0, eq);
            val = a.substr(eq + 1);
            has_val = true;
        }
        if (flag == "--version" || flag == "-v") {
            out_line("2.1.197 (Claude Code)");
            _exit(0);
        }
        if (!has_val && takes_value(flag)) {
            if (flag == "-r" || flag == "--resume") {  // optional value in the real CLI
                if (i + 1 < argc && argv[i + 1][0] != '-') {
                    val = argv[++i];
                    has_val = true;
                }
            } else if (i + 1 < argc) {
                val = argv[++i];
                has_val = true;
            }
        }
        if (flag == "-p" || flag == "--print") {
        } else if (flag == "--verbose") {
            g_opt.verbose = true;
        } else if (flag == "--output-format") {
            if (val == "json") g_opt.fmt = Fmt::Json;
            else if (val == "stream-json") g_opt.fmt = Fmt::Stream;
            else if (val == "text") g_opt.fmt = Fmt::Text;
            else {
                err_line("error: option '--output-format <format>' argument '" + val +
                         "' is invalid. Allowed choices are text, json, stream-json.");
                _exit(1);
            }
        } else if (flag == "--model") {
            g_opt.model = val;
        } else if (flag == "--max-turns") {
            g_opt.max_turns = strtol(val.c_str(), nullptr, 10);
        } else if (flag == "--allowedTools" || flag == "--allowed-tools") {
            g_opt.allowed.push_back(val);
        } else if (flag == "--disallowedTools" || flag == "--disallowed-tools") {
            g_opt.disallowed.push_back(val);
        } else if (flag == "--permission-mode") {
            g_opt.permission_mode = val;
        } else if (flag == "--dangerously-skip-permissions") {
            g_opt.skip_permissions = true;
        } else if (flag == "--append-system-prompt") {
            g_opt.append_system_prompt = val;
        } else if (flag == "--resume" || flag == "-r") {
            g_opt.has_resume = true;
            g_opt.resume = val;
        } else if (flag == "--session-id") {
            g_opt.session_id_flag = val;
        }
        // anything else: ignored (value already skipped if it is a known value flag)
    }
}

// Find `[NAME:...]` in the prompt; returns the text between the colon and `]`.
bool find_marker(const std::string& s, const char* name, std::string& out) {
    std::string open = std::string("[") + name + ":";
    size_t p = s.find(open);
    if (p == std::string::npos) return false;
    size_t b = p + open.size();
    size_t e = s.find(']', b);
    if (e == std::string::npos) return false;
    out = s.substr(b, e - b);
    return true;
}

// `await:LINE`: wait until the ledger holds LINE (another run's "start KEY"),
// polling, for at most 120 s: a run that proves it overlaps another
bool await_ledger_line(const std::string& want) {
    if (!g_ledger) return false;
    for (int i = 0; i < 12000; ++i) {
        int fd = ::open(g_ledger, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            std::string data = read_fd_all(fd);
            ::close(fd);
            size_t p = 0;
            while (p < data.size()) {
                size_t e = data.find('\n', p);
                if (e == std::string::npos) e = data.size();
                if (data.compare(p, e - p, want) == 0) return true;
                p = e + 1;
            }
        }
        sleep_seconds(0.01);
    }
    return false;
}

std::string make_ledger_key() {
    std::string k;
    if (find_marker(g_prompt, "key", k)) return k;
    // First 40 characters (UTF-8 code points) of the prompt, on one line.
    std::string o;
    int chars = 0;
    for (char ch : g_prompt) {
        unsigned char c = static_cast<unsigned char>(ch);
        if ((c & 0xC0) != 0x80) {  // a new character starts here
            if (chars == 40) break;
            chars++;
        }
        o.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : ch);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    clock_gettime(CLOCK_MONOTONIC, &g_t0);
    signal(SIGPIPE, SIG_IGN);
    // Like the real CLI: SIGTERM → exit 143 at once, SIGINT → exit 0, nothing printed.
    signal(SIGTERM, [](int) { _exit(143); });
    signal(SIGINT, [](int) { _exit(0); });

    // `claude --version` alone is a probe (doctor, status), not a run: not logged
    bool probe = argc == 2 && (std::string(argv[1]) == "--version" || std::string(argv[1]) == "-v");
    if (const char* al = getenv("FAKE_CLAUDE_ARGS_LOG"); al && !probe) {
        std::string line;
        for (int i = 0; i < argc; i++) {
            if (i) line.push_back('\x1f');
            line += argv[i];
        }
        append_line(al, line);
    }

    parse_args(argc, argv);
    if (g_opt.fmt == Fmt::Stream && !g_opt.verbose) {
        err_line("Error: When using --print, --output-format=stream-json requires --verbose");
        return 1;
    }

    if (!isatty(0)) g_stdin = read_fd_all(0);
    g_prompt = g_stdin;
    if (g_opt.has_positional) {
        if (!g_prompt.empty() && g_prompt.back() != '\n') g_prompt.push_back('\n');
        g_prompt += g_opt.positional;
    }

    g_ledger = getenv("FAKE_CLAUDE_LEDGER");
    if (g_ledger && !*g_ledger) g_ledger = nullptr;
    if (g_ledger) g_ledger_key = make_ledger_key();

    // Mode: prompt marker, else FAKE_CLAUDE_REPLAY, else FAKE_CLAUDE_MODE, else success.
    std::string spec;
    if (!find_marker(g_prompt, "fake", spec)) {
        const char* rp = getenv("FAKE_CLAUDE_REPLAY");
        const char* em = getenv("FAKE_CLAUDE_MODE");
        if (rp && *rp) spec = std::string("replay:") + rp;
        else if (em && *em) spec = em;
        else spec = "success";
    }
    std::string mode = spec, arg;
    size_t colon = spec.find(':');
    if (colon != std::string::npos) {
        mode = spec.substr(0, colon);
        arg = spec.substr(colon + 1);
    }

    ledger("start");

    if (mode == "replay") {  // one read, one write
        int fd = ::open(arg.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err_line("fake_claude: cannot open replay file " + arg + ": " + strerror(errno));
            return 2;
        }
        struct stat st;
        std::string data;
        if (fstat(fd, &st) == 0 && st.st_size > 0) {
            data.resize(static_cast<size_t>(st.st_size));
            size_t got = 0;
            while (got < data.size()) {
                ssize_t r = ::read(fd, &data[got], data.size() - got);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break;
                got += static_cast<size_t>(r);
            }
            data.resize(got);
        } else {
            data = read_fd_all(fd);
        }
        ::close(fd);
        if (g_ledger && data.find("\"type\":\"result\"") != std::string::npos) ledger("end");
        write_all(1, data.data(), data.size());
        return 0;
    }

    char* cwd = getcwd(nullptr, 0);
    g_cwd = cwd ? cwd : ".";
    free(cwd);
    seed_rng();
    g_model = g_opt.model.empty() ? "claude-opus-4-8[1m]" : g_opt.model;
    g_msg_model = g_model;
    if (g_msg_model.size() > 4 && g_msg_model.compare(g_msg_model.size() - 4, 4, "[1m]") == 0)
        g_msg_model.resize(g_msg_model.size() - 4);
    if (g_opt.has_resume && !g_opt.resume.empty()) g_session = g_opt.resume;
    else if (!g_opt.session_id_flag.empty()) g_session = g_opt.session_id_flag;
    else g_session = uuid4();

    double num = strtod(arg.c_str(), nullptr);

    if (mode == "empty") return 0;
    if (mode == "garbage") run_garbage();
    if (mode == "sleep_then_ok") {
        sleep_seconds(num);
        emit_init();
        run_success("done");
    }
    if (mode == "tree") run_tree(num);
    if (mode == "detach") {
        pid_t child = spawn_survivor(num, g_cwd + "/detached-survivor.txt");
        append_line((g_cwd + "/detached.pid").c_str(), std::to_string(child));
        mode = "success";
    }
    if (mode == "linger") {
        g_linger = true;
        mode = "success";
    }

    if (mode == "success" || mode == "question" || mode == "denied" || mode == "tool" ||
        mode == "fail" || mode == "error_max_turns" || mode == "slow" || mode == "flood" ||
        mode == "hang" || mode == "exit" || mode == "await" || mode == "api_error" || mode == "limit" ||
        mode == "limit_text" || mode == "flaky" || mode == "rate_warning" || mode == "stall_once") {
        emit_init();
    } else {
        err_line("fake_claude: unknown mode '" + mode + "' (from \"" + spec + "\")");
        return 2;
    }

    if (mode == "success") run_success("done");
    if (mode == "await") {
        if (!await_ledger_line(arg)) {
            err_line("fake_claude: no line '" + arg + "' in FAKE_CLAUDE_LEDGER within 120 s");
            _exit(3);
        }
        run_success("done");
    }
    if (mode == "question")
        run_success("QUESTION: Which pagination pattern should I follow, A (weddings) or B "
                    "(PAGINATION.md)?");
    if (mode == "denied") run_denied();
    if (mode == "tool") {
        size_t c = arg.find(':');
        std::string name = arg.substr(0, c);
        std::string targ = c == std::string::npos ? "" : arg.substr(c + 1);
        run_tool(name, targ);
    }
    if (mode == "fail") run_fail();
    if (mode == "api_error") run_api_error(strtol(arg.c_str(), nullptr, 10));
    if (mode == "limit") run_limit(num);
    if (mode == "limit_text") run_limit_text(num);
    if (mode == "flaky") {
        if (first_runs("flaky", static_cast<long>(num))) run_api_error(529);
        run_success("done");
    }
    if (mode == "stall_once") {
        if (first_runs("stall", static_cast<long>(num))) sleep_forever();
        run_success("done");
    }
    if (mode == "rate_warning") {
        if (stream()) out_line(rate_limit_event("allowed_warning", static_cast<long>(time(nullptr)) + 3600,
                                                ",\"utilization\":0.9"));
        run_success("done");
    }
    if (mode == "error_max_turns") run_max_turns();
    if (mode == "slow") run_slow(num);
    if (mode == "flood") run_flood(num);
    if (mode == "hang") sleep_forever();
    if (mode == "exit") {
        int code = static_cast<int>(strtol(arg.c_str(), nullptr, 10));
        err_line("fake_claude: exiting with code " + std::to_string(code) + " as asked");
        _exit(code);
    }
    return 0;
}
