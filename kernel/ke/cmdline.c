/*
 * cmdline.c - the kernel command line: space-separated key=value words read
 * by the loader from \irqlab\cmdline.txt.  Unknown keys are reported, not
 * silently ignored, so a typo in a lab's command line is visible at boot.
 * Each floor declares the keys it reads in the .kopts section, so this list
 * knows the runners' keys without calling up to them.
 */
#include <irqlab/bootinfo.h>
#include <irqlab/rtl.h>
#include "ki.h"

#define MAX_OPTIONS 32

/* Ke's own keys; the floors above declare theirs where they read them (KE_COMMAND_LINE_OPTION). */
KE_COMMAND_LINE_OPTION(tick, "tick", "tick=<hz>: clock interrupt rate, 16-1000 (default 64, Windows' 15.625 ms)");
KE_COMMAND_LINE_OPTION(numproc, "numproc", "numproc=<n>: start at most n processors, 1-64 (NT's /NUMPROC)");
KE_COMMAND_LINE_OPTION(depth, "dpcqueuedepth", "dpcqueuedepth=<n>: queue depth that forces a DPC request (NT's default 4)");
KE_COMMAND_LINE_OPTION(minrate, "minimumdpcrate", "minimumdpcrate=<n>: DPCs per tick below which any DPC requests (3)");
KE_COMMAND_LINE_OPTION(idealrate, "idealdpcrate", "idealdpcrate=<n>: DPCs per tick the depth adapts toward (20)");
KE_COMMAND_LINE_OPTION(adjust, "adjustdpcthreshold", "adjustdpcthreshold=<n>: quiet ticks before the depth grows back (20)");
KE_COMMAND_LINE_OPTION(dpclimit, "dpctimelimit", "dpctimelimit=<ms>: one DPC's limit before bugcheck 0x133 (500; 0 off)");
KE_COMMAND_LINE_OPTION(dpcperiod, "dpcwatchdogperiod", "dpcwatchdogperiod=<ms>: time at >= DISPATCH before 0x133 (5000; 0 off)");
KE_COMMAND_LINE_OPTION(clockdog, "clockwatchdog", "clockwatchdog=<ms>: a CPU without a clock tick before 0x101 (4000, at least 1000; 0 off)");

extern const KCOMMAND_LINE_OPTION __start_kopts[], __stop_kopts[];

static char KiCommandLine[IRQLAB_CMDLINE_MAX];
static struct {
    PCSTR Key;
    PCSTR Value;
} KiOptions[MAX_OPTIONS];
static ULONG KiOptionCount;

static BOOLEAN option_known(PCSTR key)
{
    for (const KCOMMAND_LINE_OPTION *o = __start_kopts; o < __stop_kopts; o++)
        if (strcmp(o->Key, key) == 0)
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
        for (const KCOMMAND_LINE_OPTION *o = __start_kopts; o < __stop_kopts; o++)
            DbgPrint("    %s\n", o->Help);
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

VOID KeParseCommandLine(PCSTR CommandLine)
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

ULONG KeGetCommandLineNumber(PCSTR Key, ULONG Minimum, ULONG Maximum, ULONG Default)
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
