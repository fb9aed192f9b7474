/*
 * trapframe.h - the register frame trap.asm builds for every vector.
 *
 * The field order is the reverse of the push order in KiTrapCommon
 * (trap.asm); the asserts pin what the assembly relies on, so the two cannot
 * drift apart silently.  NT calls its version KTRAP_FRAME; this one has
 * irqlab's own layout (see docs/deviations.md).
 */
#ifndef ARCH_TRAPFRAME_H
#define ARCH_TRAPFRAME_H

#include <irqlab/nt.h>

typedef struct _KTRAP_FRAME {
    ULONG64 R15, R14, R13, R12, R11, R10, R9, R8;
    ULONG64 Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
    ULONG64 Vector;    /* pushed by the stub */
    ULONG64 ErrorCode; /* pushed by the CPU, or 0 by the stub */
    ULONG64 Rip, SegCs, EFlags, Rsp, SegSs; /* pushed by the CPU */
} KTRAP_FRAME, *PKTRAP_FRAME;

_Static_assert(offsetof(KTRAP_FRAME, R15) == 0x00, "first push is rax, last is r15");
_Static_assert(offsetof(KTRAP_FRAME, Rax) == 0x70, "15 general registers");
_Static_assert(offsetof(KTRAP_FRAME, Vector) == 0x78, "stub pushes the vector last");
_Static_assert(offsetof(KTRAP_FRAME, Rip) == 0x88, "CPU frame follows the error code");
_Static_assert(sizeof(KTRAP_FRAME) == 0xb0, "trap.asm pops 15 registers then adds 16");
_Static_assert(sizeof(KTRAP_FRAME) % 16 == 0, "the C dispatcher is called with RSP 16-aligned");

#endif
