/*
 * ki.h - kernel-internal (Ki) routines shared between kernel/ke/ files only.
 * Other floors use the public headers: drivers <irqlab/wdm.h>, the boot
 * sequence <irqlab/keboot.h>, the debugger and tests <irqlab/kequery.h>.
 */
#ifndef KERNEL_KE_KI_H
#define KERNEL_KE_KI_H

#include <arch/arch.h>
#include <irqlab/ke.h>
#include <irqlab/kequery.h>
#include <irqlab/prcb.h>
#include <irqlab/thread.h>

struct irqlab_bootinfo;


/* processor.c: one CPU's KPCR (with its KPRCB), descriptor tables and stacks. */
enum { KI_STACK_KERNEL, KI_STACK_DPC, KI_STACK_DOUBLE_FAULT, KI_STACK_NMI, KI_STACK_MACHINE_CHECK,
       KI_STACK_COUNT };
typedef struct _KI_PROCESSOR {
    KPCR Pcr;
    UCHAR ArchTables[ARCH_CPU_TABLES_SIZE] __attribute__((aligned(16)));
    ULONG64 StackTop[KI_STACK_COUNT]; /* kept across a failed start, for the next CPU */
    KTHREAD IdleThread;
    KTHREAD DpcThread;  /* runs DpcData[1] at PASSIVE_LEVEL (dpcthread.c) */
    KEVENT DpcEvent;    /* what it waits on between batches */
} KI_PROCESSOR, *PKI_PROCESSOR;
PKI_PROCESSOR KiBootProcessorBlock(VOID);
/* Zeroes the KPCR and tables and fills in NT's defaults for CPU Number. */
VOID KiInitializeProcessorBlock(PKI_PROCESSOR Processor, ULONG Number, ULONG ApicId);
/* Allocates the stacks still missing and records them in the KPRCB; FALSE when out of memory. */
BOOLEAN KiAllocateProcessorStacks(PKI_PROCESSOR Processor);
VOID KiAddActiveProcessor(PKPRCB Prcb);


/* dpc.c: the 0x2F interrupt (its own trap entry: it may switch threads); the retire loop
 * (DISPATCH_LEVEL), from it and the idle loop. */
VOID KiDpcInterrupt(PKTRAP_FRAME TrapFrame);
VOID KiRetireDpcList(PKPRCB Prcb);
/* dpc.c: takes the first DPC off a queue with what its routine gets (at Irql >= DISPATCH_LEVEL,
 * interrupts off); FALSE when the queue is empty. */
typedef struct _KI_DPC_CALL {
    PKDPC Dpc;
    PKDEFERRED_ROUTINE Routine;
    PVOID Context, Arg1, Arg2;
} KI_DPC_CALL;
BOOLEAN KiTakeDpc(PKDPC_DATA Data, KIRQL Irql, KI_DPC_CALL *Call);
/* dpcthread.c: DISPATCH_LEVEL, from the retire step: threaded DPCs wait for Prcb's DPC thread. */
VOID KiSignalDpcThread(PKPRCB Prcb);

/* apc.c: vector 0x1F; delivery at APC_LEVEL; what a region's end or a mutex's release left waiting. */
#define KI_MISC_APC_QUEUEABLE (1u << 14) /* KTHREAD.MiscFlags.ApcQueueable: cleared as it ends */
VOID KiApcInterrupt(PKTRAP_FRAME TrapFrame);
VOID KiDeliverApc(VOID);
VOID KiCheckForKernelApcDelivery(VOID);
VOID KiRundownApcs(VOID); /* the current thread ends: 0x20 if an APC or a region is left */

/* spinlock.c: takes a spin lock at CurrentIrql >= DISPATCH_LEVEL, which the caller knows (a CR8 read
 * is a TCG helper call); spins, and bugchecks 0xF on recursion.  kx.h takes it in line when free. */
VOID KiAcquireSpinLockAtIrql(PKSPIN_LOCK SpinLock, KIRQL CurrentIrql);

/* dispatch.c: the dispatcher lock (SYNCH_LEVEL) and what runs under it. */
extern KSPIN_LOCK KiDispatcherLock;
KIRQL KiAcquireDispatcherLock(VOID);
VOID KiReleaseDispatcherLock(KIRQL OldIrql);
VOID KiReadyThread(PKTHREAD Thread);
BOOLEAN KiUnreadyThread(PKTHREAD Thread);
VOID KiRequestQuantumEnd(ULONG Number);
VOID KiRequestReschedule(ULONG Number);
/* Lock held, the current thread no longer Running: run another; returns (lock released, interrupts
 * off, SYNCH_LEVEL) once this thread is resumed. */
VOID KiSwapThread(VOID);
/* The 0x2F interrupt's end, interrupts off at DISPATCH_LEVEL: a standby thread or quantum end. */
VOID KiDispatchNextThread(PKPRCB Prcb);
BOOLEAN KiIdleHasWork(PKPRCB Prcb);
VOID KiIdleSchedule(PKPRCB Prcb);

/* thread.c: the threads each processor starts with; lock held, a woken thread's boost (NT's
 * unwait boost) and its decay by one at each quantum end. */
VOID KiInitializeBootThreads(PKI_PROCESSOR Processor);
VOID KiInitializeIdleThread(PKI_PROCESSOR Processor);
VOID KiBoostPriority(PKTHREAD Thread, KPRIORITY Increment);
VOID KiDecayPriority(PKTHREAD Thread);

/* wait.c: lock held; ends the waits on Object that its state satisfies, boosting each woken thread by
 * Increment.  KiEndSignal releases the
 * lock after a signal, or keeps it for the caller's next wait (Wait TRUE). */
VOID KiWaitTest(DISPATCHER_HEADER *Object, KPRIORITY Increment);
/* Lock held.  Ends a Waiting thread's wait with Status (STATUS_KERNEL_APC: it resumes after the APC). */
VOID KiUnwaitThread(PKTHREAD Thread, LONG_PTR Status, KPRIORITY Increment);
VOID KiEndSignal(KIRQL OldIrql, BOOLEAN Wait);

/* timer.c: a thread's timeout, IRQL >= DISPATCH_LEVEL with the dispatcher lock held. */
VOID KiSetTimerLocked(PKTIMER Timer, ULONG64 DueTime);
VOID KiCancelTimerLocked(PKTIMER Timer);
/* DISPATCH_LEVEL, interrupts on: runs one DPC routine with the watchdog's allowance and NT's
 * check that it returns at DISPATCH_LEVEL (the retire loop, and timer expiry calling its own). */
VOID KiCallDpcRoutine(PKPRCB Prcb, PKDPC Dpc, PKDEFERRED_ROUTINE Routine, PVOID Context, PVOID Arg1, PVOID Arg2);

/* ipi.c */
VOID KiInitializeIpi(VOID);

/* kdsupport.c: the debugger's traps (#BP, #DB; TRUE: handled), its freeze NMI (TRUE: this CPU was
 * held and let go), and CPU 0's clock asking it for a break-in. */
BOOLEAN KiDebuggerTrap(PKTRAP_FRAME TrapFrame);
BOOLEAN KiDebuggerFreezeNmi(PKTRAP_FRAME TrapFrame);
VOID KiPollDebugger(VOID);

/* trap.c: called by trap.asm for every vector, interrupts off. */
void KiDispatchTrap(PKTRAP_FRAME TrapFrame);

/* interrupt.c: the vector chains; the dispatcher for vectors 32-255. */
void KiInitializeInterrupts(void);
void KiInterruptDispatch(PKTRAP_FRAME TrapFrame);
/* A per-processor system vector (clock, IPI, APIC error) at its class's IRQL, with no
 * interrupt lock: every CPU services it independently.  Bugchecks 0x5C if it is taken. */
VOID KiConnectSystemInterrupt(struct _KINTERRUPT *Interrupt,
                              BOOLEAN (*ServiceRoutine)(struct _KINTERRUPT *, PVOID), ULONG Vector);

/* clock.c: calibrates the timers and starts the clock interrupt; each AP starts its own. */
void KiInitializeClock(void);
void KiStartClockProcessor(void);

/* runtime.c: NT's KeUpdateRunTime for this CPU's tick, and the tunables it uses (command line). */
VOID KiInitializeRunTime(VOID); /* after the clock: the watchdog limits are in ticks */
VOID KiInitializeRunTimeProcessor(PKPRCB Prcb);
VOID KiUpdateRunTime(PKPRCB Prcb, KIRQL PreviousIrql);
/* Any IRQL: TRUE once the clock watchdog's limit has passed since SinceTsc, read on this same
 * CPU (never when the watchdog is off). */
BOOLEAN KiClockWatchdogExpired(ULONG64 SinceTsc);
/* Bugcheck 0x101 CLOCK_WATCHDOG_TIMEOUT for the first CPU in Silent (an affinity mask). */
DECLSPEC_NORETURN VOID KiClockWatchdogTimeout(KAFFINITY Silent);

/* timer.c: the per-CPU timer list; the clock's check (CLOCK_LEVEL); expiry from the retire loop. */
VOID KiInitializeTimerProcessor(PKPRCB Prcb);
VOID KiCheckTimers(PKPRCB Prcb);
VOID KiTimerExpiration(PKPRCB Prcb);
/* bugcheck.c: TRUE once some CPU has begun a bugcheck; the others then freeze (no return). */
BOOLEAN KiBugCheckInProgress(void);
DECLSPEC_NORETURN void KiFreezeProcessor(void);
/* bugcallback.c: the registered callbacks, after the report (HIGH_LEVEL, others frozen). */
VOID KiInvokeBugCheckCallbacks(ULONG Code, const ULONG_PTR P[4]);
/* bugcheck.c: the exception path, with the faulting frame for the report. */
DECLSPEC_NORETURN void KiBugCheckWithFrame(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                           ULONG_PTR P4, PKTRAP_FRAME TrapFrame);

/* print.c: writes bytes whole under the print lock; Force steals it (bugcheck). */
VOID KiPrintRaw(PCSTR Text, SIZE_T Length);
void KiPrintForceUnlock(void);
/* Interrupts off (the debugger's freeze and thaw): the stopping processor takes DbgPrint's lock
 * before the others are frozen, so none is stopped mid-line.  FALSE: it held the lock already (the
 * stop came inside its own DbgPrint), or a trapped holder never let it go and the stop prints
 * past the lock.  Release takes what Hold returned. */
BOOLEAN KiHoldPrintForStop(VOID);
VOID KiReleasePrintAfterStop(BOOLEAN Held);
#endif
