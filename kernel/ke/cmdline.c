/*
 * cmdline.c - the kernel command line: space-separated key=value words read
 * by the loader from \irqlab\cmdline.txt.  Unknown keys are reported, not
 * silently ignored, so a typo in a lab's command line is visible at boot.
 */
#include <irqlab/bootinfo.h>
#include <irqlab/rtl.h>
#include "ki.h"

#define MAX_OPTIONS 32

/* Every key the kernel understands, with what it does (printed for a typo). */
static const struct {
    PCSTR Key;
    PCSTR Help;
} KiKnownOptions[] = {
    { "test", "test=all|<suite>|<glob on suite.name>: run in-kernel tests and exit" },
    { "bench", "bench=all|<suite>|<glob>: run benchmarks, print the table and exit (make bench)" },
    { "tick", "tick=<hz>: clock interrupt rate, 16-1000 (default 64, Windows' 15.625 ms)" },
    { "apic", "apic=xapic: use the xAPIC MMIO interface even when x2APIC exists" },
    { "numproc", "numproc=<n>: start at most n processors, 1-64 (NT's /NUMPROC)" },
    { "dpcqueuedepth", "dpcqueuedepth=<n>: queue depth that forces a DPC request (NT's default 4)" },
    { "minimumdpcrate", "minimumdpcrate=<n>: DPCs per tick below which any DPC requests (3)" },
    { "idealdpcrate", "idealdpcrate=<n>: DPCs per tick the depth adapts toward (20)" },
    { "adjustdpcthreshold", "adjustdpcthreshold=<n>: quiet ticks before the depth grows back (20)" },
    { "dpctimelimit", "dpctimelimit=<ms>: one DPC's limit before bugcheck 0x133 (500; 0 off)" },
    { "storm", "storm=<n>: DPC operations per CPU for the storm test (test=storm.*; default 40000)" },
    { "dpcwatchdogperiod", "dpcwatchdogperiod=<ms>: time at >= DISPATCH before 0x133 (5000; 0 off)" },
    { "clockwatchdog", "clockwatchdog=<ms>: a CPU without a clock tick before 0x101 (4000, at least 1000; 0 off)" },
};

static char KiCommandLine[IRQLAB_CMDLINE_MAX];
static struct {
    PCSTR Key;
    PCSTR Value;
} KiOptions[MAX_OPTIONS];
static ULONG KiOptionCount;

static BOOLEAN option_known(PCSTR key)
{
    for (size_t i = 0; i < ARRAYSIZE(KiKnownOptions); i++)
        if (strcmp(KiKnownOptions[i].Key, key) == 0)
            return TRUE;
    return FALSE;
}

static void add_option(char *word)
{
    char *eq = strchr(word, '=');
    PCSTR value = "";

    if (eq) {
        *eq = '\0';
        value = eq + 1;
    }
    if (!option_known(word)) {
        DbgPrint("irqlab: ignoring unknown command-line option '%s'; known options:\n", word);
        for (size_t i = 0; i < ARRAYSIZE(KiKnownOptions); i++)
            DbgPrint("    %s\n", KiKnownOptions[i].Help);
        return;
    }
    if (KiOptionCount == MAX_OPTIONS) {
        DbgPrint("irqlab: more than %u command-line options; ignoring '%s'\n", MAX_OPTIONS, word);
        return;
    }
    KiOptions[KiOptionCount].Key = word;
    KiOptions[KiOptionCount].Value = value;
    KiOptionCount++;
}

void KiParseCommandLine(PCSTR CommandLine)
{
    size_t n = strnlen(CommandLine, sizeof(KiCommandLine) - 1);
    char *p = KiCommandLine;

    memcpy(KiCommandLine, CommandLine, n);
    KiCommandLine[n] = '\0';
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
        add_option(word);
    }
}

PCSTR KeGetCommandLineValue(PCSTR Key)
{
    /* The last occurrence wins, as with most kernels' command lines. */
    for (ULONG i = KiOptionCount; i-- > 0;)
        if (strcmp(KiOptions[i].Key, Key) == 0)
            return KiOptions[i].Value;
    return NULL;
}

ULONG KiCommandLineNumber(PCSTR Key, ULONG Minimum, ULONG Maximum, ULONG Default)
{
    PCSTR value = KeGetCommandLineValue(Key), p = value;
    ULONG n = 0;

    if (value == NULL)
        return Default;
    for (; *p >= '0' && *p <= '9' && n <= Maximum; p++)
        n = n * 10 + (ULONG)(*p - '0');
    if (*p != '\0' || p == value || n < Minimum || n > Maximum) {
        DbgPrint("irqlab: %s=%s is not a number from %u to %u; using %u\n", Key, value, Minimum, Maximum,
                 Default);
        return Default;
    }
    return n;
}
