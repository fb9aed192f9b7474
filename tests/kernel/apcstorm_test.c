/*
 * apcstorm_test.c - an APC storm with exactly-once accounting: one thread
 * per processor that waits, spins, and enters and leaves critical and
 * guarded regions, while this thread (at PASSIVE_LEVEL and DISPATCH_LEVEL)
 * and a periodic timer's DPC queue special and normal APCs to all of them.
 * Every accepted insert must run exactly once, in its own thread, at its
 * level; `make stress` runs it at -smp 1/2/4/8 (apcs=<APCs to queue>).
 */
#include <arch/arch.h>
#include <irqlab/apc.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/keboot.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/timer.h>

#define TICK_100NS   ((LONGLONG)KeQueryTimeIncrement())
#define APCS_PER     16
#define MAX_TARGETS  8
#define DEFAULT_OPS  2000

KE_COMMAND_LINE_OPTION(apcs, "apcs", "apcs=<n>: APCs the APC storm queues (test=apcstorm.*; default 2000)");

typedef struct _STORM_APC {
    KAPC Apc;
    volatile LONG Queued; /* set by a successful insert, cleared by the delivery */
} STORM_APC;

static struct {
    KTHREAD Thread[MAX_TARGETS];
    PVOID Stack[MAX_TARGETS];
    STORM_APC Apc[MAX_TARGETS][APCS_PER];
    volatile LONG Accepted, Delivered, Twice, Wrong, Stop;
    KTIMER Timer;
    KDPC Dpc;
    ULONG Targets, Cursor;
} Ks;

static VOID kernel_routine(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    STORM_APC *s = CONTAINING_RECORD(Apc, STORM_APC, Apc);

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (KeGetCurrentThread() != Apc->Thread || KeGetCurrentIrql() != APC_LEVEL)
        __atomic_add_fetch(&Ks.Wrong, 1, __ATOMIC_RELAXED);
    if (*Normal == NULL && !__atomic_exchange_n(&s->Queued, 0, __ATOMIC_ACQ_REL))
        __atomic_add_fetch(&Ks.Twice, 1, __ATOMIC_RELAXED);
    if (*Normal == NULL)
        __atomic_add_fetch(&Ks.Delivered, 1, __ATOMIC_RELAXED);
}

static VOID normal_routine(PVOID Context, PVOID Arg1, PVOID Arg2)
{
    STORM_APC *s = Context;

    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (KeGetCurrentThread() != s->Apc.Thread || KeGetCurrentIrql() != PASSIVE_LEVEL)
        __atomic_add_fetch(&Ks.Wrong, 1, __ATOMIC_RELAXED);
    if (!__atomic_exchange_n(&s->Queued, 0, __ATOMIC_ACQ_REL))
        __atomic_add_fetch(&Ks.Twice, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&Ks.Delivered, 1, __ATOMIC_RELAXED);
}

/* Any IRQL <= DISPATCH_LEVEL.  Tries the next APC of the next target; FALSE if it was still queued. */
static BOOLEAN insert_next(VOID)
{
    ULONG n = __atomic_fetch_add(&Ks.Cursor, 1, __ATOMIC_RELAXED);
    STORM_APC *s = &Ks.Apc[n % Ks.Targets][(n / Ks.Targets) % APCS_PER];

    if (__atomic_exchange_n(&s->Queued, 1, __ATOMIC_ACQ_REL)) /* claimed: queued, or another inserter's */
        return FALSE;
    if (!KeInsertQueueApc(&s->Apc, NULL, NULL, 0)) {
        __atomic_store_n(&s->Queued, 0, __ATOMIC_RELEASE);
        return FALSE;
    }
    __atomic_add_fetch(&Ks.Accepted, 1, __ATOMIC_RELAXED);
    return TRUE;
}

static VOID timer_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (ULONG i = 0; i < 4; i++)
        insert_next();
}

/* A target: its state keeps changing under the storm (waiting, running, in one region or another). */
static VOID target(PVOID Context)
{
    LARGE_INTEGER tick = { .QuadPart = -TICK_100NS };
    ULONG step = (ULONG)(ULONG_PTR)Context;

    while (!__atomic_load_n(&Ks.Stop, __ATOMIC_ACQUIRE)) {
        switch (step++ % 4) {
        case 0:
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
            break;
        case 1:
            KeEnterCriticalRegion();
            KeStallExecutionProcessor(50);
            KeLeaveCriticalRegion();
            break;
        case 2:
            KeEnterGuardedRegion();
            KeStallExecutionProcessor(50);
            KeLeaveGuardedRegion();
            break;
        default:
            KeStallExecutionProcessor(100);
            break;
        }
    }
}

static BOOLEAN start_targets(VOID)
{
    Ks.Targets = (ULONG)KeNumberProcessors < MAX_TARGETS ? (ULONG)KeNumberProcessors : MAX_TARGETS;
    for (ULONG t = 0; t < Ks.Targets; t++) {
        if ((Ks.Stack[t] = MmCreateKernelStack(KERNEL_STACK_PAGES)) == NULL)
            return FALSE;
        KeInitializeThread(&Ks.Thread[t], Ks.Stack[t], KERNEL_STACK_PAGES, target, (PVOID)(ULONG_PTR)t, 8);
        Ks.Thread[t].Affinity.Mask = 1ull << t;
        for (ULONG i = 0; i < APCS_PER; i++)
            KeInitializeApc(&Ks.Apc[t][i].Apc, &Ks.Thread[t], OriginalApcEnvironment, kernel_routine, NULL,
                            i % 2 ? normal_routine : NULL, KernelMode, &Ks.Apc[t][i]);
        KeStartThread(&Ks.Thread[t]);
    }
    return TRUE;
}

TEST(apcstorm, every_accepted_apc_runs_exactly_once_in_its_thread)
{
    ULONG ops = KeGetCommandLineValue("apcs") ? (ULONG)KeGetCommandLineNumber("apcs", 1, 10000000, DEFAULT_OPS)
                                              : DEFAULT_OPS;
    LARGE_INTEGER period = { .QuadPart = -TICK_100NS }, limit = { .QuadPart = -400 * TICK_100NS };
    KIRQL old;

    memset((PVOID)&Ks, 0, sizeof(Ks));
    REQUIRE(start_targets());
    KeInitializeDpc(&Ks.Dpc, timer_dpc, NULL);
    KeInitializeTimer(&Ks.Timer);
    KeSetTimerEx(&Ks.Timer, period, 1, &Ks.Dpc);
    ULONG64 give_up = KeQueryInterruptTime() + 6000 * (ULONG64)TICK_100NS; /* bounded: a lost APC fails below */
    for (ULONG i = 0; (ULONG)Ks.Accepted < ops && KeQueryInterruptTime() < give_up; i++) {
        if (i % 3 == 0)
            KeRaiseIrql(DISPATCH_LEVEL, &old);
        /* Refused: every APC of that thread is still queued, let it run some.  Accepted: a pause too, so
         * that the inserts do not monopolize the dispatcher lock (a test-and-set lock, unfair under
         * TCG: a timer DPC spinning on it for half a second is a DPC watchdog bugcheck). */
        KeStallExecutionProcessor(insert_next() ? 5 : 2);
        if (i % 3 == 0)
            KeLowerIrql(old);
    }
    KeCancelTimer(&Ks.Timer);
    KeFlushQueuedDpcs();
    for (ULONG i = 0; i < 400 && Ks.Delivered != Ks.Accepted; i++)
        KtWaitTicks(1);
    Ks.Stop = 1;
    for (ULONG t = 0; t < Ks.Targets; t++) {
        CHECK_EQ(KeWaitForSingleObject(&Ks.Thread[t], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
        MmDeleteKernelStack(Ks.Stack[t], KERNEL_STACK_PAGES);
    }
    CHECK_EQ(Ks.Delivered, Ks.Accepted);
    CHECK_EQ(Ks.Twice, 0);
    CHECK_EQ(Ks.Wrong, 0);
    CHECK_GE((ULONG)Ks.Accepted, ops);
    DbgPrint("    # apc storm: %d APCs accepted and delivered once of %u inserts on %d CPUs\n", Ks.Accepted,
             Ks.Cursor, KeNumberProcessors);
}
