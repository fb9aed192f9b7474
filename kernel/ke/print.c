/*
 * print.c - DbgPrint and the serial print lock.
 *
 * Each DbgPrint call is formatted into a local buffer first and then written
 * with the lock held and interrupts off, so output from several CPUs (and
 * from interrupt handlers) interleaves only at call boundaries.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include "rawlock.h"

#define PRINT_BUFFER 512

static KI_RAW_LOCK KiPrintLock;

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

void KiPrintRaw(const char *Text, size_t Length)
{
    ULONG64 flags = KiRawLockAcquire(&KiPrintLock);
    if (!captured(Text, Length))
        arch_serial_write(Text, Length);
    KiRawLockRelease(&KiPrintLock, flags);
}

VOID KiCaptureOutput(char *Buffer, size_t Size)
{
    ULONG64 flags = KiRawLockAcquire(&KiPrintLock);
    ASSERT(Buffer == NULL || Size > 0);
    KiCapture.Owner = Buffer ? KeGetCurrentPrcb() : NULL;
    KiCapture.Buffer = Buffer;
    KiCapture.Size = Size;
    KiCapture.Length = 0;
    if (Buffer)
        Buffer[0] = '\0';
    KiRawLockRelease(&KiPrintLock, flags);
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

ULONG DbgPrint(PCSTR Format, ...)
{
    char buffer[PRINT_BUFFER];
    va_list ap;

    va_start(ap, Format);
    int n = RtlFormatV(buffer, sizeof(buffer), Format, ap);
    va_end(ap);
    if (n >= (int)sizeof(buffer)) {
        memcpy(buffer + sizeof(buffer) - 5, "...\n", 4);
        n = sizeof(buffer) - 1;
    }
    KiPrintRaw(buffer, (size_t)n);
    return STATUS_SUCCESS;
}
