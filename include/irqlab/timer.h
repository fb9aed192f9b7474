/*
 * timer.h - NT's kernel timer (KTIMER): a due time, an optional period in
 * milliseconds and an optional DPC, expired by the clock interrupt and
 * processed at DISPATCH_LEVEL.  The layout is build 19041's, pinned below.
 *
 * Due times are in 100 ns units: negative is relative to now, positive is
 * an absolute system time.  irqlab's system time counts from boot
 * (KeQuerySystemTime equals the interrupt time; see docs/deviations.md).
 */
#ifndef IRQLAB_TIMER_H
#define IRQLAB_TIMER_H

#include <irqlab/dpc.h>
#include <irqlab/wait.h>

#define TimerNotificationObject    8 /* KOBJECTS values */
#define TimerSynchronizationObject 9

typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime; /* interrupt time at which it expires */
    LIST_ENTRY TimerListEntry;
    PKDPC Dpc;
    USHORT Processor; /* whose timer list holds it */
    USHORT TimerType;
    ULONG Period; /* ms; 0 for a one-shot timer */
} KTIMER, *PKTIMER;

_Static_assert(sizeof(KTIMER) == 0x40, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, DueTime) == 0x18, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, TimerListEntry) == 0x20, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, Dpc) == 0x30, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, Processor) == 0x38, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, TimerType) == 0x3a, "19041 _KTIMER");
_Static_assert(offsetof(KTIMER, Period) == 0x3c, "19041 _KTIMER");

/* IRQL: <= DISPATCH_LEVEL.  Not set, not signaled. */
VOID KeInitializeTimer(PKTIMER Timer); /* a notification timer */
VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
/*
 * IRQL: <= DISPATCH_LEVEL.  (Re)arms the timer on this CPU and clears its
 * signal; Period (ms, >= 0) makes it periodic.  When it expires its DPC is
 * queued with the expiry time's low and high parts as the arguments.
 * TRUE when it was still set (and has now been re-set).
 */
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
/* IRQL: <= DISPATCH_LEVEL.  TRUE when it was set; it will not expire now.  A DPC already queued still runs. */
BOOLEAN KeCancelTimer(PKTIMER Timer);
/* IRQL: <= DISPATCH_LEVEL.  TRUE once it has expired (until set again). */
BOOLEAN KeReadStateTimer(PKTIMER Timer);

/* IRQL: any.  100 ns units since boot. */
VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime);

#endif
