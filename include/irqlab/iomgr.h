/*
 * iomgr.h - a small I/O manager in NT's shapes (kernel/ex/iomgr.c, irp.c):
 * driver and device objects, IRPs with stack locations, IoCallDriver,
 * pending and completion with completion routines, I/O completion to the
 * requesting thread by a special kernel APC, and the DpcForIsr pattern.
 * Layouts are Windows 10 x64's (public `dt` dumps; pinned below), with the
 * fields irqlab does not use kept as padding.  What NT has and irqlab leaves
 * out (file objects, cancel, MDLs, buffered I/O methods, PnP, power) is
 * listed in docs/deviations.md.
 */
#ifndef IRQLAB_IOMGR_H
#define IRQLAB_IOMGR_H

#include <irqlab/apc.h>
#include <irqlab/dpc.h>

#define STATUS_PENDING                  ((NTSTATUS)0x00000103)
#define STATUS_INVALID_DEVICE_REQUEST   ((NTSTATUS)0xC0000010)
#define STATUS_MORE_PROCESSING_REQUIRED ((NTSTATUS)0xC0000016)
#define STATUS_BUFFER_TOO_SMALL         ((NTSTATUS)0xC0000023)
#define STATUS_OBJECT_NAME_NOT_FOUND    ((NTSTATUS)0xC0000034)
#define STATUS_OBJECT_NAME_COLLISION    ((NTSTATUS)0xC0000035)
#define STATUS_CANCELLED                ((NTSTATUS)0xC0000120)

#define IO_TYPE_DEVICE 3 /* the objects' Type fields, NT's values */
#define IO_TYPE_DRIVER 4
#define IO_TYPE_IRP    6

#define IRP_MJ_CREATE                  0x00
#define IRP_MJ_CLOSE                   0x02
#define IRP_MJ_READ                    0x03
#define IRP_MJ_WRITE                   0x04
#define IRP_MJ_DEVICE_CONTROL          0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL 0x0f
#define IRP_MJ_MAXIMUM_FUNCTION        0x1b

#define SL_PENDING_RETURNED  0x01 /* IO_STACK_LOCATION.Control */
#define SL_INVOKE_ON_CANCEL  0x20
#define SL_INVOKE_ON_SUCCESS 0x40
#define SL_INVOKE_ON_ERROR   0x80

#define FILE_DEVICE_KEYBOARD 0x0000000b
#define FILE_DEVICE_UNKNOWN  0x00000022
#define IO_KEYBOARD_INCREMENT 6

typedef USHORT WCHAR;
typedef WCHAR *PWSTR;
typedef const WCHAR *PCWSTR;
typedef struct _UNICODE_STRING {
    USHORT Length;        /* bytes, without a terminator */
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

struct _DEVICE_OBJECT;
struct _DRIVER_OBJECT;
struct _IRP;

typedef NTSTATUS (*PDRIVER_DISPATCH)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef NTSTATUS (*PDRIVER_INITIALIZE)(struct _DRIVER_OBJECT *DriverObject, PUNICODE_STRING RegistryPath);
typedef VOID (*PDRIVER_UNLOAD)(struct _DRIVER_OBJECT *DriverObject);
typedef NTSTATUS (*PIO_COMPLETION_ROUTINE)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp, PVOID Context);
typedef VOID (*PIO_DPC_ROUTINE)(PKDPC Dpc, struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp, PVOID Context);
typedef VOID (*PIO_APC_ROUTINE)(PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, ULONG Reserved);

#define IOPAD(from, to) UCHAR Pad##from[(to) - (from)]

typedef struct _DRIVER_OBJECT {
    SHORT Type;
    SHORT Size;
    struct _DEVICE_OBJECT *DeviceObject; /* its devices, by NextDevice */
    ULONG Flags;
    IOPAD(0x14, 0x38);
    UNICODE_STRING DriverName;
    IOPAD(0x48, 0x58);
    PDRIVER_INITIALIZE DriverInit;
    PVOID DriverStartIo;
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} DRIVER_OBJECT, *PDRIVER_OBJECT;
_Static_assert(offsetof(DRIVER_OBJECT, DeviceObject) == 0x8 && offsetof(DRIVER_OBJECT, DriverName) == 0x38 &&
               offsetof(DRIVER_OBJECT, DriverInit) == 0x58 && offsetof(DRIVER_OBJECT, MajorFunction) == 0x70 &&
               sizeof(DRIVER_OBJECT) == 0x150, "Windows 10 x64 _DRIVER_OBJECT");

typedef struct _DEVICE_OBJECT {
    SHORT Type;
    USHORT Size;
    LONG ReferenceCount;
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice;
    struct _IRP *CurrentIrp;
    PVOID Timer;
    ULONG Flags;
    ULONG Characteristics;
    PVOID Vpb;
    PVOID DeviceExtension;  /* the driver's, right after the object */
    ULONG DeviceType;
    CHAR StackSize;         /* stack locations an IRP for it needs */
    IOPAD(0x4d, 0xc8);
    KDPC Dpc;               /* the DpcForIsr (IoInitializeDpcRequest) */
    IOPAD(0x108, 0x150);
} DEVICE_OBJECT, *PDEVICE_OBJECT;
_Static_assert(offsetof(DEVICE_OBJECT, DriverObject) == 0x8 && offsetof(DEVICE_OBJECT, CurrentIrp) == 0x20 &&
               offsetof(DEVICE_OBJECT, Flags) == 0x30 && offsetof(DEVICE_OBJECT, DeviceExtension) == 0x40 &&
               offsetof(DEVICE_OBJECT, StackSize) == 0x4c && offsetof(DEVICE_OBJECT, Dpc) == 0xc8 &&
               sizeof(DEVICE_OBJECT) == 0x150, "Windows 10 x64 _DEVICE_OBJECT");

typedef struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;
    union {
        struct {
            ULONG Length;
            ULONG __attribute__((aligned(8))) Key;
            LARGE_INTEGER ByteOffset;
        } Read, Write;
        struct {
            ULONG OutputBufferLength;
            ULONG __attribute__((aligned(8))) InputBufferLength;
            ULONG __attribute__((aligned(8))) IoControlCode;
            PVOID Type3InputBuffer;
        } DeviceIoControl;
        struct {
            PVOID Argument1, Argument2, Argument3, Argument4;
        } Others;
    } Parameters;
    struct _DEVICE_OBJECT *DeviceObject;
    PVOID FileObject;
    PIO_COMPLETION_ROUTINE CompletionRoutine;
    PVOID Context;
} IO_STACK_LOCATION, *PIO_STACK_LOCATION;
_Static_assert(offsetof(IO_STACK_LOCATION, Parameters) == 0x8 &&
               offsetof(IO_STACK_LOCATION, Parameters.DeviceIoControl.IoControlCode) == 0x18 &&
               offsetof(IO_STACK_LOCATION, DeviceObject) == 0x28 &&
               offsetof(IO_STACK_LOCATION, CompletionRoutine) == 0x38 && sizeof(IO_STACK_LOCATION) == 0x48,
               "Windows 10 x64 _IO_STACK_LOCATION");

typedef struct _IRP {
    SHORT Type;
    USHORT Size;
    USHORT AllocationProcessorNumber;
    USHORT Reserved;
    PVOID MdlAddress;
    ULONG Flags;
    union {
        struct _IRP *MasterIrp;
        LONG IrpCount;
        PVOID SystemBuffer;
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;  /* on its thread's IrpList while it is the thread's */
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned;
    CHAR StackCount;
    CHAR CurrentLocation;        /* StackCount + 1 before the first IoCallDriver; 1 at the last driver */
    BOOLEAN Cancel;
    KIRQL CancelIrql;
    CCHAR ApcEnvironment;
    UCHAR AllocationFlags;
    PIO_STATUS_BLOCK UserIosb;
    PKEVENT UserEvent;
    union {
        struct {
            PIO_APC_ROUTINE UserApcRoutine; /* irqlab: a normal kernel APC in the requester */
            PVOID UserApcContext;
        } AsynchronousParameters;
        LARGE_INTEGER AllocationSize;
    } Overlay;
    PVOID CancelRoutine;
    PVOID UserBuffer;
    union {
        struct {
            PVOID DriverContext[4];
            PKTHREAD Thread;     /* the requester: its completion APC goes there */
            PCHAR AuxiliaryBuffer;
            LIST_ENTRY ListEntry;
            PIO_STACK_LOCATION CurrentStackLocation;
            PVOID OriginalFileObject;
            PVOID IrpExtension;
        } Overlay;
        KAPC Apc;                /* the completion APC, once the drivers are done with it */
        PVOID CompletionKey;
    } Tail;
} IRP, *PIRP;
_Static_assert(offsetof(IRP, IoStatus) == 0x30 && offsetof(IRP, PendingReturned) == 0x41 &&
               offsetof(IRP, CurrentLocation) == 0x43 && offsetof(IRP, UserIosb) == 0x48 &&
               offsetof(IRP, UserEvent) == 0x50 && offsetof(IRP, UserBuffer) == 0x70 &&
               offsetof(IRP, Tail.Overlay.Thread) == 0x98 && offsetof(IRP, Tail.Overlay.CurrentStackLocation) == 0xb8 &&
               offsetof(IRP, Tail.Apc) == 0x78 && sizeof(IRP) == 0xd0, "Windows 10 x64 _IRP");

#undef IOPAD

/* ---- drivers and devices (kernel/ex/iomgr.c) ---- */

/* IRQL: PASSIVE_LEVEL.  NT's IoCreateDriver: a driver object named Name (\Driver\...), then its
 * DriverEntry, InitializationFunction(DriverObject, NULL).  Its status. */
NTSTATUS IoCreateDriver(PCUNICODE_STRING Name, PDRIVER_INITIALIZE InitializationFunction);
/* IRQL: PASSIVE_LEVEL.  A device of the driver with a zeroed extension; DeviceName (\Device\...) may be
 * NULL; STATUS_OBJECT_NAME_COLLISION for a name in use.  Exclusive is ignored. */
NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PCUNICODE_STRING DeviceName,
                        ULONG DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject);
VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject);
/* IRQL: PASSIVE_LEVEL.  The device a name names; irqlab has no file objects, *FileObject is NULL. */
NTSTATUS IoGetDeviceObjectPointer(PCUNICODE_STRING ObjectName, ULONG DesiredAccess, PVOID *FileObject,
                                  PDEVICE_OBJECT *DeviceObject);
/* irqlab, for the debugger: the driver objects, in creation order (IRQL <= DISPATCH_LEVEL). */
ULONG IoQueryDrivers(PDRIVER_OBJECT *Drivers, ULONG Max);
/* irqlab, for the debugger: the name a device was created with; FALSE when none. */
BOOLEAN IoQueryDeviceName(PDEVICE_OBJECT Device, PUNICODE_STRING Name);
/* IRQL: any.  A UNICODE_STRING over a terminated wide string (u"..." in C). */
VOID RtlInitUnicodeString(PUNICODE_STRING Destination, PCWSTR Source);

/* The DpcForIsr: one DPC per device, queued from the ISR with the IRP it concerns. */
static inline VOID IoInitializeDpcRequest(PDEVICE_OBJECT DeviceObject, PIO_DPC_ROUTINE DpcRoutine)
{
    KeInitializeDpc(&DeviceObject->Dpc, (PKDEFERRED_ROUTINE)(PVOID)DpcRoutine, DeviceObject);
}
static inline BOOLEAN IoRequestDpc(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    return KeInsertQueueDpc(&DeviceObject->Dpc, Irp, Context);
}

/* ---- IRPs (kernel/ex/irp.c) ---- */

/* IRQL: <= DISPATCH_LEVEL.  An IRP with StackSize stack locations, from pool; NULL when out of memory. */
PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota);
VOID IoFreeIrp(PIRP Irp);
/*
 * IRQL: PASSIVE_LEVEL.  An IRP_MJ_READ (or _WRITE) for DeviceObject, queued to this thread: when a
 * driver completes it, a special kernel APC in this thread copies its status to *IoStatusBlock, sets
 * Event and frees it (NT's I/O completion).  The caller sends it with IoCallDriver and, when that
 * returns STATUS_PENDING, waits on Event.
 */
PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  PLARGE_INTEGER StartingOffset, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock);
/* IRQL: PASSIVE_LEVEL.  The same for IRP_MJ_(INTERNAL_)DEVICE_CONTROL, buffers passed as they are. */
PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock);
/* IRQL: <= DISPATCH_LEVEL.  Hands the IRP to the driver of DeviceObject, one stack location down:
 * its dispatch routine's status (STATUS_PENDING: it completes later). */
NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp);
#define IoCallDriver IofCallDriver
/*
 * IRQL: <= DISPATCH_LEVEL.  The driver is done: walks the stack locations back up, calling each
 * completion routine that asked for this outcome (STATUS_MORE_PROCESSING_REQUIRED stops the walk:
 * the routine keeps the IRP), then completes it to its thread, boosted by PriorityBoost.  Twice is
 * NT's 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS; above DISPATCH_LEVEL, 0xA.
 */
VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost);
#define IoCompleteRequest IofCompleteRequest

static inline PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation;
}
static inline PIO_STACK_LOCATION IoGetNextIrpStackLocation(PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation - 1;
}
static inline VOID IoSetNextIrpStackLocation(PIRP Irp)
{
    Irp->CurrentLocation--;
    Irp->Tail.Overlay.CurrentStackLocation--;
}
static inline VOID IoSkipCurrentIrpStackLocation(PIRP Irp)
{
    Irp->CurrentLocation++;
    Irp->Tail.Overlay.CurrentStackLocation++;
}
static inline VOID IoCopyCurrentIrpStackLocationToNext(PIRP Irp)
{
    PIO_STACK_LOCATION here = IoGetCurrentIrpStackLocation(Irp), next = IoGetNextIrpStackLocation(Irp);

    memcpy(next, here, offsetof(IO_STACK_LOCATION, CompletionRoutine));
    next->Control = 0;
}
static inline VOID IoMarkIrpPending(PIRP Irp)
{
    IoGetCurrentIrpStackLocation(Irp)->Control |= SL_PENDING_RETURNED;
}
static inline VOID IoSetCompletionRoutine(PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                                          BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel)
{
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(Irp);

    next->CompletionRoutine = CompletionRoutine;
    next->Context = Context;
    next->Control = (UCHAR)((InvokeOnSuccess ? SL_INVOKE_ON_SUCCESS : 0) | (InvokeOnError ? SL_INVOKE_ON_ERROR : 0) |
                            (InvokeOnCancel ? SL_INVOKE_ON_CANCEL : 0));
}

#endif
