/*
 * timer_test.c - KTIMER: one-shot and periodic, relative and absolute, with
 * a DPC; cancel; the signal state.  Expiry is decided by ticks against the
 * interrupt time, so counts are exact once the interrupt time has passed a
 * due time: the tick that reaches it has already run the timer's DPC by the
 * time code at PASSIVE_LEVEL sees the new time.
 */
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/timer.h>

#define MS 10000ll /* 100 ns units */

static struct {
    volatile ULONG Fired;
    KIRQL Irql;
    ULONG Cpu;
    ULONG64 Time; /* from the DPC's arguments */
} KtSeen;

static VOID on_timer(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    KtSeen.Fired++;
    KtSeen.Irql = KeGetCurrentIrql();
    KtSeen.Cpu = KeGetCurrentProcessorNumber();
    KtSeen.Time = (ULONG64)(ULONG_PTR)Arg1 | (ULONG64)(ULONG_PTR)Arg2 << 32;
}

/* Waits until the interrupt time reaches Until (bounded: 100 ms of stall per ms asked, at most). */
static BOOLEAN wait_until(ULONG64 Until)
{
    for (ULONG i = 0; i < 20000 && KeQueryInterruptTime() < Until; i++)
        KeStallExecutionProcessor(500);
    return KeQueryInterruptTime() >= Until;
}

static LARGE_INTEGER in_ms(LONGLONG Ms)
{
    LARGE_INTEGER t;

    t.QuadPart = -Ms * MS;
    return t;
}

TEST(timer, one_shot_relative_fires_once_at_dispatch)
{
    KTIMER timer;
    KDPC dpc;

    KtSeen.Fired = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, on_timer, NULL);
    ULONG64 start = KeQueryInterruptTime();
    CHECK(!KeSetTimer(&timer, in_ms(30), &dpc));
    CHECK(!KeReadStateTimer(&timer));
    REQUIRE(wait_until(start + 30 * MS));
    CHECK_EQ(KtSeen.Fired, 1);
    CHECK(KeReadStateTimer(&timer));
    CHECK_EQ(KtSeen.Irql, DISPATCH_LEVEL);
    CHECK_EQ(KtSeen.Cpu, 0); /* the CPU that set it */
    CHECK_GE(KtSeen.Time, start + 30 * MS);
    REQUIRE(wait_until(start + 100 * MS));
    CHECK_EQ(KtSeen.Fired, 1);
    CHECK(!KeCancelTimer(&timer)); /* expired: no longer set */
}

TEST(timer, absolute_due_time)
{
    KTIMER timer;
    KDPC dpc;
    LARGE_INTEGER now, due;

    KtSeen.Fired = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, on_timer, NULL);
    KeQuerySystemTime(&now);
    due.QuadPart = now.QuadPart + 40 * MS;
    KeSetTimer(&timer, due, &dpc);
    CHECK_EQ(timer.Header.TimerControlFlags & 1, 1); /* Absolute */
    REQUIRE(wait_until((ULONG64)due.QuadPart - 1));
    CHECK_LE(KtSeen.Fired, 1); /* the tick that passes due-1 may pass due too */
    REQUIRE(wait_until((ULONG64)due.QuadPart));
    CHECK_EQ(KtSeen.Fired, 1);
}

static ULONG64 KtPeriodicAt[16];
static volatile ULONG KtPeriodicRuns;

static VOID on_periodic(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    if (KtPeriodicRuns < ARRAYSIZE(KtPeriodicAt))
        KtPeriodicAt[KtPeriodicRuns] = (ULONG64)(ULONG_PTR)Arg1 | (ULONG64)(ULONG_PTR)Arg2 << 32;
    KtPeriodicRuns++;
}

/* NT's published KiTimerExpiration re-inserts a periodic timer one period after the tick that
 * expired it (a relative insert), so each interval is the period rounded up to the next tick. */
TEST(timer, periodic_fires_one_period_after_each_expiry)
{
    ULONG64 tick = KeQueryTimeIncrement();
    KTIMER timer;
    KDPC dpc;

    KtPeriodicRuns = 0;
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    KeInitializeDpc(&dpc, on_periodic, NULL);
    ULONG64 start = KeQueryInterruptTime();
    KeSetTimerEx(&timer, in_ms(20), 20, &dpc);
    REQUIRE(wait_until(start + 10 * (20 * MS + tick)));
    CHECK(KeCancelTimer(&timer)); /* periodic: still set */
    ULONG fired = KtPeriodicRuns;
    CHECK_GE(fired, 8);
    for (ULONG i = 1; i < fired && i < ARRAYSIZE(KtPeriodicAt); i++) {
        CHECK_GE(KtPeriodicAt[i] - KtPeriodicAt[i - 1], (ULONG64)(20 * MS));
        CHECK_LE(KtPeriodicAt[i] - KtPeriodicAt[i - 1], (ULONG64)(20 * MS) + tick);
    }
    REQUIRE(wait_until(KeQueryInterruptTime() + 3 * 20 * MS));
    CHECK_EQ(KtPeriodicRuns, fired); /* none after the cancel */
}

TEST(timer, cancelled_never_fires)
{
    KTIMER timer;
    KDPC dpc;

    KtSeen.Fired = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, on_timer, NULL);
    ULONG64 start = KeQueryInterruptTime();
    KeSetTimer(&timer, in_ms(30), &dpc);
    CHECK(KeCancelTimer(&timer));
    CHECK(!KeCancelTimer(&timer));
    REQUIRE(wait_until(start + 80 * MS));
    CHECK_EQ(KtSeen.Fired, 0);
    CHECK(!KeReadStateTimer(&timer));
}

TEST(timer, setting_again_moves_the_due_time)
{
    KTIMER timer;
    KDPC dpc;

    KtSeen.Fired = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, on_timer, NULL);
    ULONG64 start = KeQueryInterruptTime();
    CHECK(!KeSetTimer(&timer, in_ms(30), &dpc));
    CHECK(KeSetTimer(&timer, in_ms(90), &dpc)); /* it was set */
    REQUIRE(wait_until(start + 60 * MS));
    CHECK_EQ(KtSeen.Fired, 0);
    REQUIRE(wait_until(KeQueryInterruptTime() + 40 * MS));
    CHECK_EQ(KtSeen.Fired, 1);
}

/* Many timers on every CPU at once: each fires exactly once, on the CPU that set it. */
static KTIMER KtTimers[MAXIMUM_PROCESSORS][4];
static KDPC KtTimerDpcs[MAXIMUM_PROCESSORS][4];
static volatile ULONG KtFiredOn[MAXIMUM_PROCESSORS][4];

static VOID count_on_cpu(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG_PTR slot = (ULONG_PTR)Context;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (KeGetCurrentProcessorNumber() == slot / 4)
        __atomic_add_fetch(&KtFiredOn[slot / 4][slot % 4], 1, __ATOMIC_RELAXED);
}

static VOID set_four(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG n = KeGetCurrentProcessorNumber();

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    for (ULONG i = 0; i < 4; i++) {
        KeInitializeTimer(&KtTimers[n][i]);
        KeInitializeDpc(&KtTimerDpcs[n][i], count_on_cpu, (PVOID)(ULONG_PTR)(n * 4 + i));
        KeSetTimer(&KtTimers[n][i], in_ms(10 + 10 * i), &KtTimerDpcs[n][i]);
    }
    KeSignalCallDpcSynchronize(Arg2);
    KeSignalCallDpcDone(Arg1);
}

TEST(timer, timers_on_every_cpu_fire_where_they_were_set)
{
    memset((void *)KtFiredOn, 0, sizeof(KtFiredOn));
    ULONG64 start = KeQueryInterruptTime();
    KeGenericCallDpc(set_four, NULL);
    REQUIRE(wait_until(start + 100 * MS));
    KeFlushQueuedDpcs(); /* another CPU's tick may lag CPU 0's time a little */
    KtWaitTicks(2);
    KeFlushQueuedDpcs();
    for (LONG n = 0; n < KeNumberProcessors; n++)
        for (ULONG i = 0; i < 4; i++)
            CHECK_EQ(KtFiredOn[n][i], 1);
}
