/*
 * cmd_lab.c - commands that make activity for the labs (docs/labs/): queue
 * DPCs with an importance on a CPU, hold a CPU at DISPATCH_LEVEL so its
 * queue can be inspected, raise this CPU's IRQL for a while and count the
 * clock, arm a timer, and break each IRQL rule on purpose (!labcrash).
 */
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/timer.h>
#include <irqlab/kequery.h>
#include "kd.h"

#define LAB_DPCS 16

static struct {
    KDPC Dpc[LAB_DPCS];
    volatile ULONG Order[LAB_DPCS]; /* 1, 2, ...: when each ran; 0 not yet */
    volatile ULONG Cpu[LAB_DPCS];
    volatile KIRQL Irql[LAB_DPCS];
    volatile ULONG Ran;
    ULONG Count;
    BOOLEAN Reported[LAB_DPCS]; /* its run was reported: a later report leaves it out */
    KTIMER Timer;
    KDPC TimerDpc;
    volatile ULONG TimerFired;
} KdLab;

static const PCSTR KdImportance[] = { "low", "medium", "high", "mediumhigh" };

static VOID KdLabDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG i = (ULONG)(ULONG_PTR)Context;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KdLab.Cpu[i] = KeGetCurrentProcessorNumber();
    KdLab.Irql[i] = KeGetCurrentIrql();
    KdLab.Order[i] = __atomic_add_fetch(&KdLab.Ran, 1, __ATOMIC_RELAXED);
}

static BOOLEAN parse_importance(PCSTR Word, KDPC_IMPORTANCE *Importance)
{
    for (ULONG i = 0; i < ARRAYSIZE(KdImportance); i++)
        if (strcmp(Word, KdImportance[i]) == 0) {
            *Importance = (KDPC_IMPORTANCE)i;
            return TRUE;
        }
    return FALSE;
}

/* Each DPC's run is reported once; one still queued is reported until it has run. */
static VOID report_runs(VOID)
{
    ULONG printed = 0;

    for (ULONG i = 0; i < KdLab.Count; i++) {
        if (KdLab.Reported[i])
            continue;
        printed++;
        if (KdLab.Order[i] == 0) {
            DbgPrint("  DPC %u (%s) is still queued\n", i, KdImportance[KdLab.Dpc[i].Importance]);
            continue;
        }
        DbgPrint("  DPC %u (%s) ran as number %u, on CPU %u at IRQL %u\n", i, KdImportance[KdLab.Dpc[i].Importance],
                 KdLab.Order[i], KdLab.Cpu[i], KdLab.Irql[i]);
        KdLab.Reported[i] = TRUE;
    }
    if (printed == 0)
        DbgPrint("  (no lab DPC ran since the last report)\n");
}

/* How long a held processor has: the watchdog's stretch limit (lab 6), or none when it is off. */
static VOID watchdog_note(ULONG Cpu)
{
    LONG period = KiProcessorBlock[Cpu]->DpcWatchdogPeriod;

    if (period > 0)
        DbgPrint("(the DPC watchdog stops a hold after %llu ms)\n", (ULONG64)period * KeQueryTimeIncrement() / 10000);
    else
        DbgPrint("(the DPC watchdog is off: it stays held until then)\n");
}

#define LABDPC_USAGE "!labdpc <count 1-10 hex> [processor hex] [low|medium|high|mediumhigh] [hold]"

typedef struct _LABDPC_ARGS {
    ULONG Count, Cpu;
    KDPC_IMPORTANCE Importance;
    BOOLEAN Hold;
} LABDPC_ARGS;

/* !labdpc's words; FALSE after saying which one is wrong and why. */
static BOOLEAN parse_labdpc(PCSTR Args, LABDPC_ARGS *A)
{
    ULONG64 count, n;
    CHAR word[24];

    *A = (LABDPC_ARGS){ 0, KeGetCurrentProcessorNumber(), MediumImportance, FALSE };
    if (!KdNextValue(&Args, &count, TRUE, "count")) {
        DbgPrint("usage: %s\n", LABDPC_USAGE);
        return FALSE;
    }
    if (count < 1 || count > LAB_DPCS) {
        DbgPrint("Count %llx (0n%llu) is out of range: 1 to %x hex (0n%u) DPCs; usage: %s\n", count, count,
                 LAB_DPCS, LAB_DPCS, LABDPC_USAGE);
        return FALSE;
    }
    A->Count = (ULONG)count;
    while (KdNextWord(&Args, word, sizeof(word))) {
        if (strcmp(word, "hold") == 0)
            A->Hold = TRUE;
        else if (parse_importance(word, &A->Importance))
            continue;
        else if (word[0] >= '0' && word[0] <= '9' && KdEvaluateText(word, &n)) {
            if (n >= (ULONG64)KeNumberProcessors) {
                DbgPrint("Processor %llx is not online (0 to %x are); usage: %s\n", n, KeNumberProcessors - 1,
                         LABDPC_USAGE);
                return FALSE;
            }
            A->Cpu = (ULONG)n;
        } else {
            DbgPrint("'%s' is not a processor, an importance or hold; usage: %s\n", word, LABDPC_USAGE);
            return FALSE;
        }
    }
    return TRUE;
}

KD_COMMAND(labdpc, "!labdpc", LABDPC_USAGE, "lab: queue DPCs on a processor; hold: see them queued first")
{
    LABDPC_ARGS a;

    if (!parse_labdpc(Args, &a))
        return;
    ULONG count = a.Count, cpu = a.Cpu;
    KDPC_IMPORTANCE importance = a.Importance;
    BOOLEAN hold = a.Hold;
    for (ULONG i = 0; i < KdLab.Count; i++)
        if (KdLab.Dpc[i].DpcData != NULL) {
            DbgPrint("The last !labdpc's DPCs are still queued; !labrelease lets them run\n");
            return;
        }
    BOOLEAN here = cpu == KeGetCurrentProcessorNumber();
    if (hold && !here)
        KiProcessorBlock[cpu]->Irqlab.HoldAtDispatch = TRUE;
    KdLab.Count = count;
    KdLab.Ran = 0;
    KIRQL old = KeRaiseIrqlToDpcLevel(); /* insert them all before any can run here */
    for (ULONG i = 0; i < KdLab.Count; i++) {
        KdLab.Order[i] = 0;
        KdLab.Reported[i] = FALSE;
        KeInitializeDpc(&KdLab.Dpc[i], KdLabDpcRoutine, (PVOID)(ULONG_PTR)i);
        KeSetImportanceDpc(&KdLab.Dpc[i], importance);
        KeSetTargetProcessorDpc(&KdLab.Dpc[i], (CCHAR)cpu);
        KeInsertQueueDpc(&KdLab.Dpc[i], NULL, NULL);
    }
    DbgPrint("Queued %u %s DPCs for processor %u\n", KdLab.Count, KdImportance[importance], cpu);
    if (hold && here) {
        DbgPrint("This processor is at DISPATCH_LEVEL: its queue, before they run:\n");
        KdExecuteLine("!dpcs");
    }
    KeLowerIrql(old);
    if (hold && !here) {
        DbgPrint("Processor %u is held at DISPATCH_LEVEL in its idle loop: !dpcs %u shows them; !labrelease lets "
                 "them run ", cpu, cpu);
        watchdog_note(cpu);
        return;
    }
    for (ULONG i = 0; i < 200 && KdLab.Ran < KdLab.Count; i++)
        KeStallExecutionProcessor(1000); /* Low/Medium on another CPU wait for its next tick */
    report_runs();
}

KD_COMMAND(labhold, "!labhold", "!labhold <processor>", "lab: hold another processor at DISPATCH_LEVEL")
{
    ULONG cpu;

    if (KdAtEnd(Args)) {
        DbgPrint("usage: !labhold <processor>\n");
        return;
    }
    if (!KdProcessorArgument(&Args, &cpu) || !KdNoMoreArguments(Args, "!labhold <processor>"))
        return;
    if (cpu == KeGetCurrentProcessorNumber()) {
        DbgPrint("The console runs on processor %u; hold another one\n", cpu);
        return;
    }
    KiProcessorBlock[cpu]->Irqlab.HoldAtDispatch = TRUE;
    DbgPrint("Processor %u is held at DISPATCH_LEVEL; !labrelease lets it go ", cpu);
    watchdog_note(cpu);
}

KD_COMMAND(labrelease, "!labrelease", "!labrelease", "lab: let held processors go, and report the lab DPCs")
{
    if (!KdNoMoreArguments(Args, "!labrelease"))
        return;
    for (LONG n = 0; n < KeNumberProcessors; n++)
        KiProcessorBlock[n]->Irqlab.HoldAtDispatch = FALSE;
    for (ULONG i = 0; i < 200 && KdLab.Ran < KdLab.Count; i++)
        KeStallExecutionProcessor(1000);
    DbgPrint("Released every processor\n");
    report_runs();
}

#define LABIRQL_MAX_MS 3000 /* the console holds its CPU: keep it far below the 5 s DPC watchdog */
#define LABIRQL_USAGE "!labirql <irql 0-f hex> [milliseconds hex, default 1f4 (0n500), 1-bb8 (0n3000)]"

KD_COMMAND(labirql, "!labirql", LABIRQL_USAGE, "lab: run this processor at an IRQL for a while; count the clock")
{
    ULONG64 level, ms = 500;

    if (!KdNextValue(&Args, &level, TRUE, "irql") || (!KdAtEnd(Args) && !KdNextValue(&Args, &ms, TRUE, "ms")) ||
        !KdNoMoreArguments(Args, LABIRQL_USAGE))
        return;
    if (level > HIGH_LEVEL) {
        DbgPrint("IRQL %llx (0n%llu) is above HIGH_LEVEL (f); usage: %s\n", level, level, LABIRQL_USAGE);
        return;
    }
    if (ms == 0 || ms > LABIRQL_MAX_MS) {
        DbgPrint("%llx (0n%llu) milliseconds: the hold is 1 to 0n%u ms (the 3,000 ms maximum); usage: %s\n", ms,
                 ms, LABIRQL_MAX_MS, LABIRQL_USAGE);
        return;
    }
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 ticks = KeTickCount;
    ULONG clocks = prcb->ClockInterrupts;
    KIRQL old = KfRaiseIrql((KIRQL)level); /* wdm.h's KeRaiseIrql; from PASSIVE_LEVEL every level is a raise */
    KIRQL held = KeGetCurrentIrql();
    KeStallExecutionProcessor((ULONG)ms * 1000);
    ULONG64 ticks_during = KeTickCount - ticks;
    ULONG clocks_during = prcb->ClockInterrupts - clocks;
    KeLowerIrql(old);
    DbgPrint("Held IRQL %u (%s) for %llu ms: this processor's clock interrupted it %u times, KeTickCount "
             "advanced %llu\n", held, KeIrqlName(held), ms, clocks_during, ticks_during);
}

static VOID KdLabTimerRoutine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    ULONG n = ++KdLab.TimerFired;
    DbgPrint("labtimer: fired (%u) on processor %u at IRQL %u, interrupt time %08llx\n", n,
             KeGetCurrentProcessorNumber(), KeGetCurrentIrql(), (ULONG64)(ULONG_PTR)Arg1 | (ULONG64)(ULONG_PTR)Arg2 << 32);
}

#define LABTIMER_MAX_MS 600000 /* ten minutes */
#define LABTIMER_USAGE "!labtimer <due ms hex, 0-927c0 (0n600000)> [period ms hex, 64-927c0 (0n100-0n600000)] | " \
                       "!labtimer cancel"

KD_COMMAND(labtimer, "!labtimer", LABTIMER_USAGE, "lab: arm (or cancel) a timer whose DPC prints when it fires")
{
    ULONG64 due, period = 0;
    CHAR word[16];
    PCSTR peek = Args;

    if (KdNextWord(&peek, word, sizeof(word)) && strcmp(word, "cancel") == 0) {
        DbgPrint("labtimer: %s\n", KeCancelTimer(&KdLab.Timer) ? "cancelled" : "was not set");
        return;
    }
    if (!KdNextValue(&Args, &due, TRUE, "due time") || (!KdAtEnd(Args) && !KdNextValue(&Args, &period, TRUE, "period")) ||
        !KdNoMoreArguments(Args, LABTIMER_USAGE))
        return;
    if (due > LABTIMER_MAX_MS || (period && (period < 100 || period > LABTIMER_MAX_MS))) {
        BOOLEAN bad_due = due > LABTIMER_MAX_MS;
        DbgPrint("%s %llx (0n%llu) ms is out of range; usage: %s\n", bad_due ? "Due time" : "Period",
                 bad_due ? due : period, bad_due ? due : period, LABTIMER_USAGE);
        return;
    }
    LARGE_INTEGER when = { .QuadPart = -(LONGLONG)due * 10000 };
    KeCancelTimer(&KdLab.Timer);
    KeFlushQueuedDpcs(); /* its DPC is not running or queued when we re-initialize it */
    KeInitializeTimer(&KdLab.Timer);
    KeInitializeDpc(&KdLab.TimerDpc, KdLabTimerRoutine, NULL);
    KdLab.TimerFired = 0;
    KeSetTimerEx(&KdLab.Timer, when, (LONG)period, &KdLab.TimerDpc);
    DbgPrint("labtimer: set %016llx to fire in %llu ms%s; !timer lists it\n", (ULONG64)&KdLab.Timer, due,
             period ? ", then periodically" : "");
}
