/*
 * test.h - irqlab's in-kernel test registry (see docs/testing.md).
 *
 *   #include <irqlab/test.h>
 *   TEST(rtl, format_hex) { CHECK_EQ(RtlFormat(b, 8, "%x", 255), 2); }
 *   TEST_BUGCHECK(mm, null_read, KMODE_EXCEPTION_NOT_HANDLED) { ... fault ... }
 *
 * TEST registers a function in the .ktests section; the kernel runs the ones
 * the command line selects (test=all, test=<suite>, test=<glob>) and prints
 * KTAP.  CHECK_* record a failure and go on; REQUIRE_* also return from the
 * test.  A TEST_BUGCHECK test must end in that bugcheck: the harness boots
 * it alone, and TEST_EXPECT_PARAM pins the parameters it must carry.
 */
#ifndef IRQLAB_TEST_H
#define IRQLAB_TEST_H

#include <irqlab/ke.h>

typedef struct _KTEST {
    PCSTR Suite;
    PCSTR Name;
    VOID (*Routine)(VOID);
    ULONG ExpectedBugCheck;
    BOOLEAN ExpectsBugCheck;
    PCSTR File;
    ULONG Line;
} KTEST, *PKTEST;

#define KT_REGISTER(suite, name, expects, code)                                              \
    static VOID KtRoutine_##suite##_##name(VOID);                                            \
    static const KTEST KtEntry_##suite##_##name                                              \
        __attribute__((used, section(".ktests"), aligned(8))) = {                            \
            #suite, #name, KtRoutine_##suite##_##name, (code), (expects), __FILE__, __LINE__ \
        };                                                                                   \
    static VOID KtRoutine_##suite##_##name(VOID)

#define TEST(suite, name) KT_REGISTER(suite, name, FALSE, 0)
#define TEST_BUGCHECK(suite, name, code) KT_REGISTER(suite, name, TRUE, code)

enum { KT_EQ, KT_NE, KT_LT, KT_LE, KT_GT, KT_GE };

/* Each returns TRUE when the check held; a failure is printed and counted. */
BOOLEAN KtCheck(BOOLEAN Ok, PCSTR File, ULONG Line, PCSTR Text);
/* Signed compares when both operands have signed types, unsigned otherwise. */
BOOLEAN KtCompare(PCSTR File, ULONG Line, PCSTR TextA, PCSTR TextB, ULONG64 A, ULONG64 B, int Op,
                  BOOLEAN Signed);
BOOLEAN KtCompareStrings(PCSTR File, ULONG Line, PCSTR TextA, PCSTR TextB, PCSTR A, PCSTR B);
/* Pins bugcheck parameter Index (1..4) of the expected bugcheck to Value. */
VOID KtExpectBugCheckParameter(ULONG Index, ULONG_PTR Value);

/* Marks the running test skipped (KTAP "# SKIP Reason") unless a check failed. */
VOID KtSkip(PCSTR Reason);

/*
 * Waits, interrupts on, until this CPU has taken Ticks more clock interrupts
 * (bounded at about 100 ms a tick); returns how many it took.
 */
ULONG KtWaitTicks(ULONG Ticks);

/* Busy-waits `Ticks` clock periods of TSC time, at whatever IRQL the caller is. */
VOID KtStallTicks(ULONG Ticks);

#define CHECK(e) KtCheck(!!(e), __FILE__, __LINE__, "CHECK(" #e ")")
/* After the usual promotions, so char and short count as int. */
#define KT_IS_SIGNED(x) _Generic((x) + 0, int: 1, long: 1, long long: 1, default: 0)
#define KT_CMP(a, b, op)                                                                   \
    KtCompare(__FILE__, __LINE__, #a, #b, (ULONG64)(a), (ULONG64)(b), op,                  \
              KT_IS_SIGNED(a) && KT_IS_SIGNED(b))
#define CHECK_EQ(a, b) KT_CMP(a, b, KT_EQ)
#define CHECK_NE(a, b) KT_CMP(a, b, KT_NE)
#define CHECK_LT(a, b) KT_CMP(a, b, KT_LT)
#define CHECK_LE(a, b) KT_CMP(a, b, KT_LE)
#define CHECK_GT(a, b) KT_CMP(a, b, KT_GT)
#define CHECK_GE(a, b) KT_CMP(a, b, KT_GE)
#define CHECK_STR_EQ(a, b) KtCompareStrings(__FILE__, __LINE__, #a, #b, (a), (b))

#define REQUIRE(e)                  \
    do {                            \
        if (!CHECK(e))              \
            return;                 \
    } while (0)
#define REQUIRE_EQ(a, b)            \
    do {                            \
        if (!CHECK_EQ(a, b))        \
            return;                 \
    } while (0)

/* Skips the rest of the test when the machine cannot show the behaviour (one CPU, say). */
#define SKIP_UNLESS(e, reason)      \
    do {                            \
        if (!(e)) {                 \
            KtSkip(reason);         \
            return;                 \
        }                           \
    } while (0)

#define TEST_EXPECT_PARAM(index, value) KtExpectBugCheckParameter((index), (ULONG_PTR)(value))

/* The runner (kernel/kt/test.c), for the boot sequence: test= on the command line runs the
 * selected tests at PASSIVE_LEVEL on CPU 0, prints KTAP and exits QEMU (docs/testing.md). */
BOOLEAN KtTestsRequested(VOID);
DECLSPEC_NORETURN VOID KtRunTests(VOID);

#endif
