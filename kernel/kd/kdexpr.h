/*
 * kdexpr.h - numbers and expressions as WinDbg reads them (MASM syntax):
 * hex by default, `0x` hex, `0n` decimal, `0y` binary, backticks inside a
 * 64-bit number (`fffff800`4150b2e0`), symbols (`irqlab!KiProcessorBlock`
 * or `KiProcessorBlock`), + - * / %, unary -, parentheses and poi(x)
 * (the pointer at x).  Pure C: the host tests and the fuzzer build it too.
 */
#ifndef KERNEL_KD_KDEXPR_H
#define KERNEL_KD_KDEXPR_H

#include <irqlab/nt.h>

typedef struct _KD_EXPR_ENV {
    /* A symbol's address; FALSE when there is no such symbol. */
    BOOLEAN (*Symbol)(PCSTR Name, ULONG Length, ULONG64 *Address);
    /* Reads the 8-byte pointer at Address for poi(); FALSE when it cannot be read. */
    BOOLEAN (*ReadPointer)(ULONG64 Address, ULONG64 *Value);
} KD_EXPR_ENV;

/*
 * Evaluates Text[0..Length) whole.  On failure returns FALSE and points
 * *Error at a fixed message ("bad number", "unknown symbol", ...) and
 * *ErrorAt at the offending offset.  Overflow wraps (64-bit arithmetic, as
 * WinDbg); a division by zero is an error.
 */
BOOLEAN KdEvaluate(const KD_EXPR_ENV *Env, PCSTR Text, ULONG Length, ULONG64 *Value, PCSTR *Error,
                   ULONG *ErrorAt);

#endif
