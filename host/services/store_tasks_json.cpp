// Store::write_session_tasks_json: a session's tasks as the JSON text of
// their array, written straight from the rows in pieces (`status --json` of
// a 10,000-task session is 8 MB: printed as it is read, never held whole).
#include "services/json_number.h"
#include "services/store.h"
#include "services/store_sql.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace orch {

using json = nlohmann::json;
using store_sql::Stmt;
using store_sql::row_object;

namespace {

// whether 8 bytes are written as they are between quotes: no byte >= 0x80,
// < 0x20 (its high bit survives w - 0x20..), '"' or '\\'
bool plain_word(const unsigned char* p) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if ((w | ((w - 0x20 * ones) & ~w)) & highs) return false;
    return !(has_zero(w ^ (0x22 * ones)) | has_zero(w ^ (0x5c * ones)));
}

// whether a text is written as it is between quotes: printable ASCII without
// '"' or '\\'; 16 bytes at a time with SSE2 (a signed byte below 0x20 is
// one < 0x20 or >= 0x80), else 8, the last block overlapping the one before
// (no byte loop for the tail: a task's id, status and log path are 10-90
// bytes, ~4 M instructions of a 10,000-task status as a loop of 8)
bool plain_json_text(const unsigned char* t, size_t n) {
    if (n < 8) {
        for (size_t k = 0; k < n; ++k)
            if (t[k] < 0x20 || t[k] >= 0x80 || t[k] == '"' || t[k] == '\\') return false;
        return true;
    }
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i low = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
        auto plain16 = [&](const unsigned char* p) {
            __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, low),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)));
            return _mm_movemask_epi8(bad) == 0;
        };
        size_t k = 0;
        for (; k + 16 <= n; k += 16)
            if (!plain16(t + k)) return false;
        return k == n || plain16(t + n - 16);
    }
#endif
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        if (!plain_word(t + k)) return false;
    return k == n || plain_word(t + n - 8);
}

// The text in a buffer of k_piece bytes handed to the sink whenever the next
// write would not fit (a text longer than the buffer goes to it directly):
// one buffer, faulted in once, instead of a string of the whole answer.
class Pieces {
public:
    static constexpr size_t k_piece = 64 * 1024;
    explicit Pieces(const std::function<void(std::string_view)>& sink) : sink_(sink), buf_(new char[k_piece]) {}
    // where n more bytes (n <= k_piece) go; wrote(n) keeps them
    char* room(size_t n) {
        if (n_ + n > k_piece) flush();
        return buf_.get() + n_;
    }
    void wrote(size_t n) { n_ += n; }
    void put(char c) {
        *room(1) = c;
        ++n_;
    }
    void put(std::string_view t) {
        if (t.empty()) return;  // an empty view's data() may be null: no memcpy of it
        if (t.size() > k_piece) {
            flush();
            sink_(t);
            return;
        }
        std::memcpy(room(t.size()), t.data(), t.size());
        n_ += t.size();
    }
    void flush() {
        if (n_ > 0) sink_(std::string_view(buf_.get(), n_));
        n_ = 0;
    }

private:
    const std::function<void(std::string_view)>& sink_;
    std::unique_ptr<char[]> buf_;
    size_t n_ = 0;
};

// one column as a JSON member `"name":value` (NULL: nothing, false), written
// as nlohmann writes it (a double with a ".0" when whole, so the text decodes
// to what row_object gives); a text with bytes to escape or beyond ASCII
// takes nlohmann's way. `first`: no member before it in the object.
// The column is read as its sqlite3_value: one call of the statement's API
// (sqlite3_column_type, _text and _bytes each check the statement and its
// error state, ~14 M instructions for 10,000 rows); the connection is
// opened SQLITE_OPEN_NOMUTEX and used by one thread, so the value needs no
// protection.
bool put_member(Pieces& out, sqlite3_stmt* s, int i, std::string_view key, bool first) {
    sqlite3_value* v = sqlite3_column_value(s, i);
    int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) return false;
    if (!first) out.put(',');
    out.put(key);
    if (type == SQLITE_INTEGER) {
        char* p = out.room(24);
        out.wrote(static_cast<size_t>(std::to_chars(p, p + 24, sqlite3_value_int64(v)).ptr - p));
    } else if (type == SQLITE_FLOAT) {
        out.wrote(json_double_text(out.room(k_json_double_max), sqlite3_value_double(v)));
    } else {
        const auto* t = sqlite3_value_text(v);
        size_t n = static_cast<size_t>(sqlite3_value_bytes(v));
        if (!plain_json_text(t, n)) {
            out.put(store_sql::column(s, i).dump(-1, ' ', false, json::error_handler_t::replace));
            return true;
        }
        out.put('"');
        out.put(std::string_view(reinterpret_cast<const char*>(t), n));
        out.put('"');
    }
    return true;
}

}  // namespace

void Store::write_session_tasks_json(const std::string& id, std::string_view before, std::string_view after,
                                     const std::function<void(std::string_view)>& sink) {
    // The task columns, then `data`: the JSON object the store wrote there
    // (save_task's dump, update_task's json_patch), never holding a column's
    // key, is spliced in without its braces. Anything else in `data` (a
    // database edited by hand) takes row_object's way for that row. The
    // index tasks_by_seq gives the order (seq, rowid) as it walks; a
    // database no writer has migrated yet (status opens read-only) has none.
    bool indexed;
    {
        Stmt q(stmt("SELECT count(*) FROM sqlite_master WHERE type='index' AND name='tasks_by_seq'"));
        indexed = q.step() == SQLITE_ROW && sqlite3_column_int(q.raw(), 0) > 0;
    }
    Stmt q(stmt(indexed ? store_sql::k_session_tasks_by_index : store_sql::k_session_tasks_in_order));
    q.bind(1, id);
    std::string keys[10];  // `"name":` of each column, written 10,000 times
    for (int i = 0; i < 10; ++i) keys[i] = std::string("\"") + sqlite3_column_name(q.raw(), i) + "\":";
    Pieces out(sink);
    out.put(before);
    out.put('[');
    bool first_row = true;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        sqlite3_stmt* s = q.raw();
        if (!first_row) out.put(',');
        first_row = false;
        const char* d = reinterpret_cast<const char*>(sqlite3_column_text(s, 10));
        size_t n = static_cast<size_t>(sqlite3_column_bytes(s, 10));
        bool object = d && n >= 2 && d[0] == '{' && d[n - 1] == '}';
        if (!object && d) {  // not an object: as load_session gives it
            out.put(row_object(s).dump(-1, ' ', false, json::error_handler_t::replace));
            continue;
        }
        out.put('{');
        bool first = true;
        for (int i = 0; i < 10; ++i)
            if (put_member(out, s, i, keys[i], first)) first = false;
        std::string_view inner = object ? std::string_view(d + 1, n - 2) : std::string_view();
        while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\n')) inner.remove_prefix(1);
        if (!inner.empty()) {
            if (!first) out.put(',');
            out.put(inner);
        }
        out.put('}');
    }
    if (rc != SQLITE_DONE) fail("loading tasks");
    out.put(']');
    out.put(after);
    out.flush();
}

std::string Store::session_tasks_json(const std::string& id, std::string_view before, std::string_view after) {
    std::string text;
    write_session_tasks_json(id, before, after, [&](std::string_view piece) { text += piece; });
    return text;
}

}  // namespace orch
