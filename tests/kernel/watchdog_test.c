/*
 * watchdog_test.c - the DPC watchdog: a DPC that runs too long, and a CPU
 * that stays at DISPATCH_LEVEL too long, end in 0x133 with NT's P1; short
 * ones only use up some of the allowance.  The bugcheck tests shorten this
 * CPU's limits (KPRCB fields, as the command line would) so they end fast.
 * And the clock watchdog: a CPU with interrupts off is reported (0x101) by
 * another CPU's tick, or by an IPI barrier it never reaches.
 */
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>

/* The command line's defaults (500 ms and 5 s) in ticks of the running clock. */
static ULONG ticks_of(ULONG Ms)
{
    return (ULONG)(((ULONG64)Ms * 10000 + KeQueryTimeIncrement() - 1) / KeQueryTimeIncrement());
}

TEST(watchdog, limits_are_the_scaled_defaults)
{
    KDPC_WATCHDOG_INFORMATION info;
    KIRQL old;

    CHECK_EQ(KtWaitTicks(1), 1); /* a tick below DISPATCH_LEVEL refills the stretch */
    CHECK_EQ(KeQueryDpcWatchdogInformation(&info), STATUS_UNSUCCESSFUL); /* no DPC, below DISPATCH */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_EQ(KeQueryDpcWatchdogInformation(&info), STATUS_SUCCESS);
    KeLowerIrql(old);
    CHECK_EQ(info.DpcTimeLimit, ticks_of(500));
    CHECK_EQ(info.DpcWatchdogLimit, ticks_of(5000));
    CHECK_GE(info.DpcWatchdogCount, info.DpcWatchdogLimit - 1); /* at most the tick since the raise */
}

static KDPC_WATCHDOG_INFORMATION KtInside;
static ULONG KtTicksInside;

static VOID three_ticks(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KtTicksInside = KtWaitTicks(3);
    KeQueryDpcWatchdogInformation(&KtInside);
}

TEST(watchdog, a_dpc_uses_up_its_allowance_tick_by_tick)
{
    KDPC dpc;

    KeInitializeDpc(&dpc, three_ticks, NULL);
    KeInsertQueueDpc(&dpc, NULL, NULL);
    CHECK_EQ(KtTicksInside, 3);
    CHECK_EQ(KtInside.DpcTimeCount, KtInside.DpcTimeLimit - 3);
    CHECK_LE(KtInside.DpcWatchdogCount, KtInside.DpcWatchdogLimit - 3);
}

static VOID spin_forever(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (;;)
        KeStallExecutionProcessor(1000);
}

TEST_BUGCHECK(watchdog, a_dpc_that_spins, DPC_WATCHDOG_VIOLATION)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    static KDPC dpc;

    prcb->DpcTimeLimit = 4;
    TEST_EXPECT_PARAM(1, 0);
    TEST_EXPECT_PARAM(2, 5); /* the tick after the allowance ran out */
    TEST_EXPECT_PARAM(3, 4);
    KeInitializeDpc(&dpc, spin_forever, NULL);
    KeInsertQueueDpc(&dpc, NULL, NULL);
}

TEST_BUGCHECK(watchdog, staying_at_dispatch_level, DPC_WATCHDOG_VIOLATION)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    KeRaiseIrqlToDpcLevel();
    prcb->DpcWatchdogPeriod = prcb->DpcWatchdogCount = 8;
    TEST_EXPECT_PARAM(1, 1);
    TEST_EXPECT_PARAM(2, 8);
    for (;;)
        KeStallExecutionProcessor(1000);
}

TEST_BUGCHECK(watchdog, a_cpu_with_interrupts_off, CLOCK_WATCHDOG_TIMEOUT)
{
    TEST_EXPECT_PARAM(1, ticks_of(4000));
    TEST_EXPECT_PARAM(3, KeGetCurrentPrcb());
    TEST_EXPECT_PARAM(4, KeGetCurrentProcessorNumber());
    arch_disable_interrupts(); /* the DPC watchdog runs in the clock interrupt: it cannot see this */
    for (;;)
        arch_pause();
}

static KDPC KtSilentDpc;
static volatile LONG KtSilent;

static VOID goes_silent(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    arch_disable_interrupts();
    KtSilent = 1;
    for (;;)
        arch_pause();
}

static ULONG_PTR nothing(ULONG_PTR Context)
{
    return Context;
}

/* Every other CPU waits in the barrier at IPI_LEVEL, taking no tick: the barrier itself reports. */
TEST_BUGCHECK(watchdog, an_ipi_barrier_a_cpu_never_reaches, CLOCK_WATCHDOG_TIMEOUT)
{
    ULONG last = (ULONG)KeNumberProcessors - 1;

    TEST_EXPECT_PARAM(1, ticks_of(4000));
    TEST_EXPECT_PARAM(3, KiProcessorBlock[last]);
    TEST_EXPECT_PARAM(4, last);
    KeInitializeDpc(&KtSilentDpc, goes_silent, NULL);
    KeSetImportanceDpc(&KtSilentDpc, HighImportance);
    KeSetTargetProcessorDpc(&KtSilentDpc, (CCHAR)last);
    KeInsertQueueDpc(&KtSilentDpc, NULL, NULL);
    while (!KtSilent)
        arch_pause();
    KeIpiGenericCall(nothing, 0);
}
