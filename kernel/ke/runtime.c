/*
 * runtime.c - what every CPU's clock tick does for that CPU (NT's
 * KeUpdateRunTime): charge the tick to the level it interrupted, adapt the
 * DPC request rate, ask for a queue nobody asked to drain, run the DPC
 * watchdog, and watch that the next CPU still takes its clock (NT's clock
 * watchdog, bugcheck 0x101).
 *
 * The tunables are NT's, with NT's defaults, and can be set on the command
 * line: dpcqueuedepth= (MaximumDpcQueueDepth, 4), minimumdpcrate= (3),
 * idealdpcrate= (20), adjustdpcthreshold= (20).  The watchdog limits are
 * scaled down for teaching: dpctimelimit= (one DPC, 500 ms) and
 * dpcwatchdogperiod= (a stretch at >= DISPATCH_LEVEL, 5000 ms), and
 * clockwatchdog= (a CPU without a clock tick, 4000 ms); 0 turns one off.
 */
#include <irqlab/hal.h>
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>
#include <irqlab/thread.h>
#include "ki.h"
#include "kitrace.h"

#define CLOCK_QUANTUM_DECREMENT 3 /* NT's units a clock tick takes from the running thread */

ULONG KiMaximumDpcQueueDepth = 4;
ULONG KiMinimumDpcRate = 3;
ULONG KiIdealDpcRate = 20;
ULONG KiAdjustDpcThreshold = 20;
static ULONG KiDpcTimeLimitTicks, KiDpcWatchdogPeriodTicks, KiClockWatchdogTicks;
static ULONG64 KiClockWatchdogCycles; /* the same in this CPU's TSC cycles (the IPI barrier); 0: off */

static ULONG ms_to_ticks(ULONG Ms)
{
    ULONG64 ticks = ((ULONG64)Ms * 10000 + KeQueryTimeIncrement() - 1) / KeQueryTimeIncrement();

    return (ULONG)ticks;
}

VOID KiInitializeRunTime(VOID)
{
    KiMaximumDpcQueueDepth = KeGetCommandLineNumber("dpcqueuedepth", 1, 1000, KiMaximumDpcQueueDepth);
    KiMinimumDpcRate = KeGetCommandLineNumber("minimumdpcrate", 0, 1000, KiMinimumDpcRate);
    KiIdealDpcRate = KeGetCommandLineNumber("idealdpcrate", 1, 1000, KiIdealDpcRate);
    KiAdjustDpcThreshold = KeGetCommandLineNumber("adjustdpcthreshold", 1, 1000, KiAdjustDpcThreshold);
    KiDpcTimeLimitTicks = ms_to_ticks(KeGetCommandLineNumber("dpctimelimit", 0, 600000, 500));
    KiDpcWatchdogPeriodTicks = ms_to_ticks(KeGetCommandLineNumber("dpcwatchdogperiod", 0, 600000, 5000));
    ULONG clock_ms = KeGetCommandLineNumber("clockwatchdog", 0, 600000, 4000); /* above !labirql's 3 s */
    if (clock_ms != 0 && clock_ms < 1000) { /* the CPUs' ticks are out of phase: a few may pass unseen */
        DbgPrint("irqlab: clockwatchdog=%u is under the 1000 ms it needs to tell a late tick from none; "
                 "using 1000\n", clock_ms);
        clock_ms = 1000;
    }
    KiClockWatchdogTicks = ms_to_ticks(clock_ms);
    KiClockWatchdogCycles = KeQueryTscFrequency(NULL) / 1000 * clock_ms;
    KiInitializeRunTimeProcessor(KeGetCurrentPrcb());
}

VOID KiInitializeRunTimeProcessor(PKPRCB Prcb)
{
    Prcb->MaximumDpcQueueDepth = (LONG)KiMaximumDpcQueueDepth;
    Prcb->MinimumDpcRate = KiMinimumDpcRate;
    Prcb->AdjustDpcThreshold = KiAdjustDpcThreshold;
    Prcb->DpcTimeLimit = Prcb->DpcTimeCount = KiDpcTimeLimitTicks;
    Prcb->DpcWatchdogPeriod = Prcb->DpcWatchdogCount = (LONG)KiDpcWatchdogPeriodTicks;
}

/* The tick's IRQL class: NT's !prcb "Times" line, and irqlab's per-level histogram.  As in NT's
 * published KeUpdateRunTime, every kernel-mode tick is KernelTime; DpcTime and InterruptTime are
 * the parts of it spent in a DPC and above DISPATCH_LEVEL. */
static VOID charge_tick(PKPRCB Prcb, KIRQL Was)
{
    Prcb->Irqlab.TicksAtIrql[Was]++;
    Prcb->KernelTime++;
    if (Was > DISPATCH_LEVEL)
        Prcb->InterruptTime++;
    else if (Was == DISPATCH_LEVEL && Prcb->DpcRoutineActive)
        Prcb->DpcTime++;
}

/*
 * NT's adaptation: the request rate is a running average of DPCs queued per
 * tick.  A tick that finds a queue nobody asked to drain requests it, and
 * if DPCs are rare it lowers the depth that forces a request; a run of
 * AdjustDpcThreshold ticks without that raises the depth back by one.
 */
static VOID adapt_dpc_rate(PKPRCB Prcb)
{
    PKDPC_DATA data = &Prcb->DpcData[0];
    ULONG count = data->DpcCount;

    Prcb->DpcRequestRate = ((count - Prcb->DpcLastCount) + Prcb->DpcRequestRate) / 2;
    Prcb->DpcLastCount = count;
    if (data->DpcQueueDepth != 0 && !Prcb->DpcRoutineActive &&
        !(__atomic_fetch_or(&Prcb->DpcRequestSummary, DPC_NORMAL_PROCESSING_REQUESTED, __ATOMIC_RELAXED) &
          DPC_NORMAL_PROCESSING_REQUESTED)) {
        HalRequestSoftwareInterrupt(DISPATCH_LEVEL);
        Prcb->AdjustDpcThreshold = KiAdjustDpcThreshold;
        if (Prcb->DpcRequestRate < KiIdealDpcRate && Prcb->MaximumDpcQueueDepth > 1)
            Prcb->MaximumDpcQueueDepth--;
    } else if (--Prcb->AdjustDpcThreshold == 0) {
        Prcb->AdjustDpcThreshold = KiAdjustDpcThreshold;
        if (Prcb->MaximumDpcQueueDepth < (LONG)KiMaximumDpcQueueDepth)
            Prcb->MaximumDpcQueueDepth++;
    }
}

/*
 * The DPC watchdog.  DpcTimeCount and DpcWatchdogCount are the ticks left
 * (as KeQueryDpcWatchdogInformation reports them): the first restarts with
 * every DPC, the second whenever a tick finds the CPU below DISPATCH_LEVEL
 * or halted in the idle loop.
 */
static VOID run_watchdog(PKPRCB Prcb, KIRQL Was)
{
    if (Was < DISPATCH_LEVEL || (Prcb->IdleHalt && !Prcb->DpcRoutineActive)) {
        Prcb->DpcWatchdogCount = Prcb->DpcWatchdogPeriod;
        Prcb->Irqlab.DispatchStretch = 0;
        return;
    }
    if (Prcb->DpcRoutineActive && Prcb->DpcTimeLimit != 0 && Prcb->DpcTimeCount-- == 0)
        KeBugCheckEx(DPC_WATCHDOG_VIOLATION, 0, Prcb->DpcTimeLimit + 1, Prcb->DpcTimeLimit, 0);
    ULONG stretch = ++Prcb->Irqlab.DispatchStretch;
    if (stretch > Prcb->Irqlab.LongestDispatchStretch)
        Prcb->Irqlab.LongestDispatchStretch = stretch;
    if (Prcb->DpcWatchdogPeriod != 0 && --Prcb->DpcWatchdogCount <= 0)
        KeBugCheckEx(DPC_WATCHDOG_VIOLATION, 1, (ULONG_PTR)Prcb->DpcWatchdogPeriod, 0, 0);
}

/*
 * NT's clock watchdog: a processor that takes no clock interrupt for too
 * long (interrupts off, or held at CLOCK_LEVEL or above) cannot be stopped
 * by the DPC watchdog, which runs in that very interrupt.  So each CPU
 * watches the next one's tick count and reports a silent one with 0x101:
 * P1 the limit in ticks, P3 that CPU's KPRCB, P4 its number.
 */
BOOLEAN KiClockWatchdogEnabled(VOID)
{
    return KiClockWatchdogTicks != 0;
}

BOOLEAN KiClockWatchdogExpired(ULONG64 SinceTsc)
{
    return KiClockWatchdogCycles != 0 && arch_rdtsc() - SinceTsc > KiClockWatchdogCycles;
}

VOID KiClockWatchdogTimeout(KAFFINITY Silent)
{
    ULONG n = (ULONG)__builtin_ctzll(Silent);

    /* Microsoft's 0x101 page: P1 the limit in ticks, P3 the silent CPU's PRCB, P4 its index. */
    KeBugCheckEx(CLOCK_WATCHDOG_TIMEOUT, KiClockWatchdogTicks, 0, (ULONG_PTR)KiProcessorBlock[n], n);
}

/*
 * Counted in the watcher's own ticks, as NT's is, never by comparing two
 * CPUs' clocks: when every CPU stops ticking at once (a long call at
 * IPI_LEVEL), the watcher's count stops too, and nothing is reported.
 */
static VOID watch_next_processor(PKPRCB Prcb)
{
    LONG count = KeNumberProcessors;
    KPRCB_IRQLAB *me = &Prcb->Irqlab;

    if (KiClockWatchdogTicks == 0 || count < 2)
        return;
    PKPRCB next = KiProcessorBlock[(Prcb->Number + 1) % (ULONG)count];
    ULONG seen = __atomic_load_n(&next->ClockInterrupts, __ATOMIC_RELAXED);
    if (me->WatchedNumber != next->Number || me->WatchedClock != seen) {
        me->WatchedNumber = next->Number;
        me->WatchedClock = seen;
        me->WatchedTicks = 0;
    } else if (++me->WatchedTicks > KiClockWatchdogTicks) {
        KiClockWatchdogTimeout(next->GroupSetMember);
    }
}

/* NT's quantum: 3 units a tick from the running thread; none left ends its quantum (the DISPATCH
 * interrupt then gives the processor to a ready thread of its priority, if any). */
static VOID charge_quantum(PKPRCB Prcb)
{
    PKTHREAD thread = Prcb->CurrentThread;

    if (thread == NULL || thread == Prcb->IdleThread)
        return;
    thread->KernelTime++;
    if (thread->QuantumTarget > CLOCK_QUANTUM_DECREMENT) {
        thread->QuantumTarget -= CLOCK_QUANTUM_DECREMENT;
        return;
    }
    thread->QuantumTarget = 0;
    Prcb->QuantumEnd = TRUE;
    HalRequestSoftwareInterrupt(DISPATCH_LEVEL);
}

VOID KiUpdateRunTime(PKPRCB Prcb, KIRQL Was)
{
    __atomic_store_n(&Prcb->ClockInterrupts, Prcb->ClockInterrupts + 1, __ATOMIC_RELAXED);
    charge_tick(Prcb, Was);
    charge_quantum(Prcb);
    adapt_dpc_rate(Prcb);
    run_watchdog(Prcb, Was);
    KI_TRACE(KTRACE_CAT_WATCHDOG, KTRACE_WATCHDOG_TICK, CLOCK_LEVEL, Was, Prcb->DpcWatchdogCount, Prcb->DpcTimeCount);
    watch_next_processor(Prcb);
}

NTSTATUS KeQueryDpcWatchdogInformation(PKDPC_WATCHDOG_INFORMATION WatchdogInformation)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    /* Microsoft's page: only in a DPC or at DISPATCH_LEVEL and above, else STATUS_UNSUCCESSFUL. */
    if (!prcb->DpcRoutineActive && KeGetCurrentIrql() < DISPATCH_LEVEL)
        return STATUS_UNSUCCESSFUL;
    WatchdogInformation->DpcTimeLimit = prcb->DpcTimeLimit;
    WatchdogInformation->DpcTimeCount = prcb->DpcTimeCount;
    WatchdogInformation->DpcWatchdogLimit = (ULONG)prcb->DpcWatchdogPeriod;
    WatchdogInformation->DpcWatchdogCount = (ULONG)prcb->DpcWatchdogCount;
    WatchdogInformation->Reserved = 0;
    return STATUS_SUCCESS;
}
