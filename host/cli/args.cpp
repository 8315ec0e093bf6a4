// The command table: every command with its one-line help, its positional
// arguments and its flags, and the parser (CLI11) that reads argv against it
// into an Args. Only this file includes CLI11 (a large header-only library).
// What the parser does not know is an error naming it: an unknown flag or
// command, a missing or bad value, an extra argument.
#include "app.h"
#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace orch {

namespace {

const char* k_about = "run Lua workflows that drive Claude Code agents";
const char* k_footer =
    "`orch-host help CMD` or `orch-host CMD --help`: a command's arguments and flags.\n"
    "--root and --config may also follow the command.\n"
    "Exit codes: 0 done, 1 tasks failed, 2 bad input, 3 paused, 4 another run is active, 5 state error";

// --auto-approve and --no-input: alone, or =true / =false
void add_switch(CLI::App* c, const std::string& name, const std::string& help) {
    auto check = [name](std::string& v) -> std::string {
        if (v == "true" || v == "false") return "";
        return "expected --" + name + ", --" + name + "=true or --" + name + "=false, got --" + name + "=" + v;
    };
    c->add_flag("--" + name)->description(help + " (--" + name + "=false: not)")->check(CLI::Validator(check, ""));
}

void add_flag(CLI::App* c, const std::string& name, const std::string& help) {
    c->add_flag(name)->description(help)->disable_flag_override();  // `--json=false` is refused, not read as --json
}

CLI::Option* add_value(CLI::App* c, const std::string& name, const std::string& type, const std::string& help) {
    auto* o = c->add_option(name)->description(help)->type_name(type);
    // an id (a session, a task, a request) names one: an empty one is refused, not read as "any"
    if (type == "ID")
        o->check(CLI::Validator(
            [](std::string& v) { return v.empty() ? std::string("expected an id, got ''") : std::string(); }, ""));
    return o;
}

// a whole number lo..hi
CLI::Validator number_in(long lo, long hi) {
    auto check = [lo, hi](std::string& v) -> std::string {
        char* end = nullptr;
        errno = 0;
        long n = strtol(v.c_str(), &end, 10);
        if (v.empty() || *end || errno || n < lo || n > hi)
            return "expected a number " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" + v + "'";
        return "";
    };
    return CLI::Validator(check, "");
}

// a count of lines or sessions: 0.. (at least `lo`)
CLI::Option* add_count(CLI::App* c, const std::string& name, const std::string& help, long lo = 0) {
    return add_value(c, name, "N", help)->check(number_in(lo, 1000000));
}

void add_positional(CLI::App* c, const std::string& name, const std::string& help, bool many = false,
                    bool required = false) {
    auto* o = c->add_option(name)->description(help)->type_name("");
    if (many) o->expected(required ? 1 : 0, -1)->allow_extra_args();  // without it: only the first
    if (required) o->required();
}

// approve|skip|cancel|pause: [TASK] (one of them, the same as --task) and
// --note; answer: its TEXT (several words)
void add_control(CLI::App* c, const char* task_help, bool answer = false) {
    // (required: cmd_control checks it, since words after `--` come after the parse)
    if (answer) add_positional(c, "TEXT", "the answer (several words are joined with spaces)", true);
    else if (task_help) add_positional(c, "TASK", task_help);
    if (!answer) add_value(c, "--note", "TEXT", "a note kept with the decision");
    add_value(c, "--session", "ID", "the session (default: the latest)");
    add_value(c, "--by", "NAME", "who decides, as recorded (default: cli:$USER)");
    add_value(c, "--request", "ID",
              "the approval request this decides (default: the only one waiting); refused when it was "
              "already decided, expired or is from an older session");
}

struct Command {
    const char* name;
    const char* help;
    int (*run)(const Args&);
    void (*define)(CLI::App*);  // its positional arguments and flags
};

int cmd_version(const Args&) {
    printf("orch-host %s\n", ORCH_VERSION);
    return k_exit_ok;
}

const Command k_commands[] = {
    {"run", "run a workflow (default daily.lua, looked up in workflows/)", cmd_run,
     [](CLI::App* c) {
         add_positional(c, "WORKFLOW", "a workflow file, or a name under workflows/ (default daily.lua)");
         add_positional(c, "ARGS", "the workflow's own arguments (after --, they may start with -)", true);
         add_value(c, "--tasks", "FILE",
                   "the task file: markdown, YAML or JSON (default: today's, tasks/YYYY-MM-DD-tasks.md, "
                   "or .md, .yaml, .yml, .json)");
         add_switch(c, "auto-approve", "approve every task without asking");
         add_switch(c, "no-input", "never prompt on the terminal: wait for approve|skip|pause");
         add_value(c, "--max-concurrent", "N", "agents at once (default: the day file's, else 1 for markdown, "
                   "else orchestrator.max_concurrent)")
             ->check(number_in(1, 1000));
         add_flag(c, "--resume", "continue a session instead, as `orch-host resume` does");
         add_value(c, "--session", "ID", "with --resume: the session (default: the latest)");
     }},
    {"check", "read a task file and print the run's plan: waves, branches, approvals, context files; runs nothing",
     cmd_check,
     [](CLI::App* c) {
         add_value(c, "--tasks", "FILE", "the task file, as run takes it (default: today's)");
         add_switch(c, "auto-approve", "plan as `run --auto-approve` would (no approvals)");
         add_value(c, "--max-concurrent", "N", "agents at once, as run takes it")->check(number_in(1, 1000));
     }},
    {"serve", "the webhook server, Telegram bot and schedules (workflows/serve.lua)", cmd_serve,
     [](CLI::App* c) {
         add_value(c, "--host", "H", "the address to listen on (default: server.host, 127.0.0.1)");
         add_value(c, "--port", "N", "the port, 0 for any free one (default: server.port, 5000)")
             ->check(number_in(0, 65535));
     }},
    {"watch", "the task inbox: run each .task.md dropped into the tasks folder (workflows/inbox.lua) until Ctrl-C",
     cmd_watch,
     [](CLI::App* c) {
         add_switch(c, "auto-approve", "approve every task without asking");
         add_switch(c, "no-input", "never prompt on the terminal: wait for approve|skip|pause");
         add_value(c, "--max-concurrent", "N", "agents at once (default: inbox.max_concurrent, MAX_CONCURRENT_TASKS)")
             ->check(number_in(1, 1000));
     }},
    {"resume", "continue a paused or interrupted session, with the flags it was started with unless given again",
     cmd_resume,
     [](CLI::App* c) {
         add_positional(c, "SESSION", "the session (default: the latest)");
         add_value(c, "--session", "ID", "the same as SESSION");
         add_switch(c, "auto-approve", "approve every task without asking");
         add_switch(c, "no-input", "never prompt on the terminal: wait for approve|skip|pause");
         add_value(c, "--max-concurrent", "N", "agents at once from now on (default: the session's)")
             ->check(number_in(1, 1000));
     }},
    {"status", "the session, each task's state, durations, cost, tokens", cmd_status,
     [](CLI::App* c) {
         add_positional(c, "SESSION", "the session (default: the latest)");
         add_value(c, "--session", "ID", "the same as SESSION");
         add_flag(c, "--json", "one JSON object: the session's fields and its tasks");
     }},
    {"sessions", "recent sessions, newest first", cmd_sessions,
     [](CLI::App* c) {
         add_count(c, "--limit,--lines", "at most N sessions, N >= 1 (default 20)", 1);
         add_flag(c, "--json", "a JSON array");
     }},
    {"report", "write the end-of-day report again (results/YYYY-MM-DD-report.md) and print its path", cmd_report,
     [](CLI::App* c) {
         add_positional(c, "SESSION|DATE", "a session id, or YYYY-MM-DD: that day's latest (default: the latest)");
         add_flag(c, "--stdout", "print the report instead, no file written (SESSION: that session's part only)");
     }},
    {"approve", "approve what the session waits for (an agent's question: answer it)", cmd_control,
     [](CLI::App* c) {
         add_control(c, "the task to approve, the same as --task");
         add_value(c, "--task", "ID", "the task to approve (needed while several wait)");
     }},
    {"skip", "skip the waiting or running task (--task: one of several running at once)", cmd_control,
     [](CLI::App* c) {
         add_control(c, "the task to skip, the same as --task");
         add_value(c, "--task", "ID", "the task to skip (needed while several run)");
     }},
    {"cancel", "stop one task: its agent stopped, or its wait or place in the queue ended (--task ID)", cmd_control,
     [](CLI::App* c) {
         add_control(c, "the task to cancel, the same as --task");
         add_value(c, "--task", "ID", "the task to cancel (it or TASK is required)");
     }},
    {"pause", "pause the session (`orch-host resume` continues it)", cmd_control,
     [](CLI::App* c) { add_control(c, nullptr); }},
    {"answer", "answer an agent's question", cmd_control,
     [](CLI::App* c) {
         add_control(c, nullptr, true);
         add_value(c, "--task", "ID", "the task whose question this answers (needed while several wait)");
     }},
    {"tail-events", "the NDJSON event stream", cmd_tail_events,
     [](CLI::App* c) {
         add_value(c, "--task", "ID", "only this task's events; without --session, the latest session's that has "
                   "events of it (said on stderr; with --follow, then its new events of any session)");
         add_value(c, "--session", "ID", "only this session's events (with --task: of that task in it)");
         add_count(c, "--lines", "the last N lines (default 20)");
         add_flag(c, "--follow", "then print new events as they come (Ctrl-C ends)");
     }},
    {"logs", "today's daily log", cmd_logs,
     [](CLI::App* c) {
         add_count(c, "--lines", "the last N lines (default 30)");
         add_flag(c, "--follow", "then print new lines as they come (Ctrl-C ends)");
     }},
    {"clean",
     "worktrees: remove task worktrees whose branch is merged and that hold no uncommitted work, and the "
     "orchestrator's merged branches no worktree holds; "
     "tasks: move processed inbox task files to processed/; artifacts: remove results and summaries older than --days; "
     "agents: remove the agents' folders (claude's config and transcripts) not used for --days, but a task's that is "
     "not finished; logs: remove the agents' output logs and the daily logs not changed for --days, but an "
     "unfinished task's and today's",
     cmd_clean,
     [](CLI::App* c) {
         add_positional(c, "WHAT", "worktrees | tasks | artifacts | agents | logs", false, true);
         add_flag(c, "--force", "worktrees: remove the kept ones too (their uncommitted changes are lost; unmerged "
                  "branches stay)");
         add_flag(c, "--all", "tasks: move every task file, processed or not (refused while a host runs)");
         add_flag(c, "--dry-run", "only say what would be removed, moved or kept");
         add_value(c, "--days", "N", "artifacts, agents, logs: those last changed more than N days ago (N >= 1)");
     }},
    {"create-sample", "write a sample inbox task file, sample.task.md, in the tasks folder and print its path",
     cmd_create_sample,
     [](CLI::App* c) {
         add_value(c, "--dir", "DIR", "the folder (default: paths.tasks_dir)");
         add_flag(c, "--force", "write over a sample.task.md that is there (else: refused, exit 2)");
     }},
    {"validate-artifacts",
     "check every results/*_result.json against docs/schema/task-result.schema.json (exit 1: one is not valid)",
     cmd_validate_artifacts,
     [](CLI::App* c) { add_positional(c, "DIR|FILE", "a folder of results, or one (default: paths.results_dir)"); }},
    {"doctor", "effective config, claude CLI, folders, database health", cmd_doctor, [](CLI::App*) {}},
    {"hook", "run by an agent's claude before each tool call: exit 2 blocks it (the hook's JSON on stdin)",
     cmd_hook,
     [](CLI::App* c) { add_positional(c, "EVENT", "pre-tool-use", false, true); }},
    {"test", "run Lua specs inside the host", cmd_test,
     [](CLI::App* c) {
         add_positional(c, "SPEC", "spec files (tests/lua/*_spec.lua)", true, true);
         add_flag(c, "--no-state", "without the state database");
     }},
    {"version", "print the version", cmd_version, [](CLI::App*) {}},
};

// the parsed values, by each option's first long name (positionals in order)
void collect(const CLI::App& from, Args& a) {
    for (const CLI::Option* o : from.get_options()) {
        if (o->count() == 0 || o == from.get_help_ptr() || o == from.get_version_ptr()) continue;
        if (o->get_positional()) {
            for (const auto& r : o->results()) a.positional.push_back(r);
        } else {
            a.options.emplace_back(o->get_single_name(), o->results().back());
        }
    }
}

// "unknown flag --x", "unexpected argument y" for each argument left over
std::string extras_message(const std::vector<std::string>& extras) {
    std::string m;
    for (const auto& x : extras) {
        if (!m.empty()) m += "; ";
        m += (x.size() > 1 && x[0] == '-' ? "unknown flag " : "unexpected argument ") + x;
    }
    return m;
}

// "--limit given 2 times: give it once" for an option given more than once
// (CLI11's own words: "At Most 1 required but received 2")
std::string repeated_message(const CLI::App& app, const std::vector<CLI::App*>& used) {
    std::vector<const CLI::App*> apps{&app};
    if (!used.empty()) apps.push_back(used[0]);
    for (const CLI::App* a : apps)
        for (const CLI::Option* o : a->get_options())
            if (!o->get_positional() && o->count() > 1 && o->get_expected_max() == 1)
                return o->get_name() + " given " + std::to_string(o->count()) + " times: give it once";
    return "";
}

}  // namespace

std::optional<int> parse_args(int argc, char** argv, Args& out) {
    CLI::App app(std::string("orch-host ") + ORCH_VERSION + ": " + k_about, "orch-host");
    app.set_version_flag("-V,--version", std::string("orch-host ") + ORCH_VERSION);
    app.footer(k_footer);
    app.get_formatter()->column_width(24);
    app.get_formatter()->label("Subcommands", "Commands");
    app.get_formatter()->label("SUBCOMMAND", "COMMAND");
    app.get_formatter()->label("Positionals", "Arguments");
    app.require_subcommand(0, 1);
    app.add_option("--root", "the project folder (default: $ORCH_ROOT, else the nearest folder upward with "
                             "workflows/, else the source tree this binary was built from)")
        ->type_name("DIR");
    app.add_option("--config", "the config file (default workflows/config.lua)")->type_name("FILE");
    // Only the commands argv names exist, with their options (all of them
    // for a help, and when argv names none: the usage lists them). CLI11
    // matches a command only by a word equal to its name, so the parse is the
    // same; building every command (options, validators, formatters) cost a
    // quarter of `run trivial.lua`'s start-up instructions.
    bool all = argc < 2;
    for (int i = 1; i < argc && !all; ++i)
        all = !strcmp(argv[i], "help") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
    auto named = [&](const Command& cmd) {
        for (int i = 1; i < argc; ++i)
            if (!strcmp(cmd.name, argv[i])) return true;
        return false;
    };
    if (!all) all = std::none_of(std::begin(k_commands), std::end(k_commands), named);
    for (const Command& cmd : k_commands) {
        if (!all && !named(cmd)) continue;
        CLI::App* c = app.add_subcommand(cmd.name, cmd.help);
        c->fallthrough();  // --root and --config after the command
        c->group("Commands");
        cmd.define(c);
    }
    CLI::App* help = nullptr;  // only when it can be named (argv has no "help" word otherwise)
    if (all) {
        help = app.add_subcommand("help", "this help, or a command's: help CMD");
        help->group("Commands");
        add_positional(help, "CMD", "the command");
    }

    if (argc < 2) {  // no command: the usage, as an error
        fprintf(stderr, "%s", app.help().c_str());
        return k_exit_bad_input;
    }
    // run's ARGS and answer's TEXT after `--`: CLI11 hands what follows `--`
    // back to the parent once the required positionals are filled (so
    // `run x.lua -- -v` said "unknown flag -v"); they are the command's own
    int cut = argc, at = 1;  // at: the command's word (the first word naming one)
    while (at < argc && std::none_of(std::begin(k_commands), std::end(k_commands),
                                     [&](const Command& c) { return !strcmp(c.name, argv[at]); }))
        ++at;
    if (at < argc && (!strcmp(argv[at], "run") || !strcmp(argv[at], "answer")))
        for (int j = at + 1; j < argc && cut == argc; ++j)
            if (!strcmp(argv[j], "--")) cut = j;
    try {
        app.parse(cut, argv);
    } catch (const CLI::CallForHelp&) {
        printf("%s", app.help().c_str());  // the command's, when one was given
        return k_exit_ok;
    } catch (const CLI::CallForVersion&) {
        printf("%s\n", app.version().c_str());
        return k_exit_ok;
    } catch (const CLI::ParseError& e) {
        const auto& used = app.get_subcommands();
        std::string cmd = used.empty() ? "" : used[0]->get_name();
        std::vector<std::string> extras = app.remaining();
        if (!used.empty())
            for (const auto& x : used[0]->remaining()) extras.push_back(x);
        std::string what = e.what();
        if (dynamic_cast<const CLI::ExtrasError*>(&e) && !extras.empty())
            what = cmd.empty() && extras[0][0] != '-' ? "unknown command " + extras[0] : extras_message(extras);
        if (dynamic_cast<const CLI::ArgumentMismatch*>(&e))
            if (std::string twice = repeated_message(app, used); !twice.empty()) what = twice;
        fprintf(stderr, "orch-host%s%s: %s\nsee orch-host %s--help\n", cmd.empty() ? "" : " ", cmd.c_str(),
                what.c_str(), cmd.empty() ? "" : (cmd + " ").c_str());
        return k_exit_bad_input;
    }
    const auto& used = app.get_subcommands();
    if (used.empty() || used[0] == help) {
        std::string name = used.empty() || help->get_option("CMD")->count() == 0
                               ? ""
                               : help->get_option("CMD")->results()[0];
        if (name.empty()) {  // the general help (app.help() would give help's own)
            printf("%s", app.get_formatter()->make_help(&app, "orch-host", CLI::AppFormatMode::Normal).c_str());
            return used.empty() ? k_exit_bad_input : k_exit_ok;
        }
        try {
            printf("%s", app.get_subcommand(name)->help("orch-host").c_str());
            return k_exit_ok;
        } catch (const CLI::OptionNotFound&) {
            fprintf(stderr, "orch-host help: unknown command %s\nsee orch-host --help\n", name.c_str());
            return k_exit_bad_input;
        }
    }
    out = Args{};
    out.command = used[0]->get_name();
    for (const Command& cmd : k_commands)
        if (out.command == cmd.name) out.run = cmd.run;
    collect(app, out);
    collect(*used[0], out);
    for (int i = cut + 1; i < argc; ++i) out.positional.push_back(argv[i]);
    return std::nullopt;
}

}  // namespace orch
