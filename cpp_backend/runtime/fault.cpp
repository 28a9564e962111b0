// The current-task record and the messages built from it; see fault.h.
#include "runtime/fault.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/abi.h"

namespace {

// initial-exec: the signal handler reads it, and a dynamic-TLS access may allocate (not
// async-signal-safe). A few words fit the static TLS surplus glibc keeps for dlopen'ed objects.
__thread pto_abi_current t_current __attribute__((tls_model("initial-exec"))) = {nullptr, nullptr};
// The running library's source paths (pto_abi_set_sources): source token N stands for t_sources[N].
__thread const char* const* t_sources __attribute__((tls_model("initial-exec"))) = nullptr;
__thread int32_t t_num_sources __attribute__((tls_model("initial-exec"))) = 0;

constexpr char kToken[] = PTO_SOURCE_TOKEN;
constexpr std::size_t kTokenLen = sizeof kToken - 1;

// The path source token `s` ("<pto-source-N>...") stands for, and the token's length in
// *len; nullptr when `s` does not start with a token of the thread's table.
const char* token_path(const char* s, std::size_t* len) {
    for (std::size_t i = 0; i < kTokenLen; ++i)
        if (s[i] != kToken[i]) return nullptr;
    std::size_t i = kTokenLen;
    int64_t k = 0;
    if (s[i] < '0' || s[i] > '9') return nullptr;
    for (; s[i] >= '0' && s[i] <= '9' && k < (int64_t{1} << 31); ++i) k = k * 10 + (s[i] - '0');
    if (s[i] != '>' || k >= t_num_sources || t_sources == nullptr || t_sources[k] == nullptr)
        return nullptr;
    *len = i + 1;
    return t_sources[k];
}

// Appends `s` to buf[*n..cap-1) with its source tokens expanded (no allocation, no libc).
void append_expanded(const char* s, char* buf, std::size_t cap, std::size_t* n) {
    while (s != nullptr && *s != '\0' && *n + 1 < cap) {
        std::size_t len = 0;
        if (const char* path = *s == '<' ? token_path(s, &len) : nullptr) {
            for (; *path != '\0' && *n + 1 < cap; ++path) buf[(*n)++] = *path;
            s += len;
        } else {
            buf[(*n)++] = *s++;
        }
    }
}

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kNumSignals = sizeof kSignals / sizeof kSignals[0];
struct sigaction g_previous[kNumSignals];

const char* signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGILL: return "SIGILL";
        case SIGABRT: return "SIGABRT";
        default: return "a fatal signal";
    }
}

// A fixed buffer filled with async-signal-safe appends (no allocation, no locale, no stdio).
struct Line {
    char buf[1024];
    std::size_t n = 0;
    void add(const char* s) {
        for (; s != nullptr && *s != '\0' && n + 1 < sizeof buf; ++s) buf[n++] = *s;
    }
    void add(int64_t v) {
        char digits[24];
        int k = 0;
        const bool neg = v < 0;
        uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        do {
            digits[k++] = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u != 0 && k < 23);
        if (neg && n + 1 < sizeof buf) buf[n++] = '-';
        while (k > 0 && n + 1 < sizeof buf) buf[n++] = digits[--k];
    }
    // "k[2, 3]": the kernel name and the task's loop indices (just "k" outside any loop).
    void task(const pto_abi_site* site, const pto_sim_task* task) {
        add(site->kernel);
        if (task == nullptr || task->idx[0] < 0) return;
        add("[");
        for (int i = 0; i < 4 && task->idx[i] >= 0; ++i) {
            if (i > 0) add(", ");
            add(static_cast<int64_t>(task->idx[i]));
        }
        add("]");
    }
    void where(const pto_abi_site* site) {
        if (site->loc != nullptr && site->loc[0] != '\0') {
            add(" (");
            append_expanded(site->loc, buf, sizeof buf, &n);
            add(")");
        }
    }
    void flush(int fd) {
        buf[n++] = '\n';
        std::size_t done = 0;
        while (done < n) {
            const ssize_t w = ::write(fd, buf + done, n - done);
            if (w <= 0) break;
            done += static_cast<std::size_t>(w);
        }
    }
};

// "pto-wsp: kernel k <what> in task k[2, 3] (file:line)" on stderr, when a kernel is running.
void report(const char* what, const char* detail) {
    const pto_abi_current cur = t_current;
    if (cur.site == nullptr) return;
    Line line;
    line.add("pto-wsp: kernel ");
    line.add(cur.site->kernel);
    line.add(" ");
    line.add(what);
    if (detail != nullptr) {
        line.add(" (");
        line.add(detail);
        line.add(")");
    }
    line.add(" in task ");
    line.task(cur.site, cur.task);
    line.where(cur.site);
    line.flush(STDERR_FILENO);
}

void on_fatal_signal(int sig, siginfo_t*, void*) {
    const int saved_errno = errno;
    report("crashed", signal_name(sig));
    // Hand the signal to whoever handled it before us (Python's faulthandler dumps the Python
    // stack, then the default action ends the process): SA_RESETHAND already left SIG_DFL in
    // place; restore theirs and re-raise. The signal is blocked while we run, so it is
    // delivered to them as soon as we return.
    for (int i = 0; i < kNumSignals; ++i) {
        if (kSignals[i] != sig) continue;
        if (g_previous[i].sa_handler != SIG_IGN) sigaction(sig, &g_previous[i], nullptr);
    }
    raise(sig);
    errno = saved_errno;
}

void on_exit() { report("called exit()", nullptr); }

void install_handlers() {
    for (int i = 0; i < kNumSignals; ++i) {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal_signal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(kSignals[i], &sa, &g_previous[i]);
    }
    std::atexit(on_exit);
}

// An alternate signal stack for this thread (a stack overflow in a kernel must still reach the
// handler), unless it has one already (Python's faulthandler gives the main thread one).
struct AltStack {
    void* mem = nullptr;
    AltStack() {
        stack_t old;
        if (sigaltstack(nullptr, &old) == 0 && !(old.ss_flags & SS_DISABLE)) return;
        const std::size_t size = 64 * 1024;
        mem = std::malloc(size);
        if (mem == nullptr) return;
        stack_t ss;
        ss.ss_sp = mem;
        ss.ss_size = size;
        ss.ss_flags = 0;
        if (sigaltstack(&ss, nullptr) != 0) {
            std::free(mem);
            mem = nullptr;
        }
    }
    ~AltStack() {
        if (mem == nullptr) return;
        stack_t ss;
        std::memset(&ss, 0, sizeof ss);
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, nullptr);
        std::free(mem);
    }
};

}  // namespace

extern "C" pto_abi_current* pto_abi_current_task(void) {
    static std::once_flag installed;
    std::call_once(installed, install_handlers);
    static thread_local AltStack alt_stack;
    (void)alt_stack;
    return &t_current;
}

extern "C" void pto_abi_set_sources(const char* const* files, int32_t n) {
    t_sources = files;
    t_num_sources = files == nullptr ? 0 : n;
}

extern "C" void pto_abi_expand_sources(const char* text, char* out, size_t cap) {
    if (out == nullptr || cap == 0) return;
    std::size_t n = 0;
    append_expanded(text, out, cap, &n);
    out[n] = '\0';
}

extern "C" int32_t pto_abi_kernel_error(pto_abi_run* run, const pto_abi_site* site,
                                        const pto_sim_task* task, const char* what) {
    Line line;
    line.task(site, task);
    line.buf[line.n] = '\0';
    const char* loc = site->loc != nullptr && site->loc[0] != '\0' ? site->loc : "?";
    if (what != nullptr)
        return pto_abi_fail(run, "[pto:KernelError] kernel %s threw a C++ exception in task %s (%s): %s",
                            site->kernel, line.buf, loc, what);
    return pto_abi_fail(run,
                        "[pto:KernelError] kernel %s threw a C++ exception in task %s (%s): an "
                        "exception that is not a std::exception",
                        site->kernel, line.buf, loc);
}
