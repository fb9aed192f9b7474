/*
 * kbdclass.c - the keyboard class driver, where NT puts keyboard input: the
 * port driver's DPC (i8042prt.c) hands what it decoded to the class service
 * callback at DISPATCH_LEVEL (NT's KeyboardClassServiceCallback, which
 * i8042prt gets through IOCTL_INTERNAL_KEYBOARD_CONNECT), and the class
 * completes the IRP_MJ_READs pending on \Device\KeyboardClass0 from its
 * buffer.  A read that finds data completes at once; one that finds none is
 * marked pending and queued until keys come.  Keys that find the buffer full
 * are counted as lost, never dropped silently.
 */
#include <irqlab/iomgr.h>
#include <irqlab/kbd.h>
#include <irqlab/spinlock.h>

#define CLASS_BUFFER 4096 /* bytes; a power of two */

typedef struct _KBDCLASS_EXTENSION {
    KSPIN_LOCK Lock;         /* the buffer and the pending reads, at DISPATCH_LEVEL */
    LIST_ENTRY PendingReads; /* IRPs, by Tail.Overlay.ListEntry, oldest first */
    CHAR Buffer[CLASS_BUFFER];
    ULONG Head, Tail;        /* free-running */
    ULONG64 OldestIsrTsc;    /* the ISR's TSC for the oldest byte held */
    KBDCLASS_STATISTICS Stats;
} KBDCLASS_EXTENSION, *PKBDCLASS_EXTENSION;

static PDEVICE_OBJECT KbdClassDevice;

/* Lock held.  Moves buffered bytes into the read's buffer; the count moved. */
static ULONG fill(PKBDCLASS_EXTENSION Ext, PIRP Irp)
{
    ULONG length = IoGetCurrentIrpStackLocation(Irp)->Parameters.Read.Length, n = 0;
    PCHAR out = Irp->UserBuffer;

    for (; n < length && Ext->Tail != Ext->Head; n++)
        out[n] = Ext->Buffer[Ext->Tail++ % CLASS_BUFFER];
    if (n)
        Ext->Stats.LastReadIsrTsc = Ext->OldestIsrTsc; /* what the next oldest byte waited since is not kept */
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = n;
    Ext->Stats.BytesRead += n;
    return n;
}

/* IRQL <= DISPATCH_LEVEL.  IRP_MJ_READ: data now, or pending until the service callback has some. */
static NTSTATUS KbdClassRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PKBDCLASS_EXTENSION ext = DeviceObject->DeviceExtension;
    KIRQL irql;

    KeAcquireSpinLock(&ext->Lock, &irql);
    ext->Stats.Reads++;
    if (ext->Head != ext->Tail && IsListEmpty(&ext->PendingReads)) {
        fill(ext, Irp);
        KeReleaseSpinLock(&ext->Lock, irql);
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    }
    IoMarkIrpPending(Irp);
    InsertTailList(&ext->PendingReads, &Irp->Tail.Overlay.ListEntry);
    ext->Stats.ReadsPended++;
    KeReleaseSpinLock(&ext->Lock, irql);
    return STATUS_PENDING;
}

static NTSTATUS KbdClassCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

VOID KbdClassServiceCallback(PVOID Context, const CHAR *Bytes, ULONG Count, ULONG64 IsrTsc)
{
    PKBDCLASS_EXTENSION ext = ((PDEVICE_OBJECT)Context)->DeviceExtension;
    LIST_ENTRY done;

    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    InitializeListHead(&done);
    KeAcquireSpinLockAtDpcLevel(&ext->Lock);
    if (ext->Head == ext->Tail)
        ext->OldestIsrTsc = IsrTsc;
    for (ULONG i = 0; i < Count; i++) {
        if (ext->Head - ext->Tail == CLASS_BUFFER) {
            ext->Stats.BytesLost++;
            continue;
        }
        ext->Buffer[ext->Head++ % CLASS_BUFFER] = Bytes[i];
        ext->Stats.BytesBuffered++;
    }
    while (ext->Head != ext->Tail && !IsListEmpty(&ext->PendingReads)) {
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(&ext->PendingReads), IRP, Tail.Overlay.ListEntry);
        fill(ext, irp);
        InsertTailList(&done, &irp->Tail.Overlay.ListEntry);
    }
    KeReleaseSpinLockFromDpcLevel(&ext->Lock);
    while (!IsListEmpty(&done)) { /* outside the lock: completion routines run from here */
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(&done), IRP, Tail.Overlay.ListEntry);
        ext->Stats.ReadsCompletedByDpc++;
        IoCompleteRequest(irp, IO_KEYBOARD_INCREMENT);
    }
}

static NTSTATUS KbdClassDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;

    UNREFERENCED_PARAMETER(RegistryPath);
    RtlInitUnicodeString(&name, u"\\Device\\KeyboardClass0");
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(KBDCLASS_EXTENSION), &name, FILE_DEVICE_KEYBOARD, 0, FALSE,
                                     &KbdClassDevice);
    if (!NT_SUCCESS(status))
        return status;
    PKBDCLASS_EXTENSION ext = KbdClassDevice->DeviceExtension;
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->PendingReads);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = KbdClassCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = KbdClassCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = KbdClassRead;
    return STATUS_SUCCESS;
}

PVOID KbdClassInitialize(VOID)
{
    static UNICODE_STRING name;

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    RtlInitUnicodeString(&name, u"\\Driver\\kbdclass");
    if (!NT_SUCCESS(IoCreateDriver(&name, KbdClassDriverEntry))) {
        DbgPrint("kbdclass: no memory for its driver and device objects: keys reach no reader\n");
        return NULL;
    }
    return KbdClassDevice;
}

VOID KbdClassQueryStatistics(PKBDCLASS_STATISTICS Statistics)
{
    KIRQL irql;

    memset(Statistics, 0, sizeof(*Statistics));
    if (KbdClassDevice == NULL)
        return;
    PKBDCLASS_EXTENSION ext = KbdClassDevice->DeviceExtension;
    KeAcquireSpinLock(&ext->Lock, &irql);
    *Statistics = ext->Stats;
    Statistics->Buffered = ext->Head - ext->Tail;
    for (PLIST_ENTRY e = ext->PendingReads.Flink; e != &ext->PendingReads; e = e->Flink)
        Statistics->ReadsWaiting++;
    KeReleaseSpinLock(&ext->Lock, irql);
}
