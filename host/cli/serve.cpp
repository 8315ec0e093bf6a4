// orch-host serve [--host H] [--port N]: the long-running process of the
// webhook and REST server (docs/webhook-api.md, docs/rest-api.md). One loop runs the HTTP server (routes in Lua), the
// Telegram poller, the schedules and every session they start; all of it is
// workflows/serve.lua (config server.workflow), which registers its routes at
// load time. Holds the run lock, so a cron `orch-host run` cannot start a
// second session beside it.
#include "cli/runtime.h"

#include "services/http_server.h"
#include "services/journal.h"
#include "services/outbox.h"
#include "services/store.h"

#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace orch {

using json = nlohmann::json;

int cmd_serve(const Args& a) {
    auto rt = make_runtime(a, Services::Full);
    App& app = rt->app;
    json scfg = app.config().value("server", json::object());
    ServerOptions opts;
    opts.host = a.has("host") ? a.get("host") : scfg.value("host", std::string("127.0.0.1"));
    opts.port = scfg.value("port", 5000);
    if (a.has("port")) opts.port = std::stoi(a.get("port"));  // the parser checked 0..65535
    opts.threads = scfg.value("threads", 16);
    opts.queue = scfg.value("queue", 256);
    opts.max_body = static_cast<size_t>(scfg.value("max_body_kb", 256.0) * 1024);
    opts.handler_timeout = scfg.value("handler_timeout", 10.0);
    opts.header_timeout = scfg.value("header_timeout", 10.0);
    std::string logs_dir = app.path_from_root(app.config()["paths"].value("logs_dir", std::string("logs")));
    opts.access_log = logs_dir + "/webhook-access.log";

    RunLock lock(lock_path(app));
    char note[512];
    // ", running the inbox": what a refused `orch-host watch` tells apart (workflows/serve.lua starts it)
    const char* inbox = app.config().value("inbox", json::object()).value("enabled", json(false)) == true
                            ? ", running the inbox" : "";
    snprintf(note, sizeof note, "pid %d, serve on %s:%d%s", getpid(), opts.host.c_str(), opts.port, inbox);
    if (!lock.acquire(note)) {
        fprintf(stderr,
                "orch-host serve: another run or server is active (%s); refusing to start beside it.\n",
                lock.holder().c_str());
        return k_exit_locked;
    }
    recover_after_crash(app);
    app.interactive = false;

    std::string wf = resolve_workflow_path(app, scfg.value("workflow", std::string("serve.lua")));
    json args{{"host", opts.host}, {"port", opts.port}};
    int id = rt->vm->start_workflow(wf, args, /*route_window=*/true);
    // the workflow's first slice registers the routes; serve only after it
    app.loop.run([&] { return !rt->vm->routes_open(); });
    if (!rt->vm->task_running(id)) {
        json r = rt->vm->task_result(id);
        if (r.is_object() && r.contains("error") && r.size() == 1) {
            fprintf(stderr, "orch-host serve: %s failed: %s\n", wf.c_str(), r["error"].get<std::string>().c_str());
            return k_exit_bad_input;
        }
    }

    HttpServer server(app.loop, app.journal.get(), opts, [&rt](std::shared_ptr<ServerCall> call) {
        rt->vm->handle_request(std::move(call));
    });
    try {
        server.start();
    } catch (const std::exception& e) {
        fprintf(stderr, "orch-host serve: %s\n", e.what());
        return k_exit_bad_input;
    }
    std::string where = "http://" + opts.host + ":" + std::to_string(server.port());
    if (opts.port == 0) {  // --port 0: the port the kernel chose, for whoever the lock refuses
        snprintf(note, sizeof note, "pid %d, serve on %s:%d%s", getpid(), opts.host.c_str(), server.port(), inbox);
        lock.renote(note);
    }
    app.journal->log("info", "serving " + where + " (" + wf + ")");
    printf("orch-host serve: listening on %s (pid %d)\n", where.c_str(), getpid());
    fflush(stdout);
    app.journal->event("server_started", "", "", json{{"url", where}, {"pid", getpid()}});

    bool stopping = false;
    double deadline = 0;
    auto on_stop = [&](const char* name) {
        if (stopping) {
            fprintf(stderr, "orch-host serve: second %s: exiting now\n", name);
            std::_Exit(k_exit_interrupted);
        }
        stopping = true;
        app.interrupted = true;
        app.journal->log("info", std::string(name) + " received: stopping the server; running sessions pause");
        server.stop();  // waiting callers get 503; no new requests
        rt->vm->cancel_all("interrupted");
        rt->vm->dispatch("shutdown", json{{"signal", name}});  // after: cancel_all would cancel these too
        double grace = app.config().value("claude", json::object()).value("kill_grace", 3.0);
        deadline = Loop::now() + grace + 10;
    };
    app.loop.on_signal(SIGINT, [&] { on_stop("SIGINT"); });
    app.loop.on_signal(SIGTERM, [&] { on_stop("SIGTERM"); });
    app.loop.on_signal(SIGHUP, [&] { on_stop("SIGHUP"); });
    app.outbox->kick();
    app.loop.run([&] { return stopping && (rt->vm->live_tasks() == 0 || Loop::now() > deadline); });
    if (rt->vm->live_tasks() > 0)
        app.journal->log("warn", std::to_string(rt->vm->live_tasks()) + " task(s) still waiting at shutdown");
    flush_outbox(app);
    app.journal->event("server_stopped", "", "", json{{"requests", server.served()}});
    return k_exit_ok;
}

}  // namespace orch
