// orch-host status [--json] [SESSION] | sessions [--json] | tail-events | logs
#include "cli/runtime.h"

#include "services/journal.h"
#include "services/store.h"

#include <cstdio>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

namespace {

// A field for the terminal table: control bytes (an agent's or a task
// file's ESC, NUL, newline) shown as \xNN, as lib/format's printable() does
// in messages, so a value can neither break the table nor drive the terminal.
std::string str(const json& o, const char* k, const std::string& d = "") {
    auto it = o.find(k);
    if (it == o.end() || it->is_null()) return d;
    std::string v = it->is_string() ? it->get<std::string>() : it->dump();
    std::string out;
    out.reserve(v.size());
    for (unsigned char c : v) {
        if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
            continue;
        }
        char esc[8];
        snprintf(esc, sizeof esc, "\\x%02x", c);
        out += esc;
    }
    return out;
}

double num(const json& o, const char* k) {
    auto it = o.find(k);
    return it != o.end() && it->is_number() ? it->get<double>() : 0;
}

std::string duration(double s) {
    if (s <= 0) return "";
    long t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600) snprintf(buf, sizeof buf, "%ldh %02ldm", t / 3600, (t % 3600) / 60);
    else snprintf(buf, sizeof buf, "%ldm %02lds", t / 60, t % 60);
    return buf;
}

std::string clock_time(double epoch) {
    if (epoch <= 0) return "-";
    return iso_time(epoch).substr(0, 19).replace(10, 1, " ");
}

const char* mark(const std::string& status) {
    if (status == "completed") return "✓";
    if (status == "failed") return "✗";
    if (status == "running") return "▶";
    if (status == "skipped") return "↷";
    if (status == "waiting_approval" || status == "paused") return "⏸";
    return "·";
}

// Pad to `w` columns counting UTF-8 code points, cutting with an ellipsis.
std::string pad(std::string s, size_t w) {
    size_t cols = 0, cut = s.size();
    for (size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (cols == w - 1 && cut == s.size()) cut = i;
            ++cols;
        }
    if (cols > w) {
        s = s.substr(0, cut) + "…";
        cols = w;
    }
    return s + std::string(w - cols, ' ');
}

json session_view(App& app, const std::string& sid, bool& found) {
    auto s = app.store->load_session(sid);
    found = s.has_value();
    if (!found) return nullptr;
    json out = *s;
    RunLock probe(lock_path(app));
    bool live = probe.held_by_other();
    out["host_alive"] = live;
    if (auto p = app.store->pending_approval(sid))
        if (live || waits_while_down(*p)) out["pending_approval"] = *p;
    double cost = 0;
    long long tokens = 0, done = 0;
    for (auto& t : out["tasks"]) {
        cost += num(t, "cost_usd");
        tokens += static_cast<long long>(num(t, "tokens"));
        if (str(t, "status") == "completed") ++done;
    }
    out["total_tasks"] = out["tasks"].size();
    out["completed_tasks"] = done;
    out["cost_usd"] = cost;
    out["tokens"] = tokens;
    return out;
}

void print_session(const json& s) {
    std::string status = str(s, "status");
    bool live = s.value("host_alive", false);
    bool active = status == "running" || status == "waiting_approval";
    if (active && !live) status += " (host not running: resume it)";
    printf("Session   %s  %s\n", str(s, "id").c_str(), status.c_str());
    printf("Task file %s\n", str(s, "task_file", "-").c_str());
    // runtime: to the finish; a session a live host runs grows until now, one
    // whose host is gone (or that is paused) stopped at its last update
    double started = num(s, "started_at"), end = num(s, "finished_at");
    if (end <= 0) end = active && live ? wall_now() : num(s, "updated_at");
    printf("Started   %s   runtime %s\n", clock_time(started).c_str(), duration(end - started).c_str());
    printf("Progress  %lld/%zu completed   cost $%.4f   %lld tokens\n\n", s.value("completed_tasks", 0LL),
           s["tasks"].size(), num(s, "cost_usd"), s.value("tokens", 0LL));
    printf("  %-4s %s %s %s %8s %9s %9s\n", "#", pad("status", 18).c_str(), pad("task", 36).c_str(),
           pad("type", 13).c_str(), "time", "cost", "tokens");
    for (auto& t : s["tasks"]) {
        std::string st = str(t, "status");
        double t0 = num(t, "started_at"), t1 = num(t, "completed_at");
        std::string cost = num(t, "cost_usd") > 0 ? "$" + std::to_string(num(t, "cost_usd")).substr(0, 6) : "";
        std::string tok = num(t, "tokens") > 0 ? std::to_string(static_cast<long long>(num(t, "tokens"))) : "";
        printf("  %-4s %s %s %s %8s %9s %9s\n", str(t, "id").c_str(), pad(std::string(mark(st)) + " " + st, 18).c_str(),
               pad(str(t, "title"), 36).c_str(), pad(str(t, "type"), 13).c_str(),
               t1 > t0 && t0 > 0 ? duration(t1 - t0).c_str() : "", cost.c_str(), tok.c_str());
        std::string err = str(t, "error");
        if (!err.empty() && (st == "failed" || st == "paused")) printf("       ↳ %s\n", err.substr(0, 160).c_str());
    }
    if (s.contains("pending_approval")) {
        auto& p = s["pending_approval"];
        if (live)
            printf("\nWaiting   %s for task %s since %s: orch-host approve | skip | pause%s\n",
                   str(p, "kind", "approval").c_str(), str(p, "task_id").c_str(),
                   clock_time(num(p, "created_at")).c_str(), str(p, "kind") == "question" ? " | answer TEXT" : "");
        else
            printf("\nWaiting   %s for task %s since %s: orch-host approve | skip (applied when it resumes)\n",
                   str(p, "kind", "approval").c_str(), str(p, "task_id").c_str(),
                   clock_time(num(p, "created_at")).c_str());
    }
}

// Notifications a sink refused for good (outbox dead rows): how many, and the
// newest few with their reason. Nothing when there are none.
void print_dead_notifications(const json& dead, long long count) {
    if (count == 0) return;
    printf("\nNotifications  %lld dead (a sink refused them; not retried):\n", count);
    for (auto& d : dead)
        printf("  #%s to %s  %s  %s  %s\n", str(d, "id").c_str(), str(d, "sink").c_str(), str(d, "type", "-").c_str(),
               clock_time(num(d, "dead_at")).c_str(), str(d, "last_error").substr(0, 160).c_str());
}

}  // namespace

int cmd_status(const Args& a) {
    auto rt = read_only_runtime(a);
    App& app = rt->app;
    if (!app.store) {
        if (a.has("json")) printf("{\"session\":null,\"tasks\":[]}\n");
        else printf("No sessions yet. Start one with: orch-host run daily.lua\n");
        return k_exit_ok;
    }
    std::string sid = a.positional.empty() ? app.store->latest_session_id().value_or("") : a.positional[0];
    bool as_json = a.has("json");
    if (sid.empty()) {
        if (as_json) printf("{\"session\":null,\"tasks\":[]}\n");
        else printf("No sessions yet. Start one with: orch-host run daily.lua\n");
        if (!as_json) print_dead_notifications(app.store->outbox_dead(5), app.store->outbox_dead_count());
        return k_exit_ok;
    }
    bool found;
    json s = session_view(app, sid, found);
    if (!found) {
        fprintf(stderr, "orch-host status: no session %s\n", sid.c_str());
        return k_exit_bad_input;
    }
    if (as_json) {
        // one object: the session's fields and its tasks, as the state file of the task file's day (session fields, then tasks)
        s["session_id"] = s["id"];
        if (long long n = app.store->outbox_dead_count())
            s["dead_notifications"] = {{"count", n}, {"newest", app.store->outbox_dead(5)}};
        printf("%s\n", s.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    } else {
        print_session(s);
        print_dead_notifications(app.store->outbox_dead(5), app.store->outbox_dead_count());
    }
    return k_exit_ok;
}

int cmd_sessions(const Args& a) {
    auto rt = read_only_runtime(a);
    json list = rt->app.store ? rt->app.store->list_sessions(std::stoi(a.get("limit", "20"))) : json::array();
    if (a.has("json")) {
        printf("%s\n", list.dump(2).c_str());
        return k_exit_ok;
    }
    for (auto& s : list)
        printf("%-22s %-18s %s/%s  %s  %s\n", str(s, "id").c_str(), str(s, "status").c_str(),
               str(s, "completed_tasks", "0").c_str(), str(s, "total_tasks", "0").c_str(),
               clock_time(num(s, "started_at")).c_str(), str(s, "task_file").c_str());
    return k_exit_ok;
}

namespace {

void tail_file(const std::string& path, size_t lines, const std::string& filter_task, bool follow) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error(path + ": no such file (nothing logged yet)");
    std::deque<std::string> last;
    std::string line;
    auto keep = [&](const std::string& l) {
        if (filter_task.empty()) return true;
        json j = json::parse(l, nullptr, false);
        return !j.is_discarded() && j.is_object() && str(j, "task") == filter_task;
    };
    while (std::getline(f, line)) {
        if (!keep(line)) continue;
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    for (auto& l : last) printf("%s\n", l.c_str());
    fflush(stdout);
    if (!follow) return;
    f.clear();
    for (;;) {
        while (std::getline(f, line)) {
            if (f.eof()) break;  // partial line: wait for the rest
            if (keep(line)) printf("%s\n", line.c_str());
        }
        fflush(stdout);
        f.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
}

}  // namespace

int cmd_tail_events(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config.value("paths", json::object()).value("logs_dir", std::string("logs")));
    tail_file(logs + "/events.ndjson", std::stoul(a.get("lines", "20")), a.get("task"), a.has("follow"));
    return k_exit_ok;
}

int cmd_logs(const Args& a) {
    auto rt = make_runtime(a, Services::None);
    std::string logs = rt->app.path_from_root(
        rt->app.config.value("paths", json::object()).value("logs_dir", std::string("logs")));
    Journal probe(logs, nullptr, false);
    tail_file(probe.daily_log_path(), std::stoul(a.get("lines", "30")), "", a.has("follow"));
    return k_exit_ok;
}

}  // namespace orch
