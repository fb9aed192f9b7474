/*
 * irpstorm_test.c - an IRP storm with exactly-once accounting: one issuer
 * thread per processor (at most 8) sends reads to a test driver that
 * completes a third of them at once and pends the rest for DPCs queued to
 * every processor in turn, which complete them in batches at
 * DISPATCH_LEVEL.  Every IRP must come back once to its own thread (its
 * event, its status block with the number it was sent with), and its
 * completion routine must run once.  `make stress` runs it at -smp
 * 1/2/4/8 (irps=<reads per thread>).
 */
#include <irqlab/interrupt.h>
#include <irqlab/iomgr.h>
#include <irqlab/keboot.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/spinlock.h>
#include <irqlab/test.h>

#define MAX_ISSUERS 8
#define DEFAULT_IRPS 300

KE_COMMAND_LINE_OPTION(irps, "irps", "irps=<n>: reads each thread of the IRP storm sends (test=irpstorm.*; default 300)");

static struct {
    PDEVICE_OBJECT Device;
    KSPIN_LOCK Lock;
    LIST_ENTRY Pending;
    KDPC Dpc[MAX_ISSUERS];
    KTHREAD Thread[MAX_ISSUERS];
    PVOID Stack[MAX_ISSUERS];
    volatile LONG Sent, Completed, Routines, Wrong, NextDpc;
    ULONG Issuers, PerThread;
} Ks;

/* DISPATCH_LEVEL on some CPU: completes every read pending now. */
static VOID complete_pending(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    LIST_ENTRY batch;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeAcquireSpinLockAtDpcLevel(&Ks.Lock);
    batch = Ks.Pending;
    BOOLEAN any = !IsListEmpty(&Ks.Pending);
    if (any) { /* take the whole list */
        batch.Flink->Blink = &batch;
        batch.Blink->Flink = &batch;
    }
    InitializeListHead(&Ks.Pending);
    KeReleaseSpinLockFromDpcLevel(&Ks.Lock);
    while (any && !IsListEmpty(&batch)) {
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(&batch), IRP, Tail.Overlay.ListEntry);
        irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}

static NTSTATUS storm_read(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG64 number = (ULONG64)sp->Parameters.Read.ByteOffset.QuadPart;
    KIRQL irql;

    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Information = number; /* the issuer checks it got its own IRP back */
    if (number % 3 == 0) {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    }
    IoMarkIrpPending(Irp);
    KeAcquireSpinLock(&Ks.Lock, &irql);
    InsertTailList(&Ks.Pending, &Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&Ks.Lock, irql);
    LONG cpu = __atomic_fetch_add(&Ks.NextDpc, 1, __ATOMIC_RELAXED) % KeNumberProcessors;
    KeInsertQueueDpc(&Ks.Dpc[cpu % MAX_ISSUERS], NULL, NULL);
    return STATUS_PENDING;
}

static NTSTATUS counted(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    __atomic_add_fetch(&Ks.Routines, 1, __ATOMIC_RELAXED);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    return STATUS_SUCCESS;
}

static NTSTATUS storm_entry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->MajorFunction[IRP_MJ_READ] = storm_read;
    return IoCreateDevice(Driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &Ks.Device);
}

static VOID issuer(PVOID Context)
{
    ULONG base = (ULONG)(ULONG_PTR)Context * Ks.PerThread;
    IO_STATUS_BLOCK iosb;
    KEVENT done;

    KeInitializeEvent(&done, NotificationEvent, FALSE);
    for (ULONG i = 0; i < Ks.PerThread; i++) {
        LARGE_INTEGER number = { .QuadPart = base + i };
        KeClearEvent(&done);
        iosb.Information = ~0ull;
        PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, Ks.Device, NULL, 0, &number, &done, &iosb);
        if (irp == NULL) {
            __atomic_add_fetch(&Ks.Wrong, 1, __ATOMIC_RELAXED);
            continue;
        }
        IoSetCompletionRoutine(irp, counted, NULL, TRUE, TRUE, TRUE);
        __atomic_add_fetch(&Ks.Sent, 1, __ATOMIC_RELAXED);
        IoCallDriver(Ks.Device, irp);
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        if (iosb.Information != (ULONG64)number.QuadPart || iosb.Status != STATUS_SUCCESS)
            __atomic_add_fetch(&Ks.Wrong, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&Ks.Completed, 1, __ATOMIC_RELAXED);
    }
}

TEST(irpstorm, every_irp_completes_once_to_its_thread)
{
    static UNICODE_STRING name;
    LARGE_INTEGER limit = { .QuadPart = -(LONGLONG)KeQueryTimeIncrement() * 6000 };

    memset((PVOID)&Ks, 0, sizeof(Ks));
    Ks.PerThread = KeGetCommandLineValue("irps") ? KeGetCommandLineNumber("irps", 1, 1000000, DEFAULT_IRPS)
                                                 : DEFAULT_IRPS;
    Ks.Issuers = (ULONG)KeNumberProcessors < MAX_ISSUERS ? (ULONG)KeNumberProcessors : MAX_ISSUERS;
    InitializeListHead(&Ks.Pending);
    for (ULONG n = 0; n < MAX_ISSUERS; n++) {
        KeInitializeDpc(&Ks.Dpc[n], complete_pending, NULL);
        KeSetTargetProcessorDpc(&Ks.Dpc[n], (CCHAR)(n % (ULONG)KeNumberProcessors));
        KeSetImportanceDpc(&Ks.Dpc[n], HighImportance);
    }
    RtlInitUnicodeString(&name, u"\\Driver\\KtIrpStorm");
    REQUIRE(NT_SUCCESS(IoCreateDriver(&name, storm_entry)));
    for (ULONG t = 0; t < Ks.Issuers; t++) {
        REQUIRE((Ks.Stack[t] = MmCreateKernelStack(KERNEL_STACK_PAGES)) != NULL);
        KeInitializeThread(&Ks.Thread[t], Ks.Stack[t], KERNEL_STACK_PAGES, issuer, (PVOID)(ULONG_PTR)t, 8);
        Ks.Thread[t].Affinity.Mask = 1ull << t;
        KeStartThread(&Ks.Thread[t]);
    }
    for (ULONG t = 0; t < Ks.Issuers; t++) {
        CHECK_EQ(KeWaitForSingleObject(&Ks.Thread[t], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
        MmDeleteKernelStack(Ks.Stack[t], KERNEL_STACK_PAGES);
    }
    CHECK_EQ(Ks.Sent, (LONG)(Ks.Issuers * Ks.PerThread));
    CHECK_EQ(Ks.Completed, Ks.Sent);
    CHECK_EQ(Ks.Routines, Ks.Sent);
    CHECK_EQ(Ks.Wrong, 0);
    IoDeleteDevice(Ks.Device);
    DbgPrint("    # irp storm: %d IRPs sent and completed once to their threads by %u threads on %d CPUs\n",
             Ks.Completed, Ks.Issuers, KeNumberProcessors);
}
