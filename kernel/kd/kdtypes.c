/*
 * kdtypes.c - the layouts `dt` shows: NT's DPC, timer and per-processor
 * structures (build 19041 offsets, pinned in the public headers) and
 * irqlab's own KINTERRUPT and KPRCB_IRQLAB.  Only named fields are listed;
 * NT's padding is left out, as WinDbg leaves out what a PDB does not name.
 */
#include <irqlab/apc.h>
#include <irqlab/iomgr.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/thread.h>
#include <irqlab/timer.h>
#include "kdtypes.h"

#define FIELD(T, f, kind, target) { #f, offsetof(T, f), sizeof(((T *)0)->f), 1, kind, target, NULL }
#define ARRAY(T, f, kind, target)                                                                  \
    { #f, offsetof(T, f), sizeof(((T *)0)->f[0]), ARRAYSIZE(((T *)0)->f), kind, target, NULL }
#define U(T, f)         FIELD(T, f, KdUnsigned, NULL)
#define S(T, f)         FIELD(T, f, KdSigned, NULL)
#define C(T, f)         FIELD(T, f, KdChar, NULL)
#define P(T, f, target) FIELD(T, f, KdPointer, target)
#define E(T, f, target) FIELD(T, f, KdStruct, target)
#define TYPE(name, T, fields) { name, sizeof(T), fields, ARRAYSIZE(fields) }

static const KD_FIELD KdSingleListEntry[] = {
    P(SINGLE_LIST_ENTRY, Next, "_SINGLE_LIST_ENTRY"),
};

static const KD_FIELD KdListEntry[] = {
    P(LIST_ENTRY, Flink, "_LIST_ENTRY"),
    P(LIST_ENTRY, Blink, "_LIST_ENTRY"),
};

static const KD_FIELD KdUlargeInteger[] = {
    U(ULARGE_INTEGER, LowPart),
    U(ULARGE_INTEGER, HighPart),
    U(ULARGE_INTEGER, QuadPart),
};

static const KD_FIELD KdDpc[] = {
    U(KDPC, TargetInfoAsUlong),
    C(KDPC, Type),
    C(KDPC, Importance),
    U(KDPC, Number),
    E(KDPC, DpcListEntry, "_SINGLE_LIST_ENTRY"),
    U(KDPC, ProcessorHistory),
    FIELD(KDPC, DeferredRoutine, KdFunction, NULL),
    P(KDPC, DeferredContext, NULL),
    P(KDPC, SystemArgument1, NULL),
    P(KDPC, SystemArgument2, NULL),
    P(KDPC, DpcData, NULL),
};

static const KD_FIELD KdDpcList[] = {
    E(KDPC_LIST, ListHead, "_SINGLE_LIST_ENTRY"),
    P(KDPC_LIST, LastEntry, "_SINGLE_LIST_ENTRY"),
};

static const KD_FIELD KdDpcData[] = {
    E(KDPC_DATA, DpcList, "_KDPC_LIST"),
    U(KDPC_DATA, DpcLock),
    S(KDPC_DATA, DpcQueueDepth),
    U(KDPC_DATA, DpcCount),
    P(KDPC_DATA, ActiveDpc, "_KDPC"),
};

static const KD_FIELD KdDispatcherHeader[] = {
    U(DISPATCHER_HEADER, Type),
    U(DISPATCHER_HEADER, TimerControlFlags),
    U(DISPATCHER_HEADER, Hand),
    U(DISPATCHER_HEADER, TimerMiscFlags),
    S(DISPATCHER_HEADER, SignalState),
    E(DISPATCHER_HEADER, WaitListHead, "_LIST_ENTRY"),
};

static const KD_FIELD KdEvent[] = {
    E(KEVENT, Header, "_DISPATCHER_HEADER"),
};

static const KD_FIELD KdTimer[] = {
    E(KTIMER, Header, "_DISPATCHER_HEADER"),
    E(KTIMER, DueTime, "_ULARGE_INTEGER"),
    E(KTIMER, TimerListEntry, "_LIST_ENTRY"),
    P(KTIMER, Dpc, "_KDPC"),
    U(KTIMER, Processor),
    U(KTIMER, TimerType),
    U(KTIMER, Period),
};

static const PCSTR KdInterruptModes[] = { "LevelSensitive", "Latched", NULL };

static const KD_FIELD KdInterrupt[] = {
    U(KINTERRUPT, Type),
    U(KINTERRUPT, Size),
    E(KINTERRUPT, InterruptListEntry, "_LIST_ENTRY"),
    FIELD(KINTERRUPT, ServiceRoutine, KdFunction, NULL),
    P(KINTERRUPT, ServiceContext, NULL),
    U(KINTERRUPT, SpinLock),
    P(KINTERRUPT, ActualLock, "Uint8B"),
    FIELD(KINTERRUPT, DispatchAddress, KdFunction, NULL),
    U(KINTERRUPT, Vector),
    U(KINTERRUPT, Irql),
    U(KINTERRUPT, SynchronizeIrql),
    U(KINTERRUPT, ShareVector),
    U(KINTERRUPT, Connected),
    { "Mode", offsetof(KINTERRUPT, Mode), sizeof(KINTERRUPT_MODE), 1, KdEnum, "_KINTERRUPT_MODE",
      KdInterruptModes },
    U(KINTERRUPT, Number),
    U(KINTERRUPT, ActiveCount),
    U(KINTERRUPT, ServiceCount),
    U(KINTERRUPT, DispatchCount),
};

static const KD_FIELD KdPrcb[] = {
    U(KPRCB, MxCsr),
    U(KPRCB, LegacyNumber),
    U(KPRCB, ReservedMustBeZero),
    U(KPRCB, InterruptRequest),
    U(KPRCB, IdleHalt),
    P(KPRCB, CurrentThread, "_KTHREAD"),
    P(KPRCB, NextThread, "_KTHREAD"),
    P(KPRCB, IdleThread, "_KTHREAD"),
    U(KPRCB, NestingLevel),
    U(KPRCB, ClockOwner),
    U(KPRCB, PendingTickFlags),
    U(KPRCB, IdleState),
    U(KPRCB, Number),
    U(KPRCB, RspBase),
    U(KPRCB, PrcbLock),
    P(KPRCB, PriorityState, "Char"),
    C(KPRCB, CpuType),
    C(KPRCB, CpuID),
    U(KPRCB, CpuStep),
    U(KPRCB, MHz),
    U(KPRCB, MinorVersion),
    U(KPRCB, MajorVersion),
    U(KPRCB, BuildType),
    U(KPRCB, CpuVendor),
    U(KPRCB, CoresPerPhysicalProcessor),
    U(KPRCB, LogicalProcessorsPerCore),
    U(KPRCB, TscFrequency),
    U(KPRCB, GroupSetMember),
    U(KPRCB, Group),
    U(KPRCB, GroupIndex),
    U(KPRCB, InitialApicId),
    S(KPRCB, PacketBarrier),
    S(KPRCB, TargetCount),
    U(KPRCB, IpiFrozen),
    ARRAY(KPRCB, DpcData, KdStruct, "_KDPC_DATA"),
    P(KPRCB, DpcStack, NULL),
    S(KPRCB, MaximumDpcQueueDepth),
    U(KPRCB, DpcRequestRate),
    U(KPRCB, MinimumDpcRate),
    U(KPRCB, DpcLastCount),
    U(KPRCB, ThreadDpcEnable),
    U(KPRCB, QuantumEnd),
    U(KPRCB, DpcRoutineActive),
    U(KPRCB, IdleSchedule),
    S(KPRCB, DpcRequestSummary),
    U(KPRCB, LastTick),
    U(KPRCB, ClockInterrupts),
    E(KPRCB, CallDpc, "_KDPC"),
    S(KPRCB, DpcWatchdogPeriod),
    S(KPRCB, DpcWatchdogCount),
    U(KPRCB, InterruptCount),
    U(KPRCB, KernelTime),
    U(KPRCB, UserTime),
    U(KPRCB, DpcTime),
    U(KPRCB, InterruptTime),
    U(KPRCB, AdjustDpcThreshold),
    U(KPRCB, DebuggerSavedIRQL),
    U(KPRCB, DpcTimeCount),
    U(KPRCB, DpcTimeLimit),
    ARRAY(KPRCB, VendorString, KdString, NULL),
    E(KPRCB, Irqlab, "_KPRCB_IRQLAB"),
};

static const KD_FIELD KdPrcbIrqlab[] = {
    ARRAY(KPRCB_IRQLAB, InterruptsAtIrql, KdUnsigned, NULL),
    ARRAY(KPRCB_IRQLAB, TicksAtIrql, KdUnsigned, NULL),
    U(KPRCB_IRQLAB, IpiRequests),
    U(KPRCB_IRQLAB, Started),
    U(KPRCB_IRQLAB, PreviousIrql),
    U(KPRCB_IRQLAB, IpiCount),
    U(KPRCB_IRQLAB, IdleHalts),
    U(KPRCB_IRQLAB, KernelStackTop),
    ARRAY(KPRCB_IRQLAB, IstStackTop, KdUnsigned, NULL),
    P(KPRCB_IRQLAB, ArchTables, NULL),
    ARRAY(KPRCB_IRQLAB, QueuedLocks, KdPointer, "_KLOCK_QUEUE_HANDLE"),
    ARRAY(KPRCB_IRQLAB, QueuedLockIrql, KdUnsigned, NULL),
    U(KPRCB_IRQLAB, LongestDpcCycles),
    FIELD(KPRCB_IRQLAB, LongestDpcRoutine, KdFunction, NULL),
    U(KPRCB_IRQLAB, DispatchStretch),
    U(KPRCB_IRQLAB, LongestDispatchStretch),
    U(KPRCB_IRQLAB, IdlePoll),
    U(KPRCB_IRQLAB, HoldAtDispatch),
    E(KPRCB_IRQLAB, TimerList, "_LIST_ENTRY"),
    U(KPRCB_IRQLAB, NextTimerDue),
};

static const KD_FIELD KdPcr[] = {
    P(KPCR, GdtBase, "_KGDTENTRY64"),
    P(KPCR, TssBase, "_KTSS64"),
    U(KPCR, UserRsp),
    P(KPCR, Self, "_KPCR"),
    P(KPCR, CurrentPrcb, "_KPRCB"),
    P(KPCR, LockArray, "_KSPIN_LOCK_QUEUE"),
    P(KPCR, Used_Self, NULL),
    P(KPCR, IdtBase, "_KIDTENTRY64"),
    ARRAY(KPCR, Unused, KdUnsigned, NULL),
    U(KPCR, Irql),
    U(KPCR, SecondLevelCacheAssociativity),
    U(KPCR, ObsoleteNumber),
    U(KPCR, Fill0),
    ARRAY(KPCR, Unused0, KdUnsigned, NULL),
    U(KPCR, MajorVersion),
    U(KPCR, MinorVersion),
    U(KPCR, StallScaleFactor),
    ARRAY(KPCR, Unused1, KdPointer, NULL),
    ARRAY(KPCR, KernelReserved, KdUnsigned, NULL),
    U(KPCR, SecondLevelCacheSize),
    ARRAY(KPCR, HalReserved, KdUnsigned, NULL),
    U(KPCR, Unused2),
    P(KPCR, KdVersionBlock, NULL),
    P(KPCR, Unused3, NULL),
    ARRAY(KPCR, PcrAlign1, KdUnsigned, NULL),
    E(KPCR, Prcb, "_KPRCB"),
};

static const PCSTR KdThreadStates[] = { "Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting",
                                        "Transition", "DeferredReady", NULL };

static const KD_FIELD KdThread[] = {
    E(KTHREAD, Header, "_DISPATCHER_HEADER"),
    U(KTHREAD, QuantumTarget),
    P(KTHREAD, InitialStack, NULL),
    P(KTHREAD, StackLimit, NULL),
    P(KTHREAD, StackBase, NULL),
    P(KTHREAD, KernelStack, NULL),
    U(KTHREAD, Running),
    U(KTHREAD, MiscFlags),
    E(KTHREAD, ApcState, "_KAPC_STATE"),
    C(KTHREAD, Priority),
    S(KTHREAD, WaitStatus),
    P(KTHREAD, WaitBlockList, "_KWAIT_BLOCK"),
    E(KTHREAD, WaitListEntry, "_LIST_ENTRY"),
    E(KTHREAD, Timer, "_KTIMER"),
    ARRAY(KTHREAD, WaitBlock, KdStruct, "_KWAIT_BLOCK"),
    U(KTHREAD, ContextSwitches),
    { "State", offsetof(KTHREAD, State), 1, 1, KdEnum, "_KTHREAD_STATE", KdThreadStates },
    U(KTHREAD, WaitIrql),
    U(KTHREAD, WaitTime),
    S(KTHREAD, KernelApcDisable),
    S(KTHREAD, SpecialApcDisable),
    U(KTHREAD, NextProcessor),
    P(KTHREAD, Process, "_KPROCESS"),
    C(KTHREAD, BasePriority),
    U(KTHREAD, Preempted),
    U(KTHREAD, ApcStateIndex),
    U(KTHREAD, IdealProcessor),
    U(KTHREAD, WaitReason),
    U(KTHREAD, QuantumReset),
    U(KTHREAD, KernelTime),
    E(KTHREAD, ThreadListEntry, "_LIST_ENTRY"),
};

static const KD_FIELD KdApcState[] = {
    ARRAY(KAPC_STATE, ApcListHead, KdStruct, "_LIST_ENTRY"),
    P(KAPC_STATE, Process, "_KPROCESS"),
    U(KAPC_STATE, InProgressFlags),
    U(KAPC_STATE, KernelApcPending),
    U(KAPC_STATE, UserApcPendingAll),
};

static const KD_FIELD KdApc[] = {
    U(KAPC, Type),
    U(KAPC, Size),
    P(KAPC, Thread, "_KTHREAD"),
    E(KAPC, ApcListEntry, "_LIST_ENTRY"),
    FIELD(KAPC, KernelRoutine, KdFunction, NULL),
    FIELD(KAPC, RundownRoutine, KdFunction, NULL),
    FIELD(KAPC, NormalRoutine, KdFunction, NULL),
    P(KAPC, NormalContext, NULL),
    P(KAPC, SystemArgument1, NULL),
    P(KAPC, SystemArgument2, NULL),
    C(KAPC, ApcStateIndex),
    C(KAPC, ApcMode),
    U(KAPC, Inserted),
};

static const KD_FIELD KdUnicodeString[] = {
    U(UNICODE_STRING, Length),
    U(UNICODE_STRING, MaximumLength),
    P(UNICODE_STRING, Buffer, NULL),
};

static const KD_FIELD KdIoStatusBlock[] = {
    FIELD(IO_STATUS_BLOCK, Status, KdUnsigned, NULL),
    U(IO_STATUS_BLOCK, Information),
};

static const KD_FIELD KdDriverObject[] = {
    S(DRIVER_OBJECT, Type),
    S(DRIVER_OBJECT, Size),
    P(DRIVER_OBJECT, DeviceObject, "_DEVICE_OBJECT"),
    U(DRIVER_OBJECT, Flags),
    E(DRIVER_OBJECT, DriverName, "_UNICODE_STRING"),
    FIELD(DRIVER_OBJECT, DriverInit, KdFunction, NULL),
    FIELD(DRIVER_OBJECT, DriverUnload, KdFunction, NULL),
    ARRAY(DRIVER_OBJECT, MajorFunction, KdFunction, NULL),
};

static const KD_FIELD KdDeviceObject[] = {
    S(DEVICE_OBJECT, Type),
    U(DEVICE_OBJECT, Size),
    S(DEVICE_OBJECT, ReferenceCount),
    P(DEVICE_OBJECT, DriverObject, "_DRIVER_OBJECT"),
    P(DEVICE_OBJECT, NextDevice, "_DEVICE_OBJECT"),
    P(DEVICE_OBJECT, AttachedDevice, "_DEVICE_OBJECT"),
    P(DEVICE_OBJECT, CurrentIrp, "_IRP"),
    U(DEVICE_OBJECT, Flags),
    U(DEVICE_OBJECT, Characteristics),
    P(DEVICE_OBJECT, DeviceExtension, NULL),
    U(DEVICE_OBJECT, DeviceType),
    C(DEVICE_OBJECT, StackSize),
    E(DEVICE_OBJECT, Dpc, "_KDPC"),
};

static const KD_FIELD KdIoStackLocation[] = {
    U(IO_STACK_LOCATION, MajorFunction),
    U(IO_STACK_LOCATION, MinorFunction),
    U(IO_STACK_LOCATION, Flags),
    U(IO_STACK_LOCATION, Control),
    U(IO_STACK_LOCATION, Parameters.Others.Argument1),
    U(IO_STACK_LOCATION, Parameters.Others.Argument2),
    U(IO_STACK_LOCATION, Parameters.Others.Argument3),
    U(IO_STACK_LOCATION, Parameters.Others.Argument4),
    P(IO_STACK_LOCATION, DeviceObject, "_DEVICE_OBJECT"),
    P(IO_STACK_LOCATION, FileObject, NULL),
    FIELD(IO_STACK_LOCATION, CompletionRoutine, KdFunction, NULL),
    P(IO_STACK_LOCATION, Context, NULL),
};

static const KD_FIELD KdIrp[] = {
    S(IRP, Type),
    U(IRP, Size),
    U(IRP, Flags),
    P(IRP, AssociatedIrp.SystemBuffer, NULL),
    E(IRP, ThreadListEntry, "_LIST_ENTRY"),
    E(IRP, IoStatus, "_IO_STATUS_BLOCK"),
    C(IRP, RequestorMode),
    U(IRP, PendingReturned),
    C(IRP, StackCount),
    C(IRP, CurrentLocation),
    U(IRP, Cancel),
    P(IRP, UserIosb, "_IO_STATUS_BLOCK"),
    P(IRP, UserEvent, "_KEVENT"),
    FIELD(IRP, Overlay.AsynchronousParameters.UserApcRoutine, KdFunction, NULL),
    P(IRP, UserBuffer, NULL),
    P(IRP, Tail.Overlay.Thread, "_KTHREAD"),
    E(IRP, Tail.Overlay.ListEntry, "_LIST_ENTRY"),
    P(IRP, Tail.Overlay.CurrentStackLocation, "_IO_STACK_LOCATION"),
    E(IRP, Tail.Apc, "_KAPC"),
};

static const KD_FIELD KdWaitBlock[] = {
    E(KWAIT_BLOCK, WaitListEntry, "_LIST_ENTRY"),
    U(KWAIT_BLOCK, WaitType),
    U(KWAIT_BLOCK, BlockState),
    U(KWAIT_BLOCK, WaitKey),
    P(KWAIT_BLOCK, Thread, "_KTHREAD"),
    P(KWAIT_BLOCK, Object, NULL),
};

static const KD_FIELD KdMutant[] = {
    E(KMUTANT, Header, "_DISPATCHER_HEADER"),
    E(KMUTANT, MutantListEntry, "_LIST_ENTRY"),
    P(KMUTANT, OwnerThread, "_KTHREAD"),
    U(KMUTANT, Abandoned),
    U(KMUTANT, ApcDisable),
};

static const KD_FIELD KdSemaphore[] = {
    E(KSEMAPHORE, Header, "_DISPATCHER_HEADER"),
    S(KSEMAPHORE, Limit),
};

static const KD_FIELD KdProcess[] = {
    E(KPROCESS, Header, "_DISPATCHER_HEADER"),
    E(KPROCESS, ThreadListHead, "_LIST_ENTRY"),
};

static const KD_TYPE KdTypes[] = {
    TYPE("_KTHREAD", KTHREAD, KdThread),
    TYPE("_KWAIT_BLOCK", KWAIT_BLOCK, KdWaitBlock),
    TYPE("_KAPC", KAPC, KdApc),
    TYPE("_IRP", IRP, KdIrp),
    TYPE("_IO_STACK_LOCATION", IO_STACK_LOCATION, KdIoStackLocation),
    TYPE("_DEVICE_OBJECT", DEVICE_OBJECT, KdDeviceObject),
    TYPE("_DRIVER_OBJECT", DRIVER_OBJECT, KdDriverObject),
    TYPE("_IO_STATUS_BLOCK", IO_STATUS_BLOCK, KdIoStatusBlock),
    TYPE("_UNICODE_STRING", UNICODE_STRING, KdUnicodeString),
    TYPE("_KAPC_STATE", KAPC_STATE, KdApcState),
    TYPE("_KPROCESS", KPROCESS, KdProcess),
    TYPE("_KMUTANT", KMUTANT, KdMutant),
    TYPE("_KSEMAPHORE", KSEMAPHORE, KdSemaphore),
    TYPE("_KDPC", KDPC, KdDpc),
    TYPE("_KDPC_DATA", KDPC_DATA, KdDpcData),
    TYPE("_KDPC_LIST", KDPC_LIST, KdDpcList),
    TYPE("_KPRCB", KPRCB, KdPrcb),
    TYPE("_KPRCB_IRQLAB", KPRCB_IRQLAB, KdPrcbIrqlab),
    TYPE("_KPCR", KPCR, KdPcr),
    TYPE("_KTIMER", KTIMER, KdTimer),
    TYPE("_KEVENT", KEVENT, KdEvent),
    TYPE("_DISPATCHER_HEADER", DISPATCHER_HEADER, KdDispatcherHeader),
    TYPE("_KINTERRUPT", KINTERRUPT, KdInterrupt),
    TYPE("_LIST_ENTRY", LIST_ENTRY, KdListEntry),
    TYPE("_SINGLE_LIST_ENTRY", SINGLE_LIST_ENTRY, KdSingleListEntry),
    TYPE("_ULARGE_INTEGER", ULARGE_INTEGER, KdUlargeInteger),
};

const KD_TYPE *KdTypeAt(ULONG Index)
{
    return Index < ARRAYSIZE(KdTypes) ? &KdTypes[Index] : NULL;
}

const KD_TYPE *KdFindType(PCSTR Name)
{
    PCSTR bang = strchr(Name, '!');

    if (bang) { /* WinDbg's module!type: the kernel is both nt and irqlab */
        ULONG module = (ULONG)(bang - Name);
        if (!(module == 2 && strncmp(Name, "nt", 2) == 0) && !(module == 6 && strncmp(Name, "irqlab", 6) == 0))
            return NULL;
        Name = bang + 1;
    }
    for (ULONG i = 0; i < ARRAYSIZE(KdTypes); i++)
        if (strcmp(Name, KdTypes[i].Name) == 0 || strcmp(Name, KdTypes[i].Name + 1) == 0)
            return &KdTypes[i];
    return NULL;
}
