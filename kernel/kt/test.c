/*
 * test.c - runs the tests the command line selects and prints KTAP.
 *
 * Tests come from the .ktests section (TEST/TEST_BUGCHECK in
 * <irqlab/test.h>), in link order.  The output contract the host harness
 * parses is in docs/testing.md.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kequery.h>
#include <irqlab/trace.h>

extern const KTEST __start_ktests[], __stop_ktests[];

static const KTEST *KtCurrent;
static ULONG KtFailures;
static PCSTR KtSkipReason;
static struct {
    BOOLEAN Pinned;
    ULONG_PTR Value;
} KtExpected[4];

BOOLEAN KtCheck(BOOLEAN Ok, PCSTR File, ULONG Line, PCSTR Text)
{
    if (!Ok) {
        KtFailures++;
        DbgPrint("    # %s failed at %s:%u\n", Text, File, Line);
    }
    return Ok;
}

/* -1, 0 or 1 as A is below, equal to or above B. */
static int compare(ULONG64 A, ULONG64 B, BOOLEAN Signed)
{
    if (Signed)
        return (LONG64)A < (LONG64)B ? -1 : (LONG64)A > (LONG64)B;
    return A < B ? -1 : A > B;
}

BOOLEAN KtCompare(PCSTR File, ULONG Line, PCSTR TextA, PCSTR TextB, ULONG64 A, ULONG64 B, int Op,
                  BOOLEAN Signed)
{
    static const char *const ops[] = { "EQ", "NE", "LT", "LE", "GT", "GE" };
    int c = compare(A, B, Signed);
    BOOLEAN ok = Op == KT_EQ ? c == 0 : Op == KT_NE ? c != 0 : Op == KT_LT ? c < 0
               : Op == KT_LE ? c <= 0 : Op == KT_GT ? c > 0 : c >= 0;

    if (!ok) {
        KtFailures++;
        DbgPrint("    # CHECK_%s(%s, %s) failed at %s:%u: %s = 0x%llx (%lld), %s = 0x%llx (%lld)\n",
                 ops[Op], TextA, TextB, File, Line, TextA, A, (LONG64)A, TextB, B, (LONG64)B);
    }
    return ok;
}

BOOLEAN KtCompareStrings(PCSTR File, ULONG Line, PCSTR TextA, PCSTR TextB, PCSTR A, PCSTR B)
{
    BOOLEAN ok = A && B && strcmp(A, B) == 0;

    if (!ok) {
        KtFailures++;
        DbgPrint("    # CHECK_STR_EQ(%s, %s) failed at %s:%u: \"%s\" vs \"%s\"\n", TextA, TextB, File,
                 Line, A, B);
    }
    return ok;
}

VOID KtStallTicks(ULONG Ticks)
{
    KeStallExecutionProcessor(Ticks * (KeQueryTimeIncrement() / 10));
}

ULONG KtWaitTicks(ULONG Ticks)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG start = prcb->ClockInterrupts;

    /* 100 ms a tick at most (six of the default 64 Hz ticks): a loaded TCG host is slow, not that slow. */
    for (ULONG i = 0; i < (Ticks + 4) * 100 && prcb->ClockInterrupts - start < Ticks; i++)
        KeStallExecutionProcessor(1000);
    return prcb->ClockInterrupts - start;
}

VOID KtExpectBugCheckParameter(ULONG Index, ULONG_PTR Value)
{
    ASSERT(Index >= 1 && Index <= 4);
    KtExpected[Index - 1].Pinned = TRUE;
    KtExpected[Index - 1].Value = Value;
}

/* A bugcheck callback (KeRegisterBugCheckCallback): the verdict on the code and parameters NT keeps in KiBugCheckData. */
static VOID KtBugCheckVerdict(PVOID Buffer, ULONG Length)
{
    ULONG code = (ULONG)KiBugCheckData[0];

    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    if (KtCurrent == NULL || !KtCurrent->ExpectsBugCheck)
        return;
    if (code != KtCurrent->ExpectedBugCheck) {
        DbgPrint("# bugcheck-verdict: not ok - code 0x%08X, expected 0x%08X\n", code,
                 KtCurrent->ExpectedBugCheck);
        return;
    }
    for (ULONG i = 0; i < 4; i++) {
        if (KtExpected[i].Pinned && KtExpected[i].Value != KiBugCheckData[i + 1]) {
            DbgPrint("# bugcheck-verdict: not ok - P%u = 0x%llx, expected 0x%llx\n", i + 1,
                     (ULONG64)KiBugCheckData[i + 1], (ULONG64)KtExpected[i].Value);
            return;
        }
    }
    DbgPrint("# bugcheck-verdict: ok\n");
}

static BOOLEAN selected(const KTEST *t, PCSTR selection)
{
    char full[96];

    if (strcmp(selection, "all") == 0)
        return TRUE;
    if (strcmp(selection, t->Suite) == 0)
        return TRUE;
    RtlFormat(full, sizeof(full), "%s.%s", t->Suite, t->Name);
    return RtlMatchGlob(selection, full);
}

VOID KtSkip(PCSTR Reason)
{
    KtSkipReason = Reason;
}

/* Runs one test; FALSE if a check failed or it broke the IRQL contract. */
static BOOLEAN run_one(const KTEST *t)
{
    KtCurrent = t;
    KtFailures = 0;
    KtSkipReason = NULL;
    t->Routine();
    KIRQL irql = (KIRQL)arch_read_cr8();
    if (irql != PASSIVE_LEVEL) {
        KtFailures++;
        DbgPrint("    # the test returned at IRQL %u (%s), not PASSIVE_LEVEL\n", irql, KeIrqlName(irql));
        arch_write_cr8(PASSIVE_LEVEL);
    }
    KtCurrent = NULL;
    return KtFailures == 0;
}

/* Booted alone for a bugcheck test: the bugcheck path prints the verdict. */
/* trace= on the command line: what the tests did leaves on COM2 (make trace SCENARIO=storm). */
static void dump_trace(void)
{
    ULONG crc;

    if (KeQueryTraceCategories() == 0)
        return;
    KeStopTrace();
    ULONG64 bytes = KeDumpTrace(&crc);
    if (bytes != 0)
        DbgPrint("trace: wrote %llu bytes to COM2 (crc32 %08x)\n", bytes, crc);
}

static DECLSPEC_NORETURN void run_bugcheck_test(const KTEST *t)
{
    static KBUGCHECK_CALLBACK_RECORD verdict;

    KeInitializeCallbackRecord(&verdict);
    KeRegisterBugCheckCallback(&verdict, KtBugCheckVerdict, NULL, 0, (PUCHAR) "irqlab tests");
    DbgPrint("# irqlab: running %s.%s, expecting bugcheck 0x%08X\n", t->Suite, t->Name,
             t->ExpectedBugCheck);
    run_one(t);
    DbgPrint("KTAP version 1\n1..1\nnot ok 1 - %s.%s # returned without bugcheck 0x%08X\n", t->Suite,
             t->Name, t->ExpectedBugCheck);
    DbgPrint("# irqlab: tests done: 0 passed, 1 failed, 0 skipped\n");
    arch_exit_emulator(ARCH_EXIT_TEST_FAILED);
}

KE_COMMAND_LINE_OPTION(test, "test", "test=all|<suite>|<glob on suite.name>: run in-kernel tests and exit");

BOOLEAN KtTestsRequested(VOID)
{
    return KeGetCommandLineValue("test") != NULL;
}

VOID KtRunTests(VOID)
{
    PCSTR selection = KeGetCommandLineValue("test");
    ULONG count = 0, number = 0, passed = 0, failed = 0, skipped = 0;
    const KTEST *only = NULL;

    for (const KTEST *t = __start_ktests; t < __stop_ktests; t++)
        if (selected(t, selection))
            count++, only = t;
    if (count == 0) {
        DbgPrint("# irqlab: no test matches 'test=%s' (use all, a suite, or a glob on suite.name)\n",
                 selection);
        DbgPrint("# irqlab: tests done: 0 passed, 1 failed, 0 skipped\n");
        arch_exit_emulator(ARCH_EXIT_TEST_FAILED);
    }
    if (count == 1 && only->ExpectsBugCheck)
        run_bugcheck_test(only);
    DbgPrint("KTAP version 1\n1..%u\n", count);
    for (const KTEST *t = __start_ktests; t < __stop_ktests; t++) {
        if (!selected(t, selection))
            continue;
        number++;
        if (t->ExpectsBugCheck) {
            skipped++;
            DbgPrint("ok %u - %s.%s # SKIP boot alone: expects bugcheck 0x%08X\n", number, t->Suite,
                     t->Name, t->ExpectedBugCheck);
            DbgPrint("# bugcheck-test: %s.%s 0x%08X\n", t->Suite, t->Name, t->ExpectedBugCheck);
        } else if (run_one(t) && KtSkipReason) {
            skipped++;
            DbgPrint("ok %u - %s.%s # SKIP %s\n", number, t->Suite, t->Name, KtSkipReason);
        } else if (KtFailures == 0) {
            passed++;
            DbgPrint("ok %u - %s.%s\n", number, t->Suite, t->Name);
        } else {
            failed++;
            DbgPrint("not ok %u - %s.%s\n", number, t->Suite, t->Name);
        }
    }
    dump_trace();
    DbgPrint("# irqlab: tests done: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
    arch_exit_emulator(failed ? ARCH_EXIT_TEST_FAILED : ARCH_EXIT_SUCCESS);
}
