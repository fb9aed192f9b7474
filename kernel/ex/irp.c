/*
 * irp.c - I/O request packets: allocation, the builders a requesting thread
 * uses, IoCallDriver down the stack locations, and IoCompleteRequest back up
 * them to the requester (the WRK's IopfCompleteRequest, as Windows
 * Internals describes it): each completion routine that asked for the
 * outcome runs at the completer's IRQL, then a special kernel APC queued to
 * the requesting thread finishes the request in its context at APC_LEVEL
 * (IopCompleteRequest: the status block, the event, the caller's APC).
 */
#include <irqlab/iomgr.h>
#include <irqlab/pool.h>
#include <irqlab/prcb.h>
#include <irqlab/ps.h>
#include <irqlab/rtl.h>

#define IRP_TAG 0x20707249 /* 'Irp ' */

static PIO_STACK_LOCATION stack_base(PIRP Irp)
{
    return (PIO_STACK_LOCATION)(Irp + 1);
}

PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    UNREFERENCED_PARAMETER(ChargeQuota);
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(StackSize > 0);
    USHORT size = (USHORT)(sizeof(IRP) + (ULONG)StackSize * sizeof(IO_STACK_LOCATION));
    PIRP irp = ExAllocatePool2(POOL_FLAG_NON_PAGED, size, IRP_TAG);
    if (irp == NULL)
        return NULL;
    irp->Type = IO_TYPE_IRP;
    irp->Size = size;
    irp->AllocationProcessorNumber = (USHORT)KeGetCurrentProcessorNumber();
    irp->StackCount = StackSize;
    irp->CurrentLocation = (CHAR)(StackSize + 1);
    irp->Tail.Overlay.CurrentStackLocation = stack_base(irp) + StackSize;
    InitializeListHead(&irp->ThreadListEntry);
    return irp;
}

VOID IoFreeIrp(PIRP Irp)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(Irp->Type == IO_TYPE_IRP);
    Irp->Type = 0; /* a late IoCompleteRequest on it is then 0x44, not a silent reuse */
    ExFreePoolWithTag(Irp, IRP_TAG);
}

/* The driver a new IRP has no dispatch routine for: NT's IopInvalidDeviceRequest. */
NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(Irp->Type == IO_TYPE_IRP && DeviceObject->Type == IO_TYPE_DEVICE);
    IoSetNextIrpStackLocation(Irp);
    if (Irp->CurrentLocation <= 0) /* more drivers than the IRP has stack locations */
        KeBugCheckEx(NO_MORE_IRP_STACK_LOCATIONS, (ULONG_PTR)Irp, 0, 0, 0);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    sp->DeviceObject = DeviceObject;
    return DeviceObject->DriverObject->MajorFunction[sp->MajorFunction](DeviceObject, Irp);
}

/* Queued to the requesting thread at APC_LEVEL, so its completion APC cannot run in between. */
static VOID queue_thread_irp(PIRP Irp)
{
    PKTHREAD self = KeGetCurrentThread();
    KIRQL old;

    Irp->Tail.Overlay.Thread = self;
    if (!(self->MiscFlags & PSP_ETHREAD))
        return; /* a processor's own thread keeps no IRP list */
    KeRaiseIrql(APC_LEVEL, &old);
    InsertTailList(&((PETHREAD)self)->IrpList, &Irp->ThreadListEntry);
    KeLowerIrql(old);
}

static PIRP build(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    PIRP irp = IoAllocateIrp(DeviceObject->StackSize, FALSE);
    if (irp == NULL)
        return NULL;
    IoGetNextIrpStackLocation(irp)->MajorFunction = (UCHAR)MajorFunction;
    irp->RequestorMode = KernelMode;
    irp->UserEvent = Event;
    irp->UserIosb = IoStatusBlock;
    queue_thread_irp(irp);
    return irp;
}

PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  PLARGE_INTEGER StartingOffset, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = build(MajorFunction, DeviceObject, Event, IoStatusBlock);

    if (irp == NULL)
        return NULL;
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->Parameters.Read.Length = Length;
    next->Parameters.Read.ByteOffset.QuadPart = StartingOffset ? StartingOffset->QuadPart : 0;
    irp->UserBuffer = irp->AssociatedIrp.SystemBuffer = Buffer; /* the caller's kernel buffer itself */
    return irp;
}

PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = build(InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL,
                     DeviceObject, Event, IoStatusBlock);

    if (irp == NULL)
        return NULL;
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    next->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    next->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    next->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
    irp->AssociatedIrp.SystemBuffer = InputBuffer;
    irp->UserBuffer = OutputBuffer;
    return irp;
}

/* The caller's APC routine, as a normal kernel APC after the completion APC: the IRP goes first. */
static VOID free_before_caller_apc(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    IoFreeIrp(CONTAINING_RECORD(Apc, IRP, Tail.Apc));
}

/* APC_LEVEL, in the requesting thread: NT's IopCompleteRequest for a kernel-mode request. */
static VOID IopCompleteRequest(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    PIRP irp = CONTAINING_RECORD(Apc, IRP, Tail.Apc);
    PIO_APC_ROUTINE caller = irp->Overlay.AsynchronousParameters.UserApcRoutine;

    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    RemoveEntryList(&irp->ThreadListEntry);
    InitializeListHead(&irp->ThreadListEntry);
    if (irp->UserIosb)
        *irp->UserIosb = irp->IoStatus;
    if (irp->UserEvent)
        KeSetEvent(irp->UserEvent, IO_NO_INCREMENT, FALSE);
    if (caller == NULL) {
        IoFreeIrp(irp);
        return;
    }
    KeInitializeApc(&irp->Tail.Apc, KeGetCurrentThread(), OriginalApcEnvironment, free_before_caller_apc, NULL,
                    (PKNORMAL_ROUTINE)(PVOID)caller, KernelMode, irp->Overlay.AsynchronousParameters.UserApcContext);
    KeInsertQueueApc(&irp->Tail.Apc, irp->UserIosb, NULL, IO_NO_INCREMENT);
}

/* Should this stack location's completion routine run for the IRP's outcome? */
static BOOLEAN wants(PIO_STACK_LOCATION Sp, PIRP Irp)
{
    if (Sp->CompletionRoutine == NULL)
        return FALSE;
    if (Irp->Cancel && (Sp->Control & SL_INVOKE_ON_CANCEL))
        return TRUE;
    return (Sp->Control & (NT_SUCCESS(Irp->IoStatus.Status) ? SL_INVOKE_ON_SUCCESS : SL_INVOKE_ON_ERROR)) != 0;
}

/* Up the stack locations from the completing driver's; FALSE when a routine kept the IRP. */
static BOOLEAN walk_up(PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);

    for (IoSkipCurrentIrpStackLocation(Irp); Irp->CurrentLocation <= Irp->StackCount + 1;
         sp++, IoSkipCurrentIrpStackLocation(Irp)) {
        Irp->PendingReturned = (sp->Control & SL_PENDING_RETURNED) != 0;
        PIO_COMPLETION_ROUTINE routine = wants(sp, Irp) ? sp->CompletionRoutine : NULL;
        PVOID context = sp->Context;
        memset(sp, 0, sizeof(*sp));
        if (routine == NULL) {
            if (Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount)
                IoMarkIrpPending(Irp); /* the driver above returned STATUS_PENDING too */
            continue;
        }
        PDEVICE_OBJECT above = Irp->CurrentLocation <= Irp->StackCount ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject
                                                                       : NULL;
        if (routine(above, Irp, context) == STATUS_MORE_PROCESSING_REQUIRED)
            return FALSE;
    }
    return TRUE;
}

VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    KIRQL irql = KeGetCurrentIrql();

    if (irql > DISPATCH_LEVEL) /* completion routines and the APC insert need <= DISPATCH_LEVEL */
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Irp, irql, 0, (ULONG_PTR)__builtin_return_address(0));
    if (Irp->Type != IO_TYPE_IRP || Irp->CurrentLocation > Irp->StackCount + 1) /* the WRK's test */
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 0, 0, 0);
    ASSERT(Irp->IoStatus.Status != STATUS_PENDING);
    if (!walk_up(Irp))
        return;
    PKTHREAD thread = Irp->Tail.Overlay.Thread; /* read before the APC overlays it */
    ASSERT(thread != NULL); /* an IRP of IoAllocateIrp's needs a routine that keeps it */
    KeInitializeApc(&Irp->Tail.Apc, thread, OriginalApcEnvironment, IopCompleteRequest, NULL, NULL, KernelMode,
                    NULL);
    if (!KeInsertQueueApc(&Irp->Tail.Apc, NULL, NULL, PriorityBoost))
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 1, (ULONG_PTR)thread, 0); /* it ended */
}
