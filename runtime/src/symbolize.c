/* symbolize.c — DWARF symbolization with elfutils libdw (see symbolize.h),
 * inlined calls expanded into frames of their own, and the one place that
 * knows which addresses are chanlab's own code (by address range).
 * One Dwfl session per process, made on first use and re-made when a pc
 * falls outside every module it knows (a library loaded later). */
#include "symbolize.h"
#include "base.h"
#include "csp_debug.h"

#include <dwarf.h>
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

static CSP_RT void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* A source path as dumps show it: clang's "./" compilation directory off. */
static CSP_RT void set_file(csp_frame_info *f, const char *file, int line)
{
    while (file[0] == '.' && file[1] == '/')
        file += 2;
    copy_str(f->file, sizeof f->file, file);
    f->line = line;
}

/* The compile unit that holds `at` (module-relative: at - bias). */
static CSP_RT bool cu_of(Dwfl_Module *mod, Dwarf_Addr at, Dwarf_Die *cu, Dwarf_Addr *bias)
{
    Dwarf_Die *d = dwfl_module_addrdie(mod, at, bias);
    if (d) {
        *cu = *d;
        return true;
    }
    Dwarf *dw = dwfl_module_getdwarf(mod, bias);
    if (!dw)
        return false;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        if (dwarf_offdie(dw, off + hsize, cu) && dwarf_haspc(cu, at - *bias) > 0)
            return true;
        off = next;
    }
    return false;
}

/* Without .debug_aranges (clang's default) libdw may not find the CU of an
 * address by itself: cu_of looks through the CUs for the one that holds it. */
static CSP_RT Dwarf_Line *getsrc_by_cu_scan(Dwfl_Module *mod, Dwarf_Addr at)
{
    Dwarf_Die cu;
    Dwarf_Addr bias;
    return cu_of(mod, at, &cu, &bias) ? dwarf_getsrc_die(&cu, at - bias) : NULL;
}

/* A function's name as the source spells it: an inlined or out-of-line
 * instance names its abstract origin (so gcc's f.constprop.0 is f). */
static CSP_RT const char *die_func_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

/* Where an inlined instance was called from: its DW_AT_call_file/_line. */
static CSP_RT bool call_site(Dwarf_Die *inl, Dwarf_Die *cu, const char **file, int *line)
{
    Dwarf_Attribute a;
    Dwarf_Word fidx, lno;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &fidx) != 0 ||
        dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &lno) != 0 ||
        dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || fidx >= nfiles)
        return false;
    *file = dwarf_filesrc(files, fidx, NULL, NULL);
    *line = (int)lno;
    return *file != NULL;
}

static CSP_RT bool is_function_scope(Dwarf_Die *d)
{
    int tag = dwarf_tag(d);
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* Fills out[1..] with the callers that the compiler inlined `at` into, as
 * `eu-addr2line -i` shows them: out[0] is the innermost function (its line
 * from the line table, already set); each DW_TAG_inlined_subroutine scope
 * contributes its caller's name and the call site's file:line. Returns the
 * number of frames filled in all (at least 1). */
static CSP_RT int expand_inlined(Dwfl_Module *mod, Dwarf_Addr at, csp_frame_info *out, int max)
{
    Dwarf_Die cu;
    Dwarf_Addr bias;
    if (!cu_of(mod, at, &cu, &bias))
        return 1;
    Dwarf_Die *scopes = NULL;
    int ns = dwarf_getscopes(&cu, at - bias, &scopes);
    /* As eu-addr2line -i does: dwarf_getscopes lists what holds the pc;
     * dwarf_getscopes_die from the innermost of those lists the concrete
     * chain of functions it was inlined into. */
    if (ns > 0) {
        Dwarf_Die inner = scopes[0];
        free(scopes);
        scopes = NULL;
        ns = dwarf_getscopes_die(&inner, &scopes);
    }
    int n = 1;
    bool named = false;
    for (int i = 0; i < ns && n <= max; i++) {
        if (!is_function_scope(&scopes[i]))
            continue;
        if (!named) {   /* the innermost function names out[0] */
            const char *name = die_func_name(&scopes[i]);
            if (name)
                copy_str(out[0].func, sizeof out[0].func, name);
            named = true;
        }
        if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine || n >= max)
            continue;
        const char *file;
        int line;
        if (!call_site(&scopes[i], &cu, &file, &line))
            break;
        const char *caller = NULL;
        for (int j = i + 1; j < ns && !caller; j++)
            if (is_function_scope(&scopes[j]))
                caller = die_func_name(&scopes[j]);
        copy_str(out[n].func, sizeof out[n].func, caller ? caller : "?");
        set_file(&out[n], file, line);
        n++;
    }
    free(scopes);
    return n;
}

CSP_RT int csp__symbolize_frames(uintptr_t pc, bool exact, csp_frame_info *out, int max)
{
    uintptr_t at = exact || pc == 0 ? pc : pc - 1;
    snprintf(out->func, sizeof out->func, "0x%" PRIxPTR, pc);
    copy_str(out->file, sizeof out->file, "?");
    out->line = 0;
    int n = 0;
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
            n = 1;
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
            set_file(out, file, lineno);
            n = expand_inlined(mod, at, out, max);
        } else {
            const char *mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            if (mname)
                copy_str(out->file, sizeof out->file, mname);
        }
    }
    csp_lock_release(&sym_lock);
    return n;
}

CSP_RT bool csp__symbolize(uintptr_t pc, bool exact, csp_frame_info *out)
{
    csp_frame_info frames[CSP_MAX_INLINE];
    int n = csp__symbolize_frames(pc, exact, frames, CSP_MAX_INLINE);
    *out = frames[0];   /* the innermost: where the pc really is */
    return n > 0;
}

/* ------------------------------------------------ chanlab's own code */
/* Library frames are told by address, never by name or path: every function
 * of the runtime is compiled into the section "chanlab_text" (CSP_RT, which
 * carries CSP_TOOL_CODE), whose bounds the linker provides; a tool (the
 * harness, a separate shared library) registers its own section the same
 * way. A user's csp_something, or a file under a folder named runtime/src,
 * is the user's. Hidden references: in a shared library they are that
 * library's own section, in a static link the program's merged one. */
extern const char __start_chanlab_text[] __attribute__((visibility("hidden")));
extern const char __stop_chanlab_text[] __attribute__((visibility("hidden")));

#define CODE_RANGES_MAX 8
static struct { _Atomic uintptr_t lo, hi; } code_ranges[CODE_RANGES_MAX];
static _Atomic int ncode_ranges;

CSP_RT void csp_debug_register_code(const void *lo, const void *hi)
{
    int i = atomic_fetch_add(&ncode_ranges, 1);
    if (i >= CODE_RANGES_MAX) {
        atomic_fetch_sub(&ncode_ranges, 1);
        return;
    }
    atomic_store(&code_ranges[i].lo, (uintptr_t)lo);
    atomic_store(&code_ranges[i].hi, (uintptr_t)hi);
}

/* Async-signal-safe: plain loads, no lock. */
CSP_RT bool csp__library_pc(uintptr_t pc, bool exact)
{
    uintptr_t at = exact || pc == 0 ? pc : pc - 1;
    if (at >= (uintptr_t)__start_chanlab_text && at < (uintptr_t)__stop_chanlab_text)
        return true;
    int n = atomic_load(&ncode_ranges);
    for (int i = 0; i < n && i < CODE_RANGES_MAX; i++)
        if (at >= atomic_load(&code_ranges[i].lo) && at < atomic_load(&code_ranges[i].hi))
            return true;
    return false;
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
        bool rt = csp__library_pc(pcs[i], false);
        if (leading && rt)
            continue;
        /* Past the user's frames, the runtime again: a task's start. */
        if (!leading && rt)
            break;
        leading = false;
        csp_frame_info f[CSP_MAX_INLINE];
        int nf = csp__symbolize_frames(pcs[i], false, f, CSP_MAX_INLINE);
        if (nf == 0)
            nf = 1;   /* unknown: "0x... in ?" */
        bool at_main = false;
        for (int k = 0; k < nf; k++) {
            print_frame(out, "    ", &f[k]);
            at_main |= strcmp(f[k].func, "main") == 0;
        }
        /* Below main or a thread's start routine lies libc: stop there. */
        if (at_main)
            break;
    }
}

CSP_RT void csp__print_created_by(FILE *out, uintptr_t pc)
{
    if (csp__library_pc(pc, false))
        return;   /* made by the runtime or the harness itself (a run's entry) */
    csp_frame_info f;
    csp__symbolize(pc, false, &f);
    print_frame(out, "created by ", &f);
}
