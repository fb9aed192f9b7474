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

/* Windows 10's x64 layout as public `dt nt!_KINTERRUPT` dumps give it, up to IsrDpcStats (whose
 * size differs between builds: RedirectObject is at 0xf0 in some dumps, 0x110 in others). */
typedef struct _KINTERRUPT {
    SHORT Type;
    SHORT Size;
    LIST_ENTRY InterruptListEntry; /* on the vector's chain */
    PKSERVICE_ROUTINE ServiceRoutine;
    PVOID MessageServiceRoutine;   /* irqlab: no message-signaled interrupts */
    ULONG MessageIndex;
    PVOID ServiceContext;
    KSPIN_LOCK SpinLock;
    ULONG TickCount;
    PKSPIN_LOCK ActualLock; /* SpinLock, the caller's shared lock, or NULL for a per-CPU system vector */
    PVOID DispatchAddress;  /* the dispatcher that walks this vector's chain */
    ULONG Vector;
    KIRQL Irql;
    KIRQL SynchronizeIrql;
    BOOLEAN FloatingSave;
    BOOLEAN Connected;
    ULONG Number;           /* the processor it was connected on */
    BOOLEAN ShareVector;
    BOOLEAN EmulateActiveBoth;
    USHORT ActiveCount;     /* CPUs inside its service routine now (KeDisconnectInterrupt waits for 0) */
    LONG InternalState;
    KINTERRUPT_MODE Mode;
    ULONG Polarity;
    ULONG ServiceCount;     /* irqlab: calls of the routine that claimed the interrupt */
    ULONG DispatchCount;    /* irqlab: calls of the routine */
    PVOID PassiveEvent;
    PVOID TrapFrame;
    PVOID DisconnectData;
    PVOID ServiceThread;
    PVOID ConnectionData;
    PVOID IntTrackEntry;
    UCHAR IsrDpcStats[0x60];
    PVOID RedirectObject;
    UCHAR Padding[8];
} KINTERRUPT, *PKINTERRUPT;
_Static_assert(offsetof(KINTERRUPT, InterruptListEntry) == 0x008 && offsetof(KINTERRUPT, ServiceRoutine) == 0x018 &&
               offsetof(KINTERRUPT, ServiceContext) == 0x030 && offsetof(KINTERRUPT, SpinLock) == 0x038 &&
               offsetof(KINTERRUPT, ActualLock) == 0x048 && offsetof(KINTERRUPT, DispatchAddress) == 0x050 &&
               offsetof(KINTERRUPT, Vector) == 0x058 && offsetof(KINTERRUPT, Irql) == 0x05c &&
               offsetof(KINTERRUPT, SynchronizeIrql) == 0x05d && offsetof(KINTERRUPT, Connected) == 0x05f &&
               offsetof(KINTERRUPT, Number) == 0x060 && offsetof(KINTERRUPT, ShareVector) == 0x064 &&
               offsetof(KINTERRUPT, ActiveCount) == 0x066 && offsetof(KINTERRUPT, Mode) == 0x06c &&
               offsetof(KINTERRUPT, ServiceCount) == 0x074 && offsetof(KINTERRUPT, DispatchCount) == 0x078 &&
               offsetof(KINTERRUPT, IsrDpcStats) == 0x0b0,
               "Windows 10 x64 _KINTERRUPT");

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
