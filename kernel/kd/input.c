/*
 * input.c - the console's input: one stream of bytes from every source.
 *
 * Serial bytes are polled from COM1; the keyboard reader thread
 * (kbdreader.c) pushes the bytes a terminal would have sent for each key
 * (kernel/io/kbdxlat.c), so the line editor sees one input language.  A
 * spin lock guards the ring between the pusher and the console.
 */
#include <arch/arch.h>
#include <irqlab/spinlock.h>
#include "kd.h"

#define RING 256 /* a power of two */

static struct {
    KSPIN_LOCK Lock;
    UCHAR Bytes[RING];
    ULONG Head, Tail; /* free-running: Head - Tail bytes are waiting */
    ULONG64 Dropped;
} KdInput;

VOID KdInputPush(PVOID Context, const CHAR *Bytes, ULONG Count)
{
    KIRQL old;

    UNREFERENCED_PARAMETER(Context);
    KeAcquireSpinLock(&KdInput.Lock, &old);
    for (ULONG i = 0; i < Count; i++) {
        if (KdInput.Head - KdInput.Tail == RING) {
            KdInput.Dropped += Count - i; /* the reader is far behind: keep what came first */
            break;
        }
        KdInput.Bytes[KdInput.Head++ % RING] = (UCHAR)Bytes[i];
    }
    KeReleaseSpinLock(&KdInput.Lock, old);
}

static int pop_pushed(VOID)
{
    int c = -1;
    KIRQL old;

    KeAcquireSpinLock(&KdInput.Lock, &old);
    if (KdInput.Head != KdInput.Tail)
        c = KdInput.Bytes[KdInput.Tail++ % RING];
    KeReleaseSpinLock(&KdInput.Lock, old);
    return c;
}

int KdInputRead(VOID)
{
    int c = pop_pushed();

    return c >= 0 ? c : arch_serial_read();
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
