/*
 * match.c - glob matching for test selection (test=<glob>) and, later,
 * debugger symbol patterns.  Kept apart from string.c so host tests can
 * build it without clashing with the host's libc.
 */
#include <irqlab/rtl.h>

BOOLEAN RtlMatchGlob(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;

    /* Greedy with backtracking to the last '*': linear in practice. */
    while (*t) {
        if (*p == '?' || (*p && *p == *t)) {
            p++, t++;
        } else if (*p == '*') {
            star = p++;
            resume = t;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return FALSE;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
