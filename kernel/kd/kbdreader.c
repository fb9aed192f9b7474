/*
 * kbdreader.c - the console's keyboard, read the way a Windows program reads
 * one: a system thread keeps an IRP_MJ_READ on \Device\KeyboardClass0 and
 * waits for it.  The keyboard's DPC completes it (kbdclass.c), the I/O
 * manager's special kernel APC finishes it in this thread at APC_LEVEL
 * (kernel/ex/irp.c), and the bytes join the console's input stream.
 */
#include <irqlab/interrupt.h>
#include <irqlab/iomgr.h>
#include <irqlab/ps.h>
#include "kd.h"

PKTHREAD KdKeyboardReaderThread; /* for !thread, !apc and lab 08 */

static VOID KdKeyboardReader(PVOID Context)
{
    PDEVICE_OBJECT device = Context;
    LARGE_INTEGER tick = { .QuadPart = -(LONGLONG)KeQueryTimeIncrement() };
    IO_STATUS_BLOCK iosb;
    KEVENT done;
    CHAR bytes[64];

    KdKeyboardReaderThread = KeGetCurrentThread();
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    for (;;) {
        KeClearEvent(&done);
        PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, bytes, sizeof(bytes), NULL, &done, &iosb);
        if (irp == NULL) { /* out of pool for now: try again a tick later */
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
            continue;
        }
        IoCallDriver(device, irp); /* pending until keys come, or done at once */
        KeWaitForSingleObject(&done, UserRequest, KernelMode, FALSE, NULL); /* set by the completion APC */
        if (NT_SUCCESS(iosb.Status))
            KdInputPush(NULL, bytes, (ULONG)iosb.Information);
    }
}

VOID KdStartKeyboardReader(VOID)
{
    UNICODE_STRING name;
    PDEVICE_OBJECT device;
    HANDLE handle;

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    RtlInitUnicodeString(&name, u"\\Device\\KeyboardClass0");
    if (!NT_SUCCESS(IoGetDeviceObjectPointer(&name, 0, NULL, &device)))
        return; /* no class driver: the console reads serial only */
    if (!NT_SUCCESS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, KdKeyboardReader, device))) {
        DbgPrint("kd: no thread to read the keyboard: the console reads serial only\n");
        return;
    }
    ZwClose(handle);
}
