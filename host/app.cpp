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

std::string App::path_from_root(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return root + "/" + p;
}

void App::open_services(bool read_only_store) {
    auto paths = config.value("paths", nlohmann::json::object());
    std::string db = path_from_root(paths.value("state_db", std::string("state/orch.db")));
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
        auto notify = config.value("notify", nlohmann::json::object());
        std::string n8n = notify.value("n8n_url", std::string());
        if (!n8n.empty()) outbox->add_sink("n8n", Sink{n8n, {}});
    }
}

}  // namespace orch
