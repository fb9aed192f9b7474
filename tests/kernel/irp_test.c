/*
 * irp_test.c - the I/O manager as a driver writer meets it: a two-driver
 * stack (a filter above a "device" driver) built with IoCreateDriver and
 * IoCreateDevice; an IRP down through IoCallDriver with the stack locations
 * each level sees; completion at once and later from a DPC (pending);
 * completion routines in order, one keeping the IRP with
 * STATUS_MORE_PROCESSING_REQUIRED; completion to the requesting thread by
 * APC (the event, the status block, the caller's APC routine); and NT's
 * bugchecks for completing twice and completing at DIRQL.
 */
#include <irqlab/interrupt.h>
#include <irqlab/iomgr.h>
#include <irqlab/test.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())
#define IOCTL_TEST_LATER 0x222003

static PDEVICE_OBJECT KtLower, KtUpper;
static KDPC KtCompleteDpc;
static KTIMER KtTimer;
static struct {
    volatile LONG Order[8], Count;
    KIRQL Irql[8];
    PKTHREAD Thread[8];
    BOOLEAN KeepIrp;
} Kt;

static VOID note(LONG What)
{
    LONG n = __atomic_fetch_add(&Kt.Count, 1, __ATOMIC_ACQ_REL);

    if (n < 8) {
        Kt.Order[n] = What;
        Kt.Irql[n] = KeGetCurrentIrql();
        Kt.Thread[n] = KeGetCurrentThread();
    }
}

static VOID complete_later(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    PIRP irp = Context;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    note(2);
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = 7;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

/* The lower driver: reads complete at once with their length; the IOCTL pends and a timer's DPC completes it. */
static NTSTATUS lower_dispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);

    CHECK(sp->DeviceObject == DeviceObject);
    note(1);
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL && sp->Parameters.DeviceIoControl.IoControlCode == IOCTL_TEST_LATER) {
        LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS };
        IoMarkIrpPending(Irp);
        KeInitializeDpc(&KtCompleteDpc, complete_later, Irp);
        KeSetTimer(&KtTimer, due, &KtCompleteDpc);
        return STATUS_PENDING;
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = sp->Parameters.Read.Length;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS upper_completion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    CHECK(DeviceObject == KtUpper); /* the routine's own driver's device */
    note(3);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    if (Kt.KeepIrp) {
        IoFreeIrp(Irp); /* kept: the I/O manager must not touch it again */
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    return STATUS_SUCCESS;
}

/* The filter above: passes everything down with a completion routine. */
static NTSTATUS upper_dispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    note(0);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, upper_completion, NULL, TRUE, TRUE, TRUE);
    return IoCallDriver(KtLower, Irp);
}

static NTSTATUS lower_entry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;

    UNREFERENCED_PARAMETER(RegistryPath);
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        if (i == IRP_MJ_READ || i == IRP_MJ_DEVICE_CONTROL)
            Driver->MajorFunction[i] = lower_dispatch;
    RtlInitUnicodeString(&name, u"\\Device\\KtLower");
    return IoCreateDevice(Driver, 16, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &KtLower);
}

static NTSTATUS upper_entry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;

    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->MajorFunction[IRP_MJ_READ] = upper_dispatch;
    Driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = upper_dispatch;
    RtlInitUnicodeString(&name, u"\\Device\\KtUpper");
    NTSTATUS status = IoCreateDevice(Driver, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &KtUpper);
    if (NT_SUCCESS(status))
        KtUpper->StackSize = (CHAR)(KtLower->StackSize + 1);
    return status;
}

static BOOLEAN stack_ready(VOID)
{
    static UNICODE_STRING lower, upper;

    if (KtUpper)
        return TRUE;
    RtlInitUnicodeString(&lower, u"\\Driver\\KtLower");
    RtlInitUnicodeString(&upper, u"\\Driver\\KtUpper");
    KeInitializeTimer(&KtTimer);
    return NT_SUCCESS(IoCreateDriver(&lower, lower_entry)) && NT_SUCCESS(IoCreateDriver(&upper, upper_entry));
}

TEST(irp, objects_and_names)
{
    UNICODE_STRING name;
    PDEVICE_OBJECT found;
    PVOID file = (PVOID)1;

    REQUIRE(stack_ready());
    CHECK_EQ(KtLower->Type, IO_TYPE_DEVICE);
    CHECK_EQ(KtLower->DriverObject->Type, IO_TYPE_DRIVER);
    CHECK(KtLower->DeviceExtension == (PVOID)(KtLower + 1));
    CHECK_EQ(KtUpper->StackSize, 2);
    RtlInitUnicodeString(&name, u"\\Device\\KtUpper");
    CHECK_EQ(IoGetDeviceObjectPointer(&name, 0, &file, &found), STATUS_SUCCESS);
    CHECK(found == KtUpper && file == NULL);
    RtlInitUnicodeString(&name, u"\\Device\\Nothing");
    CHECK_EQ(IoGetDeviceObjectPointer(&name, 0, &file, &found), STATUS_OBJECT_NAME_NOT_FOUND);
    RtlInitUnicodeString(&name, u"\\Device\\KtLower");
    CHECK_EQ(IoCreateDevice(KtLower->DriverObject, 0, &name, 0, 0, FALSE, &found), STATUS_OBJECT_NAME_COLLISION);
}

TEST(irp, completed_at_once_walks_the_stack_and_sets_the_event)
{
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    KEVENT done;
    CHAR buffer[5];

    REQUIRE(stack_ready());
    memset((PVOID)&Kt, 0, sizeof(Kt));
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, KtUpper, buffer, sizeof(buffer), NULL, &done, &iosb);
    REQUIRE(irp != NULL);
    CHECK_EQ(irp->CurrentLocation, 3); /* StackCount + 1: no driver has it yet */
    CHECK_EQ(IoCallDriver(KtUpper, irp), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&done), 1); /* the completion APC ran as the IRQL came back to PASSIVE */
    CHECK_EQ(iosb.Status, STATUS_SUCCESS);
    CHECK_EQ(iosb.Information, sizeof(buffer));
    REQUIRE_EQ(Kt.Count, 3);
    CHECK_EQ(Kt.Order[0], 0); /* upper dispatch, lower dispatch, upper's completion routine */
    CHECK_EQ(Kt.Order[1], 1);
    CHECK_EQ(Kt.Order[2], 3);
}

static VOID caller_apc(PVOID Context, PIO_STATUS_BLOCK IoStatus, ULONG Reserved)
{
    UNREFERENCED_PARAMETER(Reserved);
    CHECK(Context == (PVOID)0x1234);
    CHECK_EQ(IoStatus->Information, 7);
    note(4);
}

TEST(irp, pending_then_completed_by_a_dpc_reaches_the_thread_by_apc)
{
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    LARGE_INTEGER limit = { .QuadPart = -100 * TICK_100NS };
    KEVENT done;

    REQUIRE(stack_ready());
    memset((PVOID)&Kt, 0, sizeof(Kt));
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(IOCTL_TEST_LATER, KtUpper, NULL, 0, NULL, 0, FALSE, &done, &iosb);
    REQUIRE(irp != NULL);
    irp->Overlay.AsynchronousParameters.UserApcRoutine = caller_apc;
    irp->Overlay.AsynchronousParameters.UserApcContext = (PVOID)0x1234;
    CHECK_EQ(IoCallDriver(KtUpper, irp), STATUS_PENDING);
    CHECK_EQ(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK_EQ(iosb.Information, 7);
    REQUIRE_EQ(Kt.Count, 5);
    CHECK_EQ(Kt.Order[2], 2);           /* the DPC completed it ... */
    CHECK_EQ(Kt.Irql[2], DISPATCH_LEVEL);
    CHECK_EQ(Kt.Order[3], 3);           /* ... its completion routine ran there, at DISPATCH_LEVEL ... */
    CHECK_EQ(Kt.Irql[3], DISPATCH_LEVEL);
    CHECK_EQ(Kt.Order[4], 4);           /* ... and the caller's APC in this thread, at PASSIVE_LEVEL */
    CHECK_EQ(Kt.Irql[4], PASSIVE_LEVEL);
    CHECK(Kt.Thread[4] == KeGetCurrentThread());
}

/* A driver's own IRP (IoAllocateIrp): the filter's completion routine frees it and keeps the walk there. */
TEST(irp, a_completion_routine_may_keep_the_irp)
{
    CHAR buffer[3];

    REQUIRE(stack_ready());
    memset((PVOID)&Kt, 0, sizeof(Kt));
    Kt.KeepIrp = TRUE;
    PIRP irp = IoAllocateIrp(KtUpper->StackSize, FALSE);
    REQUIRE(irp != NULL);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->MajorFunction = IRP_MJ_READ;
    next->Parameters.Read.Length = sizeof(buffer);
    irp->UserBuffer = buffer;
    CHECK_EQ(IoCallDriver(KtUpper, irp), STATUS_SUCCESS);
    CHECK_EQ(Kt.Count, 3); /* STATUS_MORE_PROCESSING_REQUIRED: nothing after the routine (it freed the IRP) */
}

TEST(irp, an_unhandled_major_function_is_an_invalid_device_request)
{
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    KEVENT done;

    REQUIRE(stack_ready());
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, KtLower, NULL, 0, NULL, &done, &iosb);
    REQUIRE(irp != NULL);
    CHECK_EQ(IoCallDriver(KtLower, irp), STATUS_INVALID_DEVICE_REQUEST);
    CHECK_EQ(iosb.Status, STATUS_INVALID_DEVICE_REQUEST);
}

/* A DPC that completes its IRP twice: the second finds the walk already past the top. */
TEST_BUGCHECK(irp, completed_twice, MULTIPLE_IRP_COMPLETE_REQUESTS)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    KIRQL old;

    TEST_EXPECT_PARAM(1, irp);
    irp->Tail.Overlay.Thread = KeGetCurrentThread(); /* as the builders queue it */
    IoSetNextIrpStackLocation(irp);                  /* as IoCallDriver leaves it for its driver */
    irp->IoStatus.Status = STATUS_SUCCESS;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

TEST_BUGCHECK(irp, completed_at_dirql, IRQL_NOT_LESS_OR_EQUAL)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    KIRQL old;

    TEST_EXPECT_PARAM(1, irp);
    TEST_EXPECT_PARAM(2, 11);
    IoSetNextIrpStackLocation(irp);
    KeRaiseIrql(11, &old);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}
