/*
 * interrupt.h - interrupt objects (NT's KINTERRUPT) and the clock.
 */
#ifndef IRQLAB_INTERRUPT_H
#define IRQLAB_INTERRUPT_H

#include <irqlab/ke.h>
#include <irqlab/list.h>
#include <irqlab/spinlock.h>

struct _KINTERRUPT;
typedef BOOLEAN (*PKSERVICE_ROUTINE)(struct _KINTERRUPT *Interrupt, PVOID ServiceContext);

#define InterruptObject 0x16 /* NT's KOBJECTS value */

/* irqlab's layout (see docs/deviations.md); the fields are NT's. */
typedef struct _KINTERRUPT {
    USHORT Type;
    USHORT Size;
    LIST_ENTRY InterruptListEntry; /* on the vector's chain */
    PKSERVICE_ROUTINE ServiceRoutine;
    PVOID ServiceContext;
    KSPIN_LOCK SpinLock;
    PKSPIN_LOCK ActualLock; /* SpinLock, the caller's shared lock, or NULL for a per-CPU system vector */
    ULONG Vector;
    KIRQL Irql;
    KIRQL SynchronizeIrql;
    BOOLEAN ShareVector;
    BOOLEAN Connected;
    KINTERRUPT_MODE Mode;
    ULONG64 ServiceCount; /* irqlab: times the routine ran */
} KINTERRUPT, *PKINTERRUPT;

/* IRQL: <= DISPATCH_LEVEL.  SpinLock NULL: the object's own lock. */
VOID KeInitializeInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                           PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                           KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector);
/* IRQL: <= DISPATCH_LEVEL.  FALSE if the vector's class is not Irql, or it is taken and not shared. */
BOOLEAN KeConnectInterrupt(PKINTERRUPT Interrupt);
BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt);

/*
 * IRQL: <= the object's SynchronizeIrql.  Raise to it and take the lock its
 * service routine runs under, so code at a lower level cannot be interrupted
 * by that ISR while it touches what the ISR touches (returns the old IRQL).
 */
KIRQL KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt);
VOID KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql);
typedef BOOLEAN (*PKSYNCHRONIZE_ROUTINE)(PVOID SynchronizeContext);
/* IRQL: <= SynchronizeIrql.  Runs the routine under the interrupt's lock; its result is returned. */
BOOLEAN KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                               PVOID SynchronizeContext);

/* Interrupts that arrived on a vector nobody connected, since boot. */
ULONG64 KeQueryUnexpectedInterruptCount(ULONG Vector);

/* ---- clock ---------------------------------------------------------------- */
extern volatile ULONG64 KeTickCount;
/* 100 ns units since the clock started. */
ULONG64 KeQueryInterruptTime(VOID);
/* 100 ns units per tick. */
ULONG KeQueryTimeIncrement(VOID);
/* TSC ticks per second, and where the figure came from ("CPUID 0x15", "PIT", ...). */
ULONG64 KeQueryTscFrequency(PCSTR *Source);
/* IRQL: any.  NT's performance counter: the TSC, and its frequency when asked. */
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);

#endif
