/*
 * print.c - the serial debug port that DbgPrint (kernel/rtl/debug.c) writes
 * to, and the capture of one CPU's output for tests of the console.
 *
 * Each DbgPrint call arrives formatted and is written with the lock held and
 * interrupts off, so output from several CPUs (and from interrupt handlers)
 * interleaves only at call boundaries.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include <arch/rawlock.h>

static ARCH_RAW_LOCK KiPrintLock;

/* A capture (KiCaptureOutput): one CPU's DbgPrint output goes to a buffer instead of serial. */
static struct {
    PKPRCB Owner;
    char *Buffer;
    size_t Size, Length; /* Length may exceed Size: what did not fit is counted, not kept */
} KiCapture;

static BOOLEAN captured(const char *Text, size_t Length)
{
    if (KiCapture.Owner == NULL || KiCapture.Owner != KeGetCurrentPrcb() || KiBugCheckInProgress())
        return FALSE;
    for (size_t i = 0; i < Length; i++, KiCapture.Length++)
        if (KiCapture.Length + 1 < KiCapture.Size)
            KiCapture.Buffer[KiCapture.Length] = Text[i];
    KiCapture.Buffer[KiCapture.Length < KiCapture.Size ? KiCapture.Length : KiCapture.Size - 1] = '\0';
    return TRUE;
}

VOID KiPrintRaw(PCSTR Text, SIZE_T Length)
{
    ULONG64 flags = arch_raw_lock_acquire(&KiPrintLock);
    if (!captured(Text, Length))
        arch_serial_write(Text, Length);
    arch_raw_lock_release(&KiPrintLock, flags);
}

VOID KiCaptureOutput(char *Buffer, size_t Size)
{
    ULONG64 flags = arch_raw_lock_acquire(&KiPrintLock);
    ASSERT(Buffer == NULL || Size > 0);
    KiCapture.Owner = Buffer ? KeGetCurrentPrcb() : NULL;
    KiCapture.Buffer = Buffer;
    KiCapture.Size = Size;
    KiCapture.Length = 0;
    if (Buffer)
        Buffer[0] = '\0';
    arch_raw_lock_release(&KiPrintLock, flags);
}

size_t KiCapturedLength(VOID)
{
    return KiCapture.Length;
}

/* The bugcheck path may have interrupted a holder of the lock on this CPU. */
void KiPrintForceUnlock(void)
{
    __atomic_store_n(&KiPrintLock, 0, __ATOMIC_RELEASE);
}
