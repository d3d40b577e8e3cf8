/* ignore.c — goleak's IgnoreTopFunction and friends: tasks to leave out of
 * leak reports, named by fnmatch(3) globs matched against the task's name,
 * the function that called csp_go for it, and the top function of its stack
 * (its first frame outside chanlab's own code).
 *
 * Functions are matched by address, not by name at the time of the verdict:
 * before the run (in the parent, before forking) every function symbol of
 * every loaded module whose name matches a glob becomes an address range;
 * the child then only compares addresses. A child never symbolizes (libdw is
 * not async-signal-safe, and a child under a low descriptor limit may not be
 * able to open the ELF). A function inlined into another is known by the
 * function it was inlined into. */
#include "quiet.h"
#include "collect.h"

#include <elfutils/libdwfl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { uintptr_t lo, hi; } range;

struct harness_ignore {
    const char *const *patterns;
    range *ranges;
    size_t nranges, cap;
};

static HARNESS_CODE bool name_matches(const harness_ignore *ig, const char *name)
{
    for (const char *const *p = ig->patterns; name && *p; p++)
        if (fnmatch(*p, name, 0) == 0)
            return true;
    return false;
}

static HARNESS_CODE void add_range(harness_ignore *ig, uintptr_t lo, uintptr_t hi)
{
    if (ig->nranges == ig->cap) {
        size_t cap = ig->cap ? 2 * ig->cap : 16;
        range *p = realloc(ig->ranges, cap * sizeof *p);
        if (!p)
            return;
        ig->ranges = p;
        ig->cap = cap;
    }
    ig->ranges[ig->nranges++] = (range){ lo, hi };
}

static HARNESS_CODE int module_symbols(Dwfl_Module *mod, void **userdata, const char *mname, Dwarf_Addr start,
                          void *arg)
{
    (void)userdata;
    (void)mname;
    (void)start;
    harness_ignore *ig = arg;
    int n = dwfl_module_getsymtab(mod);
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (!name || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0)
            continue;
        /* gcc's clones (f.constprop.0, f.isra.0, f.part.0, f.cold) are f. */
        char base[256];
        size_t len = strcspn(name, ".");
        if (len == 0 || len >= sizeof base)
            continue;
        memcpy(base, name, len);
        base[len] = 0;
        if (name_matches(ig, base))
            add_range(ig, (uintptr_t)addr, (uintptr_t)(addr + sym.st_size));
    }
    return DWARF_CB_OK;
}

HARNESS_CODE harness_ignore *harness__ignore_make(const char *const *patterns)
{
    if (!patterns || !patterns[0])
        return NULL;
    harness_ignore *ig = calloc(1, sizeof *ig);
    if (!ig)
        return NULL;
    ig->patterns = patterns;
    static char *debuginfo_path;
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *dwfl = dwfl_begin(&callbacks);
    if (dwfl) {
        dwfl_report_begin(dwfl);
        if (dwfl_linux_proc_report(dwfl, getpid()) == 0 && dwfl_report_end(dwfl, NULL, NULL) == 0)
            dwfl_getmodules(dwfl, module_symbols, ig, 0);
        dwfl_end(dwfl);
    }
    return ig;
}

HARNESS_CODE void harness__ignore_free(harness_ignore *ig)
{
    if (!ig)
        return;
    free(ig->ranges);
    free(ig);
}

/* pc is a return address (or a fault pc + 1): the call lies just before it. */
static HARNESS_CODE bool in_ranges(const harness_ignore *ig, uintptr_t pc)
{
    for (size_t i = 0; pc && i < ig->nranges; i++)
        if (pc - 1 >= ig->ranges[i].lo && pc - 1 < ig->ranges[i].hi)
            return true;
    return false;
}

HARNESS_CODE bool harness__ignore_matches(const harness_ignore *ig, const csp_debug_task *t)
{
    if (!ig)
        return false;
    if (name_matches(ig, t->name) || in_ranges(ig, t->created_pc))
        return true;
    for (int i = 0; i < t->npcs; i++)
        if (!csp_debug_library_pc(t->pcs[i]))
            return in_ranges(ig, t->pcs[i]);
    return false;
}
