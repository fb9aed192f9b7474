/*
 * cmd_crash.c - breaking each IRQL rule on purpose, to read the bugcheck
 * it ends in: !labcrash <kind>, and WinDbg's .crash (0xE2).
 */
#include <arch/arch.h>
#include <irqlab/apc.h>
#include <irqlab/fastmutex.h>
#include <irqlab/iomgr.h>
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/ps.h>
#include <irqlab/rtl.h>
#include <irqlab/spinlock.h>
#include <irqlab/wait.h>
#include <irqlab/kequery.h>
#include "kd.h"

static KSPIN_LOCK KdCrashLock;
static KDPC KdCrashDpc;
static KEVENT KdCrashEvent; /* never signaled */

static VOID returns_at_high_irql(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KfRaiseIrql(CLOCK_LEVEL - 1); /* and never lowers it again */
}

static VOID spins_forever(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (;;)
        KeStallExecutionProcessor(1000);
}

static VOID waits(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeWaitForSingleObject(&KdCrashEvent, Executive, KernelMode, FALSE, NULL);
}

static KMUTEX KdCrashMutex;

static VOID holds_mutex(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KdCrashMutex, Executive, KernelMode, FALSE, NULL);
}

static VOID returns_holding_a_spin_lock(PVOID Context)
{
    KIRQL old;

    UNREFERENCED_PARAMETER(Context);
    KeInitializeSpinLock(&KdCrashLock);
    KeAcquireSpinLock(&KdCrashLock, &old); /* and returns at DISPATCH_LEVEL */
}

/* Bounded only by the stack: it runs into the guard page long before the bound. */
static ULONG recurses(ULONG Depth)
{
    volatile char pad[512];

    pad[0] = (char)Depth;
    return Depth > 1000000 ? 0 : recurses(Depth + 1) + pad[0];
}

static VOID overflows_its_stack(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    recurses(0);
}

static KAPC KdCrashApc;

static VOID apc_returns_raised(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KfRaiseIrql(DISPATCH_LEVEL); /* and never lowers it again */
}

/* An IRP as a driver of this console's would own it, completed twice at DISPATCH_LEVEL or once at DIRQL. */
static VOID complete_irp_wrongly(BOOLEAN Twice)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    KIRQL old;

    if (irp == NULL)
        return;
    irp->Tail.Overlay.Thread = KeGetCurrentThread();
    IoSetNextIrpStackLocation(irp);
    irp->IoStatus.Status = STATUS_SUCCESS;
    KeRaiseIrql(Twice ? DISPATCH_LEVEL : 11, &old);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static VOID release_unowned_fast_mutex(VOID)
{
    static FAST_MUTEX mutex;
    KIRQL old;

    ExInitializeFastMutex(&mutex);
    KeRaiseIrql(APC_LEVEL, &old); /* where its release runs: the IRQL is not what is wrong */
    ExReleaseFastMutex(&mutex);
}

static VOID leaves_a_critical_region_open(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeEnterCriticalRegion();
}

/* A system thread that runs Routine; this thread waits for the bugcheck. */
static VOID crash_thread(PKSTART_ROUTINE Routine)
{
    LARGE_INTEGER second = { .QuadPart = -10000000 };
    HANDLE handle;

    KeInitializeMutex(&KdCrashMutex, 0);
    if (PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, Routine, NULL) == STATUS_SUCCESS)
        KeDelayExecutionThread(KernelMode, FALSE, &second);
}

static VOID crash_dpc(PKDEFERRED_ROUTINE Routine)
{
    KeInitializeDpc(&KdCrashDpc, Routine, NULL);
    KeInsertQueueDpc(&KdCrashDpc, NULL, NULL); /* Medium, here, at PASSIVE_LEVEL: it runs now */
}

static const struct {
    PCSTR Name;
    PCSTR What;
    PKSTART_ROUTINE Thread; /* the rule a system thread breaks, or NULL */
} KdCrashes[] = {
    { "raise_down", "KeRaiseIrql to a lower level: 0x9 IRQL_NOT_GREATER_OR_EQUAL", NULL },
    { "lower_up", "KeLowerIrql to a higher level: 0xA IRQL_NOT_LESS_OR_EQUAL", NULL },
    { "spinlock_twice", "a spin lock acquired twice on one CPU: 0xF SPIN_LOCK_ALREADY_OWNED", NULL },
    { "dpc_irql", "a DPC that returns at another IRQL: 0x9 with the routine in P4", NULL },
    { "dpc_spin", "a DPC that never returns: 0x133 DPC_WATCHDOG_VIOLATION, P1 = 0", NULL },
    { "dispatch_stay", "staying at DISPATCH_LEVEL: 0x133 DPC_WATCHDOG_VIOLATION, P1 = 1", NULL },
    { "wait_dispatch", "a wait at DISPATCH_LEVEL: 0xA IRQL_NOT_LESS_OR_EQUAL, P1 = the event", NULL },
    { "wait_in_dpc", "a wait in a DPC routine: 0xB8 ATTEMPTED_SWITCH_FROM_DPC", NULL },
    { "interrupts_off", "spinning with interrupts off: 0x101 CLOCK_WATCHDOG_TIMEOUT, from another CPU", NULL },
    { "null_read", "reading address 0: 0x1E KMODE_EXCEPTION_NOT_HANDLED", NULL },
    { "mutex_not_owned", "releasing a mutex this thread does not own: 0x1E, STATUS_MUTANT_NOT_OWNED", NULL },
    { "mutex_held_at_exit", "a thread that ends holding a mutex: 0x4000008A THREAD_TERMINATE_HELD_MUTEX",
      holds_mutex },
    { "thread_spinlock", "a thread routine that returns holding a spin lock: 0xA, P1 = the routine",
      returns_holding_a_spin_lock },
    { "thread_stack", "a thread that overflows its kernel stack: 0x7F UNEXPECTED_KERNEL_MODE_TRAP, P1 = 8",
      overflows_its_stack },
    { "apc_irql", "an APC's KernelRoutine that returns at DISPATCH_LEVEL: 0xC8 IRQL_UNEXPECTED_VALUE", NULL },
    { "apc_exit", "a thread that ends inside a critical region: 0x20 KERNEL_APC_PENDING_DURING_EXIT",
      leaves_a_critical_region_open },
    { "irp_twice", "a DPC that completes its IRP twice: 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS", NULL },
    { "irp_irql", "an IRP completed at DIRQL: 0xA IRQL_NOT_LESS_OR_EQUAL, P1 = the IRP", NULL },
    { "fastmutex_unowned", "releasing a fast mutex nobody holds: 0x1E, STATUS_MUTANT_NOT_OWNED", NULL },
};

/* The rules this thread breaks itself. */
static VOID break_rule(ULONG Kind)
{
    KIRQL old;

    switch (Kind) {
    case 0:
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeRaiseIrql(PASSIVE_LEVEL, &old);
        break;
    case 1:
        if (!DBG) /* NT's free KzLowerIrql is a bare CR8 write too */
            DbgPrint("a DBG=0 kernel's KeLowerIrql does not check its level: !labcrash ends it instead\n");
        KeLowerIrql(DISPATCH_LEVEL);
        break;
    case 2:
        KeInitializeSpinLock(&KdCrashLock);
        KeAcquireSpinLock(&KdCrashLock, &old);
        KeAcquireSpinLock(&KdCrashLock, &old);
        break;
    case 3:
        crash_dpc(returns_at_high_irql);
        break;
    case 4:
        crash_dpc(spins_forever);
        break;
    case 5:
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (;;)
            KeStallExecutionProcessor(1000);
    case 6:
        KeInitializeEvent(&KdCrashEvent, NotificationEvent, FALSE);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeWaitForSingleObject(&KdCrashEvent, Executive, KernelMode, FALSE, NULL);
        break;
    case 7:
        KeInitializeEvent(&KdCrashEvent, NotificationEvent, FALSE);
        crash_dpc(waits);
        break;
    case 8: /* not even the clock gets in: only another CPU can notice */
        arch_disable_interrupts();
        for (;;)
            arch_pause();
    case 10:
        KeInitializeMutex(&KdCrashMutex, 0);
        KeReleaseMutex(&KdCrashMutex, FALSE);
        break;
    case 16:
    case 17:
        complete_irp_wrongly(Kind == 16);
        break;
    case 18:
        release_unowned_fast_mutex();
        break;
    case 14:
        KeInitializeApc(&KdCrashApc, KeGetCurrentThread(), OriginalApcEnvironment, apc_returns_raised, NULL, NULL,
                        KernelMode, NULL);
        KeInsertQueueApc(&KdCrashApc, NULL, NULL, 0); /* at PASSIVE_LEVEL: it runs now */
        break;
    default:
        (void)*(volatile ULONG *)(ULONG_PTR)0;
        break;
    }
}

static DECLSPEC_NORETURN VOID crash(ULONG Kind)
{
    DbgPrint("!labcrash %s: %s\n", KdCrashes[Kind].Name, KdCrashes[Kind].What);
    if (KdCrashes[Kind].Thread)
        crash_thread(KdCrashes[Kind].Thread);
    else
        break_rule(Kind);
    KeBugCheckEx(MANUALLY_INITIATED_CRASH, 0x1ab, Kind, 0, 0); /* a rule that did not stop us */
}

KD_COMMAND(labcrash, "!labcrash", "!labcrash <kind> (no kind: the list)", "lab: break an IRQL rule on purpose")
{
    CHAR word[24];

    if (!KdNextWord(&Args, word, sizeof(word)) || !KdAtEnd(Args)) {
        DbgPrint("usage: !labcrash <kind>, one of:\n");
        for (ULONG i = 0; i < ARRAYSIZE(KdCrashes); i++)
            DbgPrint("  %-14s %s\n", KdCrashes[i].Name, KdCrashes[i].What);
        return;
    }
    if (strcmp(word, "interrupts_off") == 0 && (KeNumberProcessors < 2 || !KiClockWatchdogEnabled())) {
        DbgPrint("interrupts_off needs a second processor and the clock watchdog (SMP=2, no clockwatchdog=0) to "
                 "notice: without them it would hang\n");
        return;
    }
    for (ULONG i = 0; i < ARRAYSIZE(KdCrashes); i++)
        if (strcmp(word, KdCrashes[i].Name) == 0)
            crash(i);
    DbgPrint("Unknown kind '%s'; !labcrash alone lists them\n", word);
}

KD_COMMAND(crash, ".crash", ".crash", "bugcheck 0xE2 MANUALLY_INITIATED_CRASH, as WinDbg's .crash")
{
    if (!KdNoMoreArguments(Args, ".crash"))
        return;
    KeBugCheckEx(MANUALLY_INITIATED_CRASH, 0, 0, 0, 0);
}
