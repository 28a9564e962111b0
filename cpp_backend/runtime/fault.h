/* Which kernel task is running, for messages about a kernel that crashed, threw or exited.
 *
 * A generated driver stores, before each kernel call, a pointer to the kernel's static site
 * (name and the @kernel's file:line) and to the task it is about to run (its loop indices) in
 * the run thread's `pto_abi_current` record, and clears it after the call: two pointer stores,
 * no string is built. Three readers use it:
 *
 * - a fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT; installed by the first run,
 *   on an alternate stack so that a stack overflow is reported too) writes one line with
 *   write(2) — async-signal-safe — and re-raises the signal through the handler that was
 *   installed before it (Python's faulthandler, or the default action):
 *       pto-wsp: kernel k crashed (SIGSEGV) in task k[2, 3] (model.py:12)
 * - an atexit handler writes, when exit() is called from inside a kernel:
 *       pto-wsp: kernel k called exit() in task k[2, 3] (model.py:12)
 * - generated code turns a C++ exception that leaves a kernel into a failed run whose message
 *   (pto_abi_kernel_error, abi.h) pto_wsp raises as KernelError.
 *
 * The line formats are parsed by pto_wsp/isolation.py (FATAL_LINE); change both together.
 *
 * Source paths are not in a library built for the cache: the build cache (pto_wsp/backends)
 * writes each user file of a "file:line" as PTO_SOURCE_TOKEN "N>" (the N-th source of the
 * library), so a script exported to another folder reuses the build. The loader gives the real
 * paths back (exec::Library's sources); a run installs them for its thread
 * (pto_abi_set_sources), and every message above, and the run's error, names the real file.
 */
#ifndef PTO_RUNTIME_FAULT_H
#define PTO_RUNTIME_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A kernel as messages name it; one static instance per kernel in a generated library. */
typedef struct pto_abi_site {
    const char* kernel; /* kernel name */
    const char* loc;    /* "file:line" of its @kernel definition, "" when unknown; the file
                           may be a source token (PTO_SOURCE_TOKEN) */
} pto_abi_site;

/* "<pto-source-N>": the N-th user source file of a library, in place of its path. */
#define PTO_SOURCE_TOKEN "<pto-source-"

/* The task a thread is running a kernel for (site == NULL: no kernel is running). */
typedef struct pto_abi_current {
    const pto_abi_site* site;
    const pto_sim_task* task; /* its idx[] are the task's loop indices (-1: absent) */
} pto_abi_current;

/* A compiler barrier around a kernel call: the record's stores stay before and after the
 * kernel's own memory accesses (a crash must find them) and are never dropped as dead. */
#define PTO_ABI_BARRIER() __asm__ __volatile__("" ::: "memory")

/* The calling thread's record. Also arms the fatal-signal and atexit handlers (once per
 * process) and gives the calling thread an alternate signal stack (once per thread). */
pto_abi_current* pto_abi_current_task(void);

/* The paths the source tokens of the library the calling thread runs stand for (files[N] for
 * token N; NULL, 0: none). The array must outlive the run; the messages above read it. */
void pto_abi_set_sources(const char* const* files, int32_t n);

/* Writes `text` to `out` (capacity `cap` > 0, always NUL-terminated, truncated) with every
 * source token of the calling thread's table replaced by its path; async-signal-safe. */
void pto_abi_expand_sources(const char* text, char* out, size_t cap);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTO_RUNTIME_FAULT_H */
