/*
 * match.c - glob matching for test selection (test=<glob>) and debugger
 * symbol patterns (x nt!Ke*Dpc*).  Kept apart from string.c so host tests
 * can build it without clashing with the host's libc.
 */
#include <irqlab/rtl.h>

static BOOLEAN same(char a, char b, BOOLEAN Insensitive)
{
    if (Insensitive) {
        a = a >= 'A' && a <= 'Z' ? (char)(a - 'A' + 'a') : a;
        b = b >= 'A' && b <= 'Z' ? (char)(b - 'A' + 'a') : b;
    }
    return a == b;
}

static BOOLEAN match(const char *p, const char *t, BOOLEAN Insensitive)
{
    const char *star = NULL, *resume = NULL;

    /* Greedy with backtracking to the last '*': linear in practice. */
    while (*t) {
        if (*p == '?' || (*p && same(*p, *t, Insensitive))) {
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

BOOLEAN RtlMatchGlob(const char *p, const char *t)
{
    return match(p, t, FALSE);
}

BOOLEAN RtlMatchGlobInsensitive(const char *p, const char *t)
{
    return match(p, t, TRUE);
}
