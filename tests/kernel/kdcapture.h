/*
 * kdcapture.h - what the console's tests share: run a console line with its
 * output captured (KiCaptureOutput), and look for text in it.  Each test
 * file gets its own copy of the buffer: the tests run one at a time.
 */
#ifndef TESTS_KERNEL_KDCAPTURE_H
#define TESTS_KERNEL_KDCAPTURE_H

#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>

static char KtConsoleText[16384];

/* One console line (a format with at most one 64-bit argument); what it printed. */
static inline PCSTR KtRun(PCSTR Format, ULONG64 Address)
{
    char line[160];

    RtlFormat(line, sizeof(line), Format, Address);
    KiCaptureOutput(KtConsoleText, sizeof(KtConsoleText));
    KdExecuteLine(line);
    KiCaptureOutput(NULL, 0);
    return KtConsoleText;
}

static inline PCSTR KtRunLine(PCSTR Line)
{
    return KtRun("%s", (ULONG64)(ULONG_PTR)Line);
}

/* Is Part anywhere in Text[0..End) (End NULL: to the terminator)? */
static inline BOOLEAN KtContainsBefore(PCSTR Text, PCSTR End, PCSTR Part)
{
    size_t n = strlen(Part);

    for (; *Text && (End == NULL || Text + n <= End); Text++)
        if (strncmp(Text, Part, n) == 0)
            return TRUE;
    return FALSE;
}

static inline BOOLEAN KtContains(PCSTR Text, PCSTR Part)
{
    return KtContainsBefore(Text, NULL, Part);
}

/* How many times Part is in Text. */
static inline ULONG KtCount(PCSTR Text, PCSTR Part)
{
    ULONG n = 0;
    size_t len = strlen(Part);

    for (; *Text; Text++)
        n += strncmp(Text, Part, len) == 0;
    return n;
}

/* TRUE when Line is one whole line of Text. */
static inline BOOLEAN KtHasLine(PCSTR Text, PCSTR Line)
{
    size_t n = strlen(Line);

    for (PCSTR p = Text; *p; p++)
        if ((p == Text || p[-1] == '\n') && strncmp(p, Line, n) == 0 && p[n] == '\n')
            return TRUE;
    return FALSE;
}

static inline ULONG KtCountLines(PCSTR Text)
{
    return KtCount(Text, "\n");
}

#define CHECK_HAS(text, part)                                                                \
    do {                                                                                     \
        PCSTR t_ = (text);                                                                   \
        if (!CHECK(KtContains(t_, (part))))                                                  \
            DbgPrint("    # expected '%s' in:\n%s", (part), t_);                             \
    } while (0)

#define CHECK_LINE(text, line)                                                               \
    do {                                                                                     \
        if (!CHECK(KtHasLine((text), (line))))                                               \
            DbgPrint("    # expected line '%s' in:\n%s", (line), (text));                    \
    } while (0)

#endif
