/*
 * wdm_test.c - code written the way an NT driver is, against <irqlab/wdm.h>
 * only: a device extension from pool, a periodic timer whose DPC counts
 * under a spin lock and signals an event, a PASSIVE_LEVEL wait for it, and
 * NT's Interlocked, Rtl*Memory and time helpers with their documented
 * return values.  If this file compiles and passes, so does a student's.
 */
#include <irqlab/test.h>
#include <irqlab/wdm.h>

#define DEVICE_TAG 0x44627244 /* "DrbD" */
#define TICKS      3

typedef struct _DEVICE_EXTENSION {
    KSPIN_LOCK Lock;
    KDPC TimerDpc;
    KTIMER Timer;
    KEVENT Done;
    ULONG Fired;
    volatile LONG InterlockedFired;
} DEVICE_EXTENSION, *PDEVICE_EXTENSION;

static VOID TimerDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    PDEVICE_EXTENSION ext = DeferredContext;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    KeAcquireSpinLockAtDpcLevel(&ext->Lock);
    ULONG fired = ++ext->Fired;
    KeReleaseSpinLockFromDpcLevel(&ext->Lock);
    InterlockedIncrement(&ext->InterlockedFired);
    if (fired == TICKS)
        KeSetEvent(&ext->Done, IO_NO_INCREMENT, FALSE);
}

TEST(wdm, a_driver_style_timer_dpc_and_event)
{
    LARGE_INTEGER due, timeout, start, end, frequency;
    PDEVICE_EXTENSION ext = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DEVICE_EXTENSION), DEVICE_TAG);
    KIRQL old;

    REQUIRE(ext != NULL);
    KeInitializeSpinLock(&ext->Lock);
    KeInitializeDpc(&ext->TimerDpc, TimerDpcRoutine, ext);
    KeInitializeTimerEx(&ext->Timer, NotificationTimer);
    KeInitializeEvent(&ext->Done, NotificationEvent, FALSE);
    due.QuadPart = -10000; /* 1 ms from now, then every 10 ms */
    timeout.QuadPart = -10000000; /* 1 s */
    KeQueryTickCount(&start);
    KeSetTimerEx(&ext->Timer, due, 10, &ext->TimerDpc);
    NTSTATUS status = KeWaitForSingleObject(&ext->Done, Executive, KernelMode, FALSE, &timeout);
    KeCancelTimer(&ext->Timer);
    KeFlushQueuedDpcs();
    KeQueryTickCount(&end);
    CHECK(NT_SUCCESS(status));
    CHECK_EQ(status, STATUS_SUCCESS);
    KeAcquireSpinLock(&ext->Lock, &old);
    ULONG fired = ext->Fired;
    KeReleaseSpinLock(&ext->Lock, old);
    CHECK_GE(fired, TICKS);
    CHECK_EQ((ULONG)ext->InterlockedFired, fired);
    CHECK_GT(end.QuadPart, start.QuadPart);
    start = KeQueryPerformanceCounter(&frequency);
    end = KeQueryPerformanceCounter(NULL);
    CHECK_GT(frequency.QuadPart, 0);
    CHECK_GE(end.QuadPart, start.QuadPart);
    ExFreePoolWithTag(ext, DEVICE_TAG);
}

TEST(wdm, interlocked_and_rtl_helpers_return_what_nt_documents)
{
    volatile LONG value = 5;
    volatile LONG64 wide = 1;
    PVOID volatile pointer = NULL;
    UCHAR a[8], b[8];

    CHECK_EQ(InterlockedIncrement(&value), 6);
    CHECK_EQ(InterlockedDecrement(&value), 5);
    CHECK_EQ(InterlockedExchange(&value, 9), 5);
    CHECK_EQ(InterlockedExchangeAdd(&value, 3), 9);
    CHECK_EQ(InterlockedCompareExchange(&value, 1, 12), 12); /* matched: now 1 */
    CHECK_EQ(InterlockedCompareExchange(&value, 7, 12), 1);  /* did not: still 1 */
    CHECK_EQ(value, 1);
    CHECK_EQ(InterlockedOr(&value, 6), 1);
    CHECK_EQ(InterlockedAnd(&value, 3), 7);
    CHECK_EQ(value, 3);
    CHECK_EQ(InterlockedIncrement64(&wide), 2);
    CHECK_EQ(InterlockedCompareExchange64(&wide, 10, 2), 2);
    CHECK_EQ(InterlockedExchangeAdd64(&wide, 5), 10);
    CHECK(InterlockedCompareExchangePointer(&pointer, (PVOID)a, NULL) == NULL);
    CHECK(InterlockedExchangePointer(&pointer, NULL) == (PVOID)a);
    RtlFillMemory(a, sizeof(a), 0x7e);
    RtlCopyMemory(b, a, sizeof(b));
    CHECK(RtlEqualMemory(a, b, sizeof(a)));
    RtlZeroMemory(b, sizeof(b));
    CHECK(!RtlEqualMemory(a, b, sizeof(a)));
    CHECK(!NT_SUCCESS(STATUS_INSUFFICIENT_RESOURCES));
    KeMemoryBarrier();
}
