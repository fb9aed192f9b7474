/*
 * kd.h - the kernel debugger console's entry points (kernel/kd/).
 */
#ifndef KERNEL_KD_KD_H
#define KERNEL_KD_KD_H

#include <irqlab/nt.h>

/* input.c.  IRQL <= DISPATCH_LEVEL: queue bytes for the console (the keyboard's DPC does). */
VOID KdInputPush(const CHAR *Bytes, ULONG Count);
/* IRQL: PASSIVE_LEVEL.  The next byte from any source, or -1; KdInputWait halts until one comes. */
int KdInputRead(VOID);
int KdInputWait(VOID);
/* Bytes pushed while the ring was full. */
ULONG64 KdInputDropped(VOID);

/* kbdcmd.c: !kbd and !kbddemo; Args is what follows the command, spaces skipped. */
VOID KdCmdKbd(PCSTR Args);
VOID KdCmdKbdDemo(PCSTR Args);

/* Runs the console on this CPU forever: prompt, line editing, commands. */
DECLSPEC_NORETURN VOID KdConsoleLoop(VOID);

#endif
