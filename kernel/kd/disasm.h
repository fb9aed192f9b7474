/*
 * disasm.h - one x86-64 instruction, decoded by Zydis and written as WinDbg's
 * `u` writes it (disasm.c); the console's own header, for cmd_disasm.c.
 */
#ifndef KERNEL_KD_DISASM_H
#define KERNEL_KD_DISASM_H

#include <irqlab/nt.h>

#define KD_INSTRUCTION_MAX 15 /* Intel SDM Vol. 2A 2.3.11: no instruction is longer */

typedef enum _KD_FLOW {
    KdFlowNext,   /* execution goes on to the next instruction */
    KdFlowBranch, /* a conditional jump: Target or the next instruction */
    KdFlowCall,
    KdFlowJump,   /* unconditional: never the next instruction */
    KdFlowStop,   /* ret, iret, ud2, int3, hlt: nothing after it belongs to this path */
    KdFlowPadding /* nop or int3 between functions */
} KD_FLOW;

typedef struct _KD_INSTRUCTION {
    ULONG64 Address;
    UCHAR Bytes[KD_INSTRUCTION_MAX];
    ULONG Length;      /* bytes it takes; 1 for an invalid one */
    BOOLEAN Valid;     /* FALSE: no instruction decodes here (printed as ???) */
    KD_FLOW Flow;
    BOOLEAN HasTarget; /* a relative jump or call: Target is where it goes */
    ULONG64 Target;
    CHAR Text[160];    /* "mov     rax,cr8", "call    irqlab!KeRaiseIrql (ffffffff`80012340)" */
} KD_INSTRUCTION;

/*
 * IRQL: PASSIVE_LEVEL.  Reads (KdReadMemory) and decodes the instruction at
 * Address; FALSE when its bytes cannot all be read, with *Unreadable the
 * first byte that could not.
 */
BOOLEAN KdDecodeAt(ULONG64 Address, KD_INSTRUCTION *Out, ULONG64 *Unreadable);
/* The same from Size bytes already read; FALSE when they end inside the instruction. */
BOOLEAN KdDecodeBytes(ULONG64 Address, const UCHAR *Bytes, ULONG Size, KD_INSTRUCTION *Out);
/* Prints "fffff800`4150b2e0 0f20c0          mov     rax,cr8". */
VOID KdPrintInstruction(const KD_INSTRUCTION *Instruction);

#endif
