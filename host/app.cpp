#include "app.h"

#include "services/http_client.h"
#include "services/journal.h"
#include "services/outbox.h"
#include "services/store.h"

#include <filesystem>

namespace orch {

namespace fs = std::filesystem;

App::App() = default;

App::~App() {
    outbox.reset();
    http.reset();  // joins workers before the loop goes away
    journal.reset();
    store.reset();
}

namespace {

std::string config_text(const nlohmann::json& section, const char* key, const char* fallback = "") {
    auto it = section.find(key);
    if (it == section.end() || it->is_null()) return fallback;
    return it->is_string() ? it->get<std::string>() : it->dump();  // a chat id written as a number
}

// notify.n8n_url -> sink "n8n"; telegram.bot_token with telegram.chat_id (a
// comma-separated list) -> one sink "telegram:<chat>" per chat.
void add_sinks(Outbox& outbox, const nlohmann::json& config) {
    auto notify = config.value("notify", nlohmann::json::object());
    std::string n8n = config_text(notify, "n8n_url");
    if (!n8n.empty()) outbox.add_sink("n8n", webhook_sink(n8n));
    auto interval = notify.find("progress_interval");
    if (interval != notify.end() && interval->is_number()) outbox.set_progress_interval(interval->get<double>());
    auto tg = config.value("telegram", nlohmann::json::object());
    std::string token = config_text(tg, "bot_token");
    std::string chats = config_text(tg, "chat_id");
    std::string base = config_text(tg, "api_base", "https://api.telegram.org");
    if (token.empty() || chats.empty()) return;
    size_t start = 0;
    while (start <= chats.size()) {
        size_t end = chats.find(',', start);
        if (end == std::string::npos) end = chats.size();
        std::string chat = chats.substr(start, end - start);
        chat.erase(0, chat.find_first_not_of(" \t"));
        chat.erase(chat.find_last_not_of(" \t") + 1);
        if (!chat.empty()) outbox.add_sink("telegram:" + chat, telegram_sink(base, token, chat));
        start = end + 1;
    }
}

}  // namespace

std::string App::path_from_root(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return root + "/" + p;
}

std::string App::state_db_path() const {
    auto paths = config.value("paths", nlohmann::json::object());
    std::string db = path_from_root(paths.value("state_db", std::string("state/orch.db")));
    std::error_code ec;
    auto canon = fs::weakly_canonical(db, ec);
    return ec ? db : canon.string();
}

std::string App::next_agent_tag(const std::string& kind) {
    return agent_tag(kind + std::to_string(++run_serial), state_db_path());
}

void App::open_services(bool read_only_store) {
    auto paths = config.value("paths", nlohmann::json::object());
    std::string db = state_db_path();
    std::string logs = path_from_root(paths.value("logs_dir", std::string("logs")));
    std::error_code ec;
    if (!read_only_store) {
        fs::create_directories(fs::path(db).parent_path(), ec);
        fs::create_directories(logs, ec);
    }
    store = std::make_unique<Store>(db, read_only_store);
    if (!read_only_store) {
        journal = std::make_unique<Journal>(logs, store.get(), false);
        journal->set_flush_scheduler([this] {
            loop.add_timer(0, [this] {
                try {
                    journal->flush();
                } catch (const std::exception& e) {
                    journal->log("error", std::string("recording events: ") + e.what());
                }
            });
        });
        http = std::make_unique<HttpWorkers>(loop, 2);
        outbox = std::make_unique<Outbox>(loop, *store, *http, *journal);
        add_sinks(*outbox, config);
    }
}

}  // namespace orch
