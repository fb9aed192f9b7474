/*
 * wait.h - dispatcher objects and waiting for them: NT's DISPATCHER_HEADER,
 * the event (KEVENT), KeWaitForSingleObject and KeDelayExecutionThread.
 * Timers (timer.h) are dispatcher objects too.  Layouts are build 19041's.
 *
 * A wait that cannot be satisfied at once blocks the thread (kernel/ke/wait.c)
 * until the object is signaled or the timeout passes.  A wait that would
 * block at DISPATCH_LEVEL or above is a bugcheck, 0xB8 ATTEMPTED_SWITCH_FROM_DPC
 * inside a DPC routine as in NT, 0xA IRQL_NOT_LESS_OR_EQUAL elsewhere
 * (docs/deviations.md).
 */
#ifndef IRQLAB_WAIT_H
#define IRQLAB_WAIT_H

#include <irqlab/list.h>

#define EventNotificationObject    0 /* KOBJECTS values */
#define EventSynchronizationObject 1

typedef struct _DISPATCHER_HEADER {
    UCHAR Type;              /* a KOBJECTS value */
    UCHAR TimerControlFlags; /* timers, bit 0: Absolute */
    UCHAR Hand;
    UCHAR TimerMiscFlags; /* timers, bit 6: Inserted (in a CPU's timer list) */
    volatile LONG SignalState;
    LIST_ENTRY WaitListHead; /* the wait blocks of the threads waiting on it */
} DISPATCHER_HEADER;

_Static_assert(sizeof(DISPATCHER_HEADER) == 0x18, "19041 _DISPATCHER_HEADER");
_Static_assert(offsetof(DISPATCHER_HEADER, SignalState) == 0x04, "19041 _DISPATCHER_HEADER");
_Static_assert(offsetof(DISPATCHER_HEADER, WaitListHead) == 0x08, "19041 _DISPATCHER_HEADER");

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

_Static_assert(sizeof(KEVENT) == 0x18, "19041 _KEVENT");

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive = 7,
    WrMutex = 29,
    WrFastMutex = 34,
    WrGuardedMutex = 35,
} KWAIT_REASON;

typedef enum _MODE { KernelMode, UserMode } MODE;
typedef CCHAR KPROCESSOR_MODE;
typedef LONG KPRIORITY;
/* The priority increments of wdm.h: what a driver passes to KeSetEvent or IoCompleteRequest. */
#define IO_NO_INCREMENT       0
#define EVENT_INCREMENT       1
#define MUTANT_INCREMENT      1
#define SEMAPHORE_INCREMENT   1
#define IO_DISK_INCREMENT     1
#define IO_SERIAL_INCREMENT   2
#define IO_NETWORK_INCREMENT  2
#define IO_KEYBOARD_INCREMENT 6
#define IO_MOUSE_INCREMENT    6
#define IO_SOUND_INCREMENT    8

/* IRQL: any.  Signaled or not; a synchronization event resets when it satisfies a wait. */
VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
/*
 * IRQL: <= DISPATCH_LEVEL.  Signals the event; returns its previous state.
 * Increment is a thread priority boost and Wait TRUE promises a wait right
 * after: the dispatcher lock stays held (and IRQL raised) until that wait, as
 * in NT.  Increment (a priority boost) changes nothing yet.
 */
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
/* IRQL: <= DISPATCH_LEVEL.  Not signaled; KeResetEvent returns the previous state. */
LONG KeResetEvent(PRKEVENT Event);
VOID KeClearEvent(PRKEVENT Event);
/* IRQL: <= DISPATCH_LEVEL. */
LONG KeReadStateEvent(PRKEVENT Event);

/*
 * IRQL: <= APC_LEVEL, or <= DISPATCH_LEVEL with a zero *Timeout (a test that
 * never waits).  Object is a KEVENT, KTIMER or KTHREAD (signaled when it
 * ends).  Timeout NULL waits forever; a negative value is relative, a
 * positive one an absolute system time, in 100 ns units.  STATUS_SUCCESS
 * when the object was signaled (and a synchronization object is reset
 * again), STATUS_TIMEOUT when it was not in time.  NT releases a waiter at
 * KeSetEvent itself, so a reset right after does not take the wake-up back.
 * WaitMode and Alertable are accepted and ignored.
 */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout);

typedef enum _WAIT_TYPE { WaitAll, WaitAny } WAIT_TYPE;
typedef struct _KWAIT_BLOCK {
    LIST_ENTRY WaitListEntry; /* on the object's WaitListHead */
    UCHAR WaitType;           /* WaitAll or WaitAny */
    UCHAR BlockState;         /* irqlab: 1 while linked on an object */
    USHORT WaitKey;           /* the index into the object array: STATUS_WAIT_0 + WaitKey */
    LONG SpareLong;           /* NT keeps KTHREAD fields here (State, ContextSwitches, ...) */
    struct _KTHREAD *Thread;
    PVOID Object;
    PVOID SparePtr;
} KWAIT_BLOCK, *PKWAIT_BLOCK;
_Static_assert(sizeof(KWAIT_BLOCK) == 0x30 && offsetof(KWAIT_BLOCK, Thread) == 0x18 &&
               offsetof(KWAIT_BLOCK, Object) == 0x20, "Windows 10 x64 _KWAIT_BLOCK");
#define THREAD_WAIT_OBJECTS  3 /* waited on without a caller's KWAIT_BLOCK array */
#define TIMER_WAIT_BLOCK     3 /* WaitBlock[3]: the thread's own timer, for timeouts */
#define MAXIMUM_WAIT_OBJECTS 64

/*
 * IRQL: as KeWaitForSingleObject.  WaitAny: STATUS_WAIT_0 + the index of the
 * first object found signaled (and taken, if it is a synchronization one);
 * WaitAll: STATUS_SUCCESS once all are signaled at one look (the
 * synchronization ones then taken together); STATUS_TIMEOUT otherwise.  More
 * than THREAD_WAIT_OBJECTS without WaitBlockArray, or more than
 * MAXIMUM_WAIT_OBJECTS, is bugcheck 0xC MAXIMUM_WAIT_OBJECTS_EXCEEDED, as in NT;
 * no object at all is STATUS_INVALID_PARAMETER.
 */
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray);

/* IRQL: <= APC_LEVEL.  STATUS_SUCCESS once Interval (as a Timeout above) has passed; STATUS_INVALID_PARAMETER without one. */
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);

#endif
