/*
 * kdfuzz_test.c - thousands of random and malformed console lines: every
 * one gets an answer (some output), and the kernel is still up, at
 * PASSIVE_LEVEL, with no CPU held, afterwards.  Commands that end the boot
 * on purpose (quit, q, reboot, .crash, !labcrash <kind>), hold a CPU for
 * seconds (!labhold, !labirql) or set a breakpoint that would stop the
 * machine with nobody at the prompt (bp, bu, ba) are left out; everything else
 * is fair game.
 */
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>

#define LINES 3000

extern const KD_COMMAND __start_kdcmds[], __stop_kdcmds[];

static const PCSTR KtUnsafe[] = { "quit", "q", "reboot", ".crash", "!labcrash", "!labhold", "!labirql", "bp", "bu",
                                  "ba" };

static const PCSTR KtTokens[] = {
    "0", "1", "ffffffff`ffffffff", "fffff800`4150b2e0", "0n123", "0y101", "0x", "0n", "`", "L", "L10", "L0n100000",
    "Lffffffffffffffff", "KiProcessorBlock", "irqlab!KiProcessorBlock", "poi(KiProcessorBlock)", "poi(0)", "poi(",
    "(", ")", "((((((((", "+", "-", "*", "/", "1/0", "8000000000000000", "123456789abcdef0123", "_KDPC",
    "_KDPC_DATA", "_KPRCB", "nt!_KPCR", "_KTIMER", "_NOPE", "KiIdleLoop+5", "-1", "~0", "cancel", "off", "low",
    "high", "medium", "3", "40", "ff", "0n64", "100000", "@$prcb", "$pcr", "@$", "nt!KiProcessorBlock", "-r", "-r9",
    "-a", "-y", "Dpc*", "DpcData", "_KINTERRUPT", "KDPC", "foo!_KDPC",
    "@rip", "@rsp", "@$thread", "@cr8", "@nope", "by(0)", "dwo(KiProcessorBlock)", "qwo(", "+ 8", "1 / 0", "nt!Ke*Dpc*", "irqlab!*", "foo!*", "*!*", "m", "nt",
};

static ULONG64 KtRandom = 0x2545f4914f6cdd1dull;

static ULONG next(ULONG Bound)
{
    KtRandom ^= KtRandom << 13;
    KtRandom ^= KtRandom >> 7;
    KtRandom ^= KtRandom << 17;
    return (ULONG)(KtRandom % Bound);
}

static BOOLEAN safe(PCSTR Name)
{
    for (ULONG i = 0; i < ARRAYSIZE(KtUnsafe); i++)
        if (strcmp(Name, KtUnsafe[i]) == 0)
            return FALSE;
    return TRUE;
}

static VOID append(char *Line, ULONG *Length, ULONG Size, PCSTR Text)
{
    for (; *Text && *Length + 1 < Size; Text++)
        Line[(*Length)++] = *Text;
    Line[*Length] = '\0';
}

/* A safe command name, then a few tokens, random bytes or one very long word. */
static VOID random_line(char *Line, ULONG Size)
{
    ULONG length = 0, commands = (ULONG)(__stop_kdcmds - __start_kdcmds), kind = next(10);
    const KD_COMMAND *c = &__start_kdcmds[next(commands)];

    Line[0] = '\0';
    if (kind == 0) { /* bytes: control characters, high bytes, no command at all */
        for (ULONG n = 1 + next(60); length + 1 < Size && n; n--)
            Line[length++] = (char)(1 + next(255));
        Line[length] = '\0';
        return;
    }
    append(Line, &length, Size, safe(c->Name) ? c->Name : "help");
    for (ULONG words = next(5); words; words--) {
        append(Line, &length, Size, " ");
        if (kind == 1)
            for (ULONG n = 200 + next(200); n; n--)
                append(Line, &length, Size, next(2) ? "f" : "`");
        else
            append(Line, &length, Size, KtTokens[next(ARRAYSIZE(KtTokens))]);
    }
}

TEST(kdfuzz, every_random_line_gets_an_answer_and_the_kernel_stays_up)
{
    static char line[600], output[8192];
    ULONG silent = 0;

    for (ULONG i = 0; i < LINES; i++) {
        random_line(line, sizeof(line));
        KiCaptureOutput(output, sizeof(output));
        KdExecuteLine(line);
        size_t answered = KiCapturedLength();
        KiCaptureOutput(NULL, 0);
        if (answered == 0 && line[0] != '\0' && line[0] != ' ' && silent++ < 5)
            DbgPrint("    # no answer to '%s'\n", line);
        REQUIRE(KeGetCurrentIrql() == PASSIVE_LEVEL);
    }
    CHECK_EQ(silent, 0);
    KdExecuteLine("!labtimer cancel"); /* a random line may have armed it */
    KdExecuteLine("!kbddemo off");
    KeFlushQueuedDpcs();
    for (LONG n = 0; n < KeNumberProcessors; n++)
        CHECK(!KiProcessorBlock[n]->Irqlab.HoldAtDispatch);
}

/* The prompt's own promise: an unknown command and a bad number are answered, not ignored. */
TEST(kdfuzz, errors_are_said_in_one_line)
{
    static char output[512];

    KiCaptureOutput(output, sizeof(output));
    KdExecuteLine("nosuchcommand 1 2 3");
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(output, "Unknown command 'nosuchcommand'; type help for the list\n");
    KiCaptureOutput(output, sizeof(output));
    KdExecuteLine("!prcb 0n99");
    KiCaptureOutput(NULL, 0);
    CHECK(strncmp(output, "Processor 63 is not online", 26) == 0);
    KiCaptureOutput(output, sizeof(output));
    KdExecuteLine("? 1/0");
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(output, "Divide by zero error in '1/0'\n");
    KiCaptureOutput(output, sizeof(output));
    KdExecuteLine("? poi(0)");
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(output, "Memory access error at '00000000`00000000'\n");
    KiCaptureOutput(output, sizeof(output));
    KdExecuteLine("? 1 +");
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(output, "Syntax error in '1 +' at '': missing operand\n");
}
