/*
 * kbddemo.c - a spin-lock deadlock across IRQLs, runnable (lab 5).
 *
 * The keyboard ISR (DIRQL) queues a "device job" per byte under
 * DeviceJobQueue.Lock; RunQueuedItems, a DPC driven by a 50 ms periodic
 * timer on CPU 0 (where the keyboard interrupt arrives), empties the queue
 * and spends 20 ms "processing" each time.
 *
 * Broken mode is the mistake: RunQueuedItems takes the lock at
 * DISPATCH_LEVEL and holds it while it works.  A key pressed meanwhile
 * interrupts it on the same CPU, and the ISR spins on a lock its own CPU
 * holds at a lower IRQL: a deadlock, which irqlab's spin lock recognises and
 * turns into bugcheck 0xF naming the lock and both IRQLs.  Fixed mode is the
 * cure (Microsoft's "Synchronizing Access to Device Data"): touch the queue
 * only at the keyboard's DIRQL and work with the lock dropped, so keys keep
 * coming while it runs.
 */
#include <irqlab/dpc.h>
#include <irqlab/timer.h>
#include <irqlab/kbd.h>

#define JOBS       64
#define PERIOD_MS  50
#define WORK_US    20000 /* the "processing" of one run */

static struct {
    KSPIN_LOCK Lock; /* first: the bugcheck names the lock as irqlab!DeviceJobQueue */
    UCHAR Jobs[JOBS];
    ULONG JobCount;
    KBDDEMO_MODE Mode;
    KTIMER Timer;
    KDPC Dpc;
    KIRQL DeviceJobIrql; /* the keyboard's SynchronizeIrql */
    volatile BOOLEAN RoutineActive;
    KBDDEMO_STATISTICS Stats;
} DeviceJobQueue;

/* The ISR's part, at DIRQL: queue the byte as a job. */
static VOID InterruptHandler(UCHAR Byte)
{
    DeviceJobQueue.Stats.KeysWhileRunning += DeviceJobQueue.RoutineActive;
    KeAcquireSpinLockAtDpcLevel(&DeviceJobQueue.Lock); /* broken mode: held below us on this CPU */
    if (DeviceJobQueue.JobCount < JOBS) {
        DeviceJobQueue.Jobs[DeviceJobQueue.JobCount++] = Byte;
        DeviceJobQueue.Stats.Queued++;
    } else {
        DeviceJobQueue.Stats.Dropped++;
    }
    KeReleaseSpinLockFromDpcLevel(&DeviceJobQueue.Lock);
}

/* DONT DO IT: the lock at DISPATCH_LEVEL, held while working; the ISR can come in on top. */
static VOID run_broken(VOID)
{
    KeAcquireSpinLockAtDpcLevel(&DeviceJobQueue.Lock);
    DeviceJobQueue.Stats.Processed += DeviceJobQueue.JobCount;
    DeviceJobQueue.JobCount = 0;
    KeStallExecutionProcessor(WORK_US);
    KeReleaseSpinLockFromDpcLevel(&DeviceJobQueue.Lock);
}

/* The cure: raise to the device's IRQL only to take a job; work with the lock dropped. */
static VOID run_fixed(VOID)
{
    for (;;) {
        KIRQL old;
        KeRaiseIrql(DeviceJobQueue.DeviceJobIrql, &old);
        KeAcquireSpinLockAtDpcLevel(&DeviceJobQueue.Lock);
        ULONG left = DeviceJobQueue.JobCount;
        if (left)
            DeviceJobQueue.JobCount = left - 1; /* the order of jobs does not matter here */
        KeReleaseSpinLockFromDpcLevel(&DeviceJobQueue.Lock);
        KeLowerIrql(old);
        if (left == 0)
            break;
        DeviceJobQueue.Stats.Processed++;
    }
    KeStallExecutionProcessor(WORK_US);
}

static VOID RunQueuedItems(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    DeviceJobQueue.RoutineActive = TRUE;
    DeviceJobQueue.Stats.Runs++;
    if (DeviceJobQueue.Mode == KBDDEMO_BROKEN)
        run_broken();
    else
        run_fixed();
    DeviceJobQueue.RoutineActive = FALSE;
}

BOOLEAN KbdDemoSetMode(KBDDEMO_MODE Mode)
{
    PKINTERRUPT keyboard = I8042GetInterrupt();
    LARGE_INTEGER due = { .QuadPart = -PERIOD_MS * 10000ll };

    if (keyboard == NULL)
        return FALSE;
    KeCancelTimer(&DeviceJobQueue.Timer);
    I8042SetIsrHook(NULL);
    KeFlushQueuedDpcs(); /* no RunQueuedItems of the old mode still queued or running */
    DeviceJobQueue.Mode = Mode;
    if (Mode == KBDDEMO_OFF)
        return TRUE;
    KeInitializeSpinLock(&DeviceJobQueue.Lock);
    DeviceJobQueue.JobCount = 0;
    DeviceJobQueue.DeviceJobIrql = keyboard->SynchronizeIrql;
    KeInitializeTimer(&DeviceJobQueue.Timer);
    KeInitializeDpc(&DeviceJobQueue.Dpc, RunQueuedItems, NULL);
    I8042SetIsrHook(InterruptHandler);
    KeSetTimerEx(&DeviceJobQueue.Timer, due, PERIOD_MS, &DeviceJobQueue.Dpc); /* on this CPU */
    return TRUE;
}

KBDDEMO_MODE KbdDemoQuery(PKBDDEMO_STATISTICS Statistics)
{
    *Statistics = DeviceJobQueue.Stats;
    return DeviceJobQueue.Mode;
}
