/*
 * input.c - the console's input: one stream of bytes from every source.
 *
 * Serial bytes are polled from COM1; the keyboard reader thread
 * (kbdreader.c) pushes the bytes a terminal would have sent for each key
 * (kernel/io/kbdxlat.c), and CPU 0's clock pushes serial bytes that came
 * while the console was busy, looking for a Ctrl-C (kdtrap.c); so the line
 * editor sees one input language.  A raw lock (interrupts off) guards the
 * ring and the UART between them.
 */
#include <arch/arch.h>
#include <arch/rawlock.h>
#include "kd.h"

#define RING 256 /* a power of two */

static struct {
    ARCH_RAW_LOCK Lock; /* raw: the clock's break-in poll pushes serial bytes at CLOCK_LEVEL */
    UCHAR Bytes[RING];
    ULONG Head, Tail; /* free-running: Head - Tail bytes are waiting */
    ULONG64 Dropped;
} KdInput;

VOID KdInputPush(PVOID Context, const CHAR *Bytes, ULONG Count)
{
    UNREFERENCED_PARAMETER(Context);
    ULONG64 flags = arch_raw_lock_acquire(&KdInput.Lock);
    for (ULONG i = 0; i < Count; i++) {
        if (KdInput.Head - KdInput.Tail == RING) {
            KdInput.Dropped += Count - i; /* the reader is far behind: keep what came first */
            break;
        }
        KdInput.Bytes[KdInput.Head++ % RING] = (UCHAR)Bytes[i];
    }
    arch_raw_lock_release(&KdInput.Lock, flags);
}

/* The oldest byte: one pushed (older than anything still in the UART), else one from serial, read
 * with interrupts off so that the clock's poll cannot take it between the two port reads. */
int KdInputRead(VOID)
{
    ULONG64 flags = arch_raw_lock_acquire(&KdInput.Lock);
    int c = KdInput.Head != KdInput.Tail ? KdInput.Bytes[KdInput.Tail++ % RING] : arch_serial_read();
    arch_raw_lock_release(&KdInput.Lock, flags);
    return c;
}

int KdInputWait(VOID)
{
    int c;

    /* Halting until the next interrupt (a key, or at worst the next clock tick) spares the host CPU;
     * serial input is polled, so it waits at most one tick. */
    while ((c = KdInputRead()) < 0)
        arch_halt();
    return c;
}

ULONG64 KdInputDropped(VOID)
{
    return KdInput.Dropped;
}
