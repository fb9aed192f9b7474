/*
 * kbdreader.c - the console's keyboard, read the way a Windows program reads
 * one: a system thread keeps an IRP_MJ_READ on \Device\KeyboardClass0 and
 * waits for it.  The keyboard's DPC completes it (kbdclass.c), the I/O
 * manager's special kernel APC finishes it in this thread at APC_LEVEL
 * (kernel/ex/irp.c), and the bytes join the console's input stream.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/kbd.h>
#include <irqlab/keboot.h>
#include <irqlab/iomgr.h>
#include <irqlab/ps.h>
#include "kd.h"

KE_COMMAND_LINE_OPTION(kbdreaderslow, "kbdreaderslow",
                       "kbdreaderslow=<ms>: the keyboard reader takes one byte per read, rests that long and keeps "
                       "the keys from the console (make stress: a slow reader)");

PKTHREAD KdKeyboardReaderThread; /* for !thread, !apc and lab 08 */
static ULONG64 KdKeyLatency[256];  /* key's ISR -> bytes in this thread, TSC cycles: the last ones */
static volatile ULONG KdKeyLatencyCount;

/* The whole chain's time for the read just completed: from the ISR of its oldest key to now. */
static VOID note_latency(VOID)
{
    KBDCLASS_STATISTICS c;
    ULONG64 now = arch_rdtsc();

    KbdClassQueryStatistics(&c);
    if (c.LastReadIsrTsc && now > c.LastReadIsrTsc)
        KdKeyLatency[KdKeyLatencyCount++ % ARRAYSIZE(KdKeyLatency)] = now - c.LastReadIsrTsc;
}

ULONG KdQueryKeyLatency(ULONG64 *Samples, ULONG Max)
{
    ULONG count = KdKeyLatencyCount, n = count < ARRAYSIZE(KdKeyLatency) ? count : ARRAYSIZE(KdKeyLatency);

    n = n < Max ? n : Max;
    memcpy(Samples, KdKeyLatency, n * sizeof(Samples[0]));
    return n;
}

static VOID KdKeyboardReader(PVOID Context)
{
    PDEVICE_OBJECT device = Context;
    LARGE_INTEGER tick = { .QuadPart = -(LONGLONG)KeQueryTimeIncrement() };
    IO_STATUS_BLOCK iosb;
    KEVENT done;
    CHAR bytes[64];

    ULONG slow_ms = KeGetCommandLineValue("kbdreaderslow") ? KeGetCommandLineNumber("kbdreaderslow", 1, 10000, 20) : 0;
    LARGE_INTEGER rest = { .QuadPart = -(LONGLONG)slow_ms * 10000 };
    ULONG length = slow_ms ? 1 : sizeof(bytes); /* a slow reader, so that the class buffer fills */

    KdKeyboardReaderThread = KeGetCurrentThread();
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    for (;;) {
        KeClearEvent(&done);
        PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, bytes, length, NULL, &done, &iosb);
        if (irp == NULL) { /* out of pool for now: try again a tick later */
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
            continue;
        }
        IoCallDriver(device, irp); /* pending until keys come, or done at once */
        KeWaitForSingleObject(&done, UserRequest, KernelMode, FALSE, NULL); /* set by the completion APC */
        if (NT_SUCCESS(iosb.Status) && !slow_ms) {
            note_latency();
            KdInputPush(NULL, bytes, (ULONG)iosb.Information);
        }
        if (slow_ms)
            KeDelayExecutionThread(KernelMode, FALSE, &rest);
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
