/* symbolize.c — DWARF symbolization with elfutils libdw (see symbolize.h).
 * One Dwfl session per process, made on first use and re-made when a pc
 * falls outside every module it knows (a library loaded later). */
#include "symbolize.h"
#include "base.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static csp_lock sym_lock = CSP_LOCK_INIT;
static Dwfl *dwfl;
static pid_t session_pid;

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static CSP_RT Dwfl *session(bool refresh)
{
    pid_t pid = getpid();
    if (dwfl && (refresh || session_pid != pid)) {
        dwfl_end(dwfl);
        dwfl = NULL;
    }
    if (!dwfl) {
        dwfl = dwfl_begin(&callbacks);
        if (!dwfl)
            return NULL;
        dwfl_report_begin(dwfl);
        if (dwfl_linux_proc_report(dwfl, pid) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
            dwfl_end(dwfl);
            dwfl = NULL;
            return NULL;
        }
        session_pid = pid;
    }
    return dwfl;
}

/* Without .debug_aranges (clang's default) libdw may not find the CU of an
 * address: look through the CUs for the one whose ranges hold it. */
static CSP_RT Dwarf_Line *getsrc_by_cu_scan(Dwfl_Module *mod, Dwarf_Addr at)
{
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    if (!dw)
        return NULL;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_haspc(&cu, at - bias) > 0)
            return dwarf_getsrc_die(&cu, at - bias);
        off = next;
    }
    return NULL;
}

static CSP_RT void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

CSP_RT bool csp__symbolize(uintptr_t pc, bool exact, csp_frame_info *out)
{
    uintptr_t at = exact || pc == 0 ? pc : pc - 1;
    snprintf(out->func, sizeof out->func, "0x%" PRIxPTR, pc);
    copy_str(out->file, sizeof out->file, "?");
    out->line = 0;
    bool found = false;
    csp_lock_acquire(&sym_lock);
    Dwfl *d = session(false);
    Dwfl_Module *mod = d ? dwfl_addrmodule(d, at) : NULL;
    if (d && !mod && (d = session(true)))
        mod = dwfl_addrmodule(d, at);
    if (mod) {
        const char *name = dwfl_module_addrname(mod, at);
        if (name) {
            copy_str(out->func, sizeof out->func, name);
            /* gcc's clones (f.constprop.0, f.isra.0, f.part.0, f.cold) are f. */
            char *dot = strchr(out->func, '.');
            if (dot && dot != out->func)
                *dot = 0;
            found = true;
        }
        Dwfl_Line *line = dwfl_module_getsrc(mod, at);
        int lineno = 0;
        const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        Dwarf_Line *dline = file ? NULL : getsrc_by_cu_scan(mod, at);
        if (dline) {
            file = dwarf_linesrc(dline, NULL, NULL);
            dwarf_lineno(dline, &lineno);
        }
        if (file) {
            while (file[0] == '.' && file[1] == '/')   /* clang's "./" compilation dir */
                file += 2;
            copy_str(out->file, sizeof out->file, file);
            out->line = lineno;
            found = true;
        } else {
            const char *mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            if (mname)
                copy_str(out->file, sizeof out->file, mname);
        }
    }
    csp_lock_release(&sym_lock);
    return found;
}

static CSP_RT bool is_runtime_frame(const csp_frame_info *f)
{
    /* The runtime's frames, and the harness's when it dumps from a task. */
    return strstr(f->file, "runtime/src/") != NULL || strstr(f->file, "harness/src/") != NULL ||
           strncmp(f->func, "csp_", 4) == 0 || strncmp(f->func, "harness__", 9) == 0;
}

static CSP_RT void print_frame(FILE *out, const char *prefix, const csp_frame_info *f)
{
    if (f->line > 0)
        fprintf(out, "%s%s at %s:%d\n", prefix, f->func, f->file, f->line);
    else
        fprintf(out, "%s%s in %s\n", prefix, f->func, f->file);
}

CSP_RT void csp__print_stack(FILE *out, const uintptr_t *pcs, int n)
{
    bool leading = true;
    for (int i = 0; i < n; i++) {
        csp_frame_info f;
        csp__symbolize(pcs[i], false, &f);
        bool rt = is_runtime_frame(&f);
        if (leading && rt)
            continue;
        /* Past the user's frames, the runtime again: a task's start. */
        if (!leading && rt)
            break;
        leading = false;
        print_frame(out, "    ", &f);
        /* Below main or a thread's start routine lies libc: stop there. */
        if (strcmp(f.func, "main") == 0)
            break;
    }
}

CSP_RT void csp__print_created_by(FILE *out, uintptr_t pc)
{
    csp_frame_info f;
    csp__symbolize(pc, false, &f);
    if (is_runtime_frame(&f))
        return;   /* made by the runtime or the harness itself (a run's entry) */
    print_frame(out, "created by ", &f);
}
