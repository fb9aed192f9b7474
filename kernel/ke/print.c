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

static volatile LONG KiPrintOwner = -1; /* the processor holding KiPrintLock, or -1 */

static VOID write_out(PCSTR Text, SIZE_T Length)
{
    if (!captured(Text, Length))
        arch_serial_write(Text, Length);
}

VOID KiPrintRaw(PCSTR Text, SIZE_T Length)
{
    LONG me = (LONG)KeGetCurrentProcessorNumber();

    if (__atomic_load_n(&KiPrintOwner, __ATOMIC_ACQUIRE) == me) { /* held by this processor's debugger stop */
        write_out(Text, Length);
        return;
    }
    ULONG64 flags = arch_raw_lock_acquire(&KiPrintLock);
    KiPrintOwner = me;
    write_out(Text, Length);
    KiPrintOwner = -1;
    arch_raw_lock_release(&KiPrintLock, flags);
}

/* Interrupts off.  The debugger's stop takes the output before it freezes the others, so none is
 * stopped in the middle of a line; its own output then goes straight out.  FALSE: held already. */
BOOLEAN KiHoldPrintForStop(VOID)
{
    LONG me = (LONG)KeGetCurrentProcessorNumber();

    if (__atomic_load_n(&KiPrintOwner, __ATOMIC_ACQUIRE) == me)
        return FALSE; /* the stop came in the middle of this processor's own DbgPrint */
    arch_raw_lock_acquire(&KiPrintLock);
    __atomic_store_n(&KiPrintOwner, me, __ATOMIC_RELEASE);
    return TRUE;
}

VOID KiReleasePrintAfterStop(VOID)
{
    __atomic_store_n(&KiPrintOwner, -1, __ATOMIC_RELEASE);
    arch_raw_lock_release(&KiPrintLock, 0); /* interrupts stay off: the stop restores them */
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
    KiPrintOwner = -1;
    __atomic_store_n(&KiPrintLock, 0, __ATOMIC_RELEASE);
}
