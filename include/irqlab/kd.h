/*
 * kd.h - the kernel debugger console (kernel/kd/), as the boot sequence and
 * the tests see it: its command registry, run it, run one line of it, and
 * feed it keys.
 */
#ifndef IRQLAB_KD_H
#define IRQLAB_KD_H

#include <irqlab/nt.h>

/* ---- commands ------------------------------------------------------------
 *   KD_COMMAND(dd, "dd", "dd <address> [L<count>]", "dump memory as ULONGs") { ... Args ... }
 * registers a command in the .kdcmds section; Args is the rest of the line,
 * leading spaces skipped.  A command reports bad arguments itself and returns. */
typedef struct _KD_COMMAND {
    PCSTR Name;
    PCSTR Usage;
    PCSTR Help;
    VOID (*Run)(PCSTR Args);
} KD_COMMAND;

#define KD_COMMAND(ident, name, usage, help)                                                     \
    static VOID KdCmd_##ident(PCSTR Args);                                                        \
    static const KD_COMMAND KdEntry_##ident __attribute__((used, section(".kdcmds"), aligned(8))) = \
        { name, usage, help, KdCmd_##ident };                                                     \
    static VOID KdCmd_##ident(PCSTR Args)

/* IRQL <= DISPATCH_LEVEL: queue bytes for the console (Context unused). */
VOID KdInputPush(PVOID Context, const CHAR *Bytes, ULONG Count);
/* IRQL: PASSIVE_LEVEL, once the keyboard's drivers are up: the thread that reads \Device\KeyboardClass0
 * with IRPs and pushes what it gets (kernel/kd/kbdreader.c).  Without the device, nothing. */
VOID KdStartKeyboardReader(VOID);
/* IRQL: PASSIVE_LEVEL, once, at boot: the debugger takes its traps (breakpoints, single steps), the
 * clock's break-in poll (Ctrl-C on serial) and, with kdbreak=bugcheck, the bugcheck (kdtrap.c). */
VOID KdInitializeDebugger(VOID);
/* IRQL: any.  The reader's latest samples of a key's whole path, its ISR -> the bytes in the reader
 * thread (TSC cycles), at most Max (make bench's keyboard.key_to_reader). */
ULONG KdQueryKeyLatency(ULONG64 *Samples, ULONG Max);

#define KD_LINE_MAX 160 /* the line editor's buffer: 159 characters and the NUL */
/* IRQL: PASSIVE_LEVEL.  Reads and edits one line into Text (KD_LINE_MAX bytes); returns how many
 * typed characters did not fit (0: the whole line is there), and says so when any did not. */
ULONG KdReadLine(CHAR *Text);
/* IRQL: PASSIVE_LEVEL.  Runs one command line, as if typed (the tests and the labs' replays use it too). */
VOID KdExecuteLine(PCSTR Line);
/* IRQL: PASSIVE_LEVEL.  Starts the console (prompt, line editing, history, commands) in a system
 * thread of its own on CPU 0, and returns; with no thread to be had it runs it here, for good. */
VOID KdStartConsole(VOID);

#endif
