#include "services/claude.h"
#include "services/json_depth.h"

#include "loop/loop.h"
#include "services/process_run.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string_view>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <utility>

namespace orch {

using json = nlohmann::json;

std::vector<std::string> claude_argv(const ClaudeOptions& o) {
    std::vector<std::string> a{o.binary, "-p", "--output-format", "stream-json", "--verbose"};
    auto opt = [&](const char* flag, const std::string& v) {
        if (!v.empty()) { a.push_back(flag); a.push_back(v); }
    };
    opt("--model", o.model);
    if (o.max_turns > 0) opt("--max-turns", std::to_string(o.max_turns));
    opt("--permission-mode", o.permission_mode);
    opt("--allowedTools", o.allowed_tools);
    opt("--disallowedTools", o.disallowed_tools);
    opt("--append-system-prompt", o.append_system_prompt);
    opt("--resume", o.resume);
    a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
    return a;
}

namespace {

std::string short_number(double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

struct ClaudeRun::State {
    ClaudeOptions opts;
    EventFn on_event;
    DoneFn on_done;
    std::shared_ptr<ProcessRun> proc;
    int log_fd = -1;
    long long logged = 0;
    std::string log_error;
    bool log_truncated = false;
    json result;          // the last {"type":"result"} line
    std::string session_id;
    long long garbage = 0;
    std::string violation;
    // usage per assistant message id (its last line's: the count grows over a
    // message's lines), for runs that end without a result line; the model
    // the last one named, which prices them (lib/policy estimate_cost)
    std::map<std::string, std::array<double, 4>> stream_usage;
    std::string stream_model;
    // stall watch (opts.stall_timeout > 0): when the last line came, what it was
    Loop* loop = nullptr;
    double last_line_at = 0;
    TimerId stall_timer = 0;
    bool stalled = false;
    json last_event = json::object();  // {type=, subtype=, tool=} of the last stream line

    // The timer fires when the agent may have been quiet for stall_timeout; a
    // line since then re-arms it for the rest, so a line costs no timer work.
    void arm_stall(const std::shared_ptr<State>& self, double in) {
        std::weak_ptr<State> weak = self;
        stall_timer = loop->add_timer(in, [weak] {
            auto s = weak.lock();
            if (!s) return;
            s->stall_timer = 0;
            if (!s->proc || s->result.is_object()) return;  // done, or ending after its result
            double quiet = Loop::now() - s->last_line_at;
            if (quiet + 1e-3 < s->opts.stall_timeout) return s->arm_stall(s, s->opts.stall_timeout - quiet);
            s->stalled = true;
            s->proc->cancel("stalled");
        });
    }

    // The type of a stream line, its subtype (system lines) and the tool an
    // assistant line calls, found without parsing the line.
    void note_line(const char* p, size_t n, std::string_view kind) {
        last_line_at = Loop::now();
        std::string_view line(p, n);
        auto field = [&](std::string_view key, size_t from) -> std::string {
            auto k = line.find(key, from);
            if (k == std::string_view::npos) return {};
            auto start = k + key.size(), end = line.find('"', start);
            return end == std::string_view::npos ? std::string() : std::string(line.substr(start, end - start));
        };
        last_event = json{{"type", std::string(kind)}};
        if (kind == "system") {
            std::string sub = field("\"subtype\":\"", 0);
            if (!sub.empty()) last_event["subtype"] = sub;
        } else if (kind == "assistant") {
            auto k = line.find("\"type\":\"tool_use\"");
            std::string tool = k == std::string_view::npos ? std::string() : field("\"name\":\"", k);
            if (!tool.empty()) last_event["tool"] = tool;
        }
    }

    void write_log(const char* p, size_t n) {
        if (log_fd < 0 || log_truncated) return;
        if (logged + static_cast<long long>(n) > opts.max_log_bytes) {
            if (!log_truncated) {
                const char msg[] = "\n[orch-host: output log truncated at the configured limit]\n";
                [[maybe_unused]] auto w = ::write(log_fd, msg, sizeof msg - 1);
                log_truncated = true;
            }
            return;
        }
        while (n > 0) {
            ssize_t w = ::write(log_fd, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                log_error = opts.log_path + ": " + std::strerror(errno);
                ::close(log_fd);
                log_fd = -1;
                return;
            }
            p += w;
            n -= static_cast<size_t>(w);
            logged += w;
        }
    }

    // The "type" of a stream line without parsing it (the CLI writes it first).
    static std::string_view peek_type(const char* p, size_t n) {
        std::string_view line(p, n < 64 ? n : 64);
        auto k = line.find("\"type\":\"");
        if (k == std::string_view::npos) return {};
        auto start = k + 8, end = line.find('"', start);
        return end == std::string_view::npos ? std::string_view{} : line.substr(start, end - start);
    }

    bool wants(std::string_view type) const {
        for (const auto& t : opts.event_types)
            if (t == type) return true;
        return false;
    }

    bool wanted(std::string_view type) const {
        if (type.empty() || type == "result" || type == "system" || opts.event_types.empty()) return true;
        for (const auto& t : opts.event_types)
            if (t == type) return true;
        return false;
    }

    void on_line(const char* p, size_t n) {
        std::string_view kind = peek_type(p, n);
        if (opts.stall_timeout > 0) note_line(p, n, kind);
        if (kind == "system" && !(opts.event_types.empty() || wants("system"))) {
            // the init line is large (tools, commands); only its session_id matters here
            std::string_view line(p, n);
            auto k = line.find("\"session_id\":\"");
            if (k != std::string_view::npos) {
                auto start = k + 14, end = line.find('"', start);
                if (end != std::string_view::npos) session_id.assign(line.substr(start, end - start));
            }
            return;
        }
        if (!wanted(kind)) return;  // e.g. tool results (file contents) nobody reads
        if (json_too_deep(std::string_view(p, n))) { ++garbage; return; }
        json ev = json::parse(p, p + n, nullptr, false);
        if (ev.is_discarded() || !ev.is_object()) { ++garbage; return; }
        const auto type = ev.value("type", "");
        if (type == "result") {
            // The result line ends the run: the CLI exits right after it. One
            // that does not gets the grace, then its tree is stopped, and the
            // result still counts.
            result = ev;
            proc->end_after(opts.kill_grace);
        }
        if (type == "assistant") {
            auto m = ev.find("message");
            if (m != ev.end() && m->is_object() && m->contains("usage") && (*m)["usage"].is_object()) {
                auto& u = stream_usage[m->value("id", std::string())];
                for (size_t i = 0; i < u.size(); ++i)
                    u[i] = checked((*m)["usage"], k_token_fields[i], k_max_tokens, "an assistant message");
            }
            if (m != ev.end() && m->is_object() && m->contains("model") && (*m)["model"].is_string())
                stream_model = (*m)["model"].get<std::string>();
        }
        if (type == "system" && ev.contains("session_id") && ev["session_id"].is_string())
            session_id = ev["session_id"].get<std::string>();
        // on_event sees only the types asked for: the result and system lines
        // are parsed for the run's own figures, not handed on
        if (on_event && violation.empty() && (opts.event_types.empty() || wants(type))) {
            std::string v = on_event(ev);
            if (!v.empty()) {
                violation = v;
                proc->cancel("violation");
            }
        }
    }

    std::vector<std::string> warnings;  // refused numbers, processes stopped: logged by orch.run_claude

    void warn(const std::string& w) {
        for (const auto& x : warnings)
            if (x == w) return;
        warnings.push_back(w);
    }

    // A number from the CLI's output, or 0 when it is missing. One that is not a
    // finite value in 0..max (1e308 dollars, 9.2e18 tokens) is refused: 0, and a
    // warning naming the field, so one broken line cannot blow up the totals.
    double checked(const json& j, const char* key, double max, const char* where) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number()) return 0;
        double v = it->get<double>();
        if (std::isfinite(v) && v >= 0 && v <= max) return v;
        warn(std::string("claude's ") + where + ": " + key + " = " + it->dump() + " refused (expected 0.." +
             short_number(max) + "); counted as 0");
        return 0;
    }

    long long token_sum(const json& usage, const char* where) {
        double n = 0;
        for (const char* k : k_token_fields) n += checked(usage, k, k_max_tokens, where);
        return static_cast<long long>(n);
    }

    static constexpr const char* k_token_fields[] = {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                                     "cache_read_input_tokens"};
    static constexpr double k_max_tokens = 1e12;  // per field and run; a real run is far below
    static constexpr double k_max_cost = 1e4;     // USD per run

    void finish(const RunOutcome& o);
};

void ClaudeRun::State::finish(const RunOutcome& o) {
    if (stall_timer) loop->cancel_timer(std::exchange(stall_timer, 0));
    if (log_fd >= 0) ::close(log_fd);
    log_fd = -1;
    json r = json::object();
    r["exit_code"] = o.signal ? json(nullptr) : json(o.exit_code);
    if (o.signal) r["signal"] = o.signal;
    r["timed_out"] = o.timed_out;
    r["cancelled"] = o.cancelled && violation.empty() && !stalled;
    if (stalled) {
        r["stalled"] = true;
        r["last_event"] = last_event;
    }
    if (o.cancelled) r["cancel_reason"] = o.cancel_reason;
    r["duration_s"] = o.seconds;
    r["lines"] = o.lines;
    r["garbage_lines"] = garbage + o.oversized_lines;
    r["stdout_bytes"] = o.stdout_bytes;
    if (!o.stderr_tail.empty()) r["stderr"] = o.stderr_tail;
    if (!opts.log_path.empty()) r["log_path"] = opts.log_path;
    if (!log_error.empty()) r["log_error"] = log_error;
    if (log_truncated) r["log_truncated"] = true;
    r["session_id"] = session_id;
    bool have_result = result.is_object();
    r["have_result"] = have_result;
    json denials = json::array();
    if (have_result) {
        for (const char* k : {"subtype", "result", "is_error", "stop_reason", "api_error_status", "terminal_reason",
                              "errors"})
            if (result.contains(k)) r[k] = result[k];
        for (auto [k, max] : {std::pair{"num_turns", 1e6}, std::pair{"duration_ms", 1e10}})
            if (result.contains(k)) r[k] = static_cast<long long>(checked(result, k, max, "result"));
        if (result.contains("session_id")) r["session_id"] = result["session_id"];
        r["cost_usd"] = checked(result, "total_cost_usd", k_max_cost, "result");
        json usage = result.value("usage", json::object());
        if (!usage.is_object()) usage = json::object();
        for (auto& [k, v] : usage.items()) {
            if (!v.is_number()) continue;
            double c = checked(usage, k.c_str(), k_max_tokens, "result usage");
            v = v.is_number_float() ? json(c) : json(static_cast<long long>(c));
        }
        r["usage"] = usage;
        r["tokens"] = token_sum(usage, "result usage");
        if (result.contains("permission_denials") && result["permission_denials"].is_array())
            denials = result["permission_denials"];
    } else {
        // No result line (stopped, crashed): the tokens the stream showed, by
        // kind (usage) and the model, which Lua prices; the CLI reports cost
        // only in its result, so it is 0 here.
        std::array<double, 4> sum{};
        for (auto& [id, u] : stream_usage)
            for (size_t i = 0; i < sum.size(); ++i) sum[i] += u[i];
        json usage = json::object();
        double n = 0;
        for (size_t i = 0; i < sum.size(); ++i) {
            usage[k_token_fields[i]] = static_cast<long long>(sum[i]);
            n += sum[i];
        }
        r["cost_usd"] = 0.0;
        r["tokens"] = static_cast<long long>(n);
        if (n > 0) {
            r["tokens_from_stream"] = true;
            r["usage"] = usage;
        }
        if (!stream_model.empty()) r["model"] = stream_model;
    }
    r["permission_denials"] = denials;
    bool is_error = have_result && result.value("is_error", false);
    // Why the run is not a success, most specific first.
    std::string err;
    if (!violation.empty()) err = "policy violation: " + violation;
    else if (o.timed_out) err = "timed out after " + std::to_string(static_cast<long>(opts.timeout)) + " s";
    else if (stalled) err = "stalled: no output for " + short_number(opts.stall_timeout) + " s";
    else if (o.cancelled) err = "stopped: " + o.cancel_reason;
    else if (o.signal && !o.ended) err = std::string("claude killed by signal ") + strsignal(o.signal);
    else if (is_error) {
        err = result.contains("result") && result["result"].is_string() ? result["result"].get<std::string>()
                                                                        : result.value("subtype", "error");
        if (result.contains("errors") && result["errors"].is_array() && !result["errors"].empty())
            err = result["errors"][0].is_string() ? result["errors"][0].get<std::string>() : err;
    } else if (o.exit_code != 0 && !o.ended) {
        std::string tail = o.stderr_tail.substr(o.stderr_tail.size() > 300 ? o.stderr_tail.size() - 300 : 0);
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
        err = "claude exited with code " + std::to_string(o.exit_code) + (tail.empty() ? "" : ": " + tail);
    } else if (!have_result) {
        err = o.stdout_bytes == 0 ? "claude printed nothing"
                                  : "claude's output had no result line (" + std::to_string(garbage) +
                                        " unparseable lines)";
    } else if (!denials.empty()) {
        err = "permission denied: " + denials[0].value("tool_name", std::string("tool"));
    }
    if (!violation.empty()) r["violation"] = violation;
    if (o.ended) {
        r["stopped_after_result"] = true;
        warn("claude did not exit within " + short_number(opts.kill_grace) + " s of its result line; stopped it");
    }
    if (o.leftovers > 0) {
        r["leftovers_stopped"] = o.leftovers;
        warn("claude exited leaving " + std::to_string(o.leftovers) + " process(es) running; stopped them");
    }
    if (!warnings.empty()) r["warnings"] = warnings;
    r["ok"] = err.empty();
    if (!err.empty()) r["error"] = err;
    auto cb = std::move(on_done);
    proc.reset();
    if (cb) cb(std::move(r));
}

std::shared_ptr<ClaudeRun> ClaudeRun::start(Loop& loop, Reaper& reaper, ClaudeOptions opts,
                                            EventFn on_event, DoneFn on_done) {
    auto st = std::make_shared<State>();
    st->opts = std::move(opts);
    st->on_event = std::move(on_event);
    st->on_done = std::move(on_done);
    if (!st->opts.log_path.empty()) {
        st->log_fd = ::open(st->opts.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (st->log_fd < 0) st->log_error = st->opts.log_path + ": " + std::strerror(errno);
    }
    SpawnSpec spec;
    spec.argv = claude_argv(st->opts);
    spec.env_extra = st->opts.env;
    spec.cwd = st->opts.cwd;
    spec.nice = st->opts.nice;
    RunLimits lim;
    lim.timeout = st->opts.timeout;
    lim.kill_grace = st->opts.kill_grace;
    State* s = st.get();
    try {
        st->proc = ProcessRun::start(
            loop, reaper, spec, st->opts.prompt, lim, st->opts.agent_tag,
            [s](const char* p, size_t n) { s->write_log(p, n); },
            [s](const char* p, size_t n) { s->on_line(p, n); },
            [st](const RunOutcome& o) { st->finish(o); });
    } catch (...) {
        if (st->log_fd >= 0) ::close(st->log_fd);
        throw;
    }
    st->loop = &loop;
    if (st->opts.stall_timeout > 0) {
        st->last_line_at = Loop::now();
        st->arm_stall(st, st->opts.stall_timeout);
    }
    auto run = std::shared_ptr<ClaudeRun>(new ClaudeRun());
    run->st_ = st;
    return run;
}

void ClaudeRun::cancel(const std::string& reason) {
    if (st_->proc) st_->proc->cancel(reason);
}

}  // namespace orch
