/*
 * kdexpr.h - numbers and expressions as WinDbg reads them (MASM syntax,
 * https://learn.microsoft.com/windows-hardware/drivers/debugger/masm-numbers-and-operators):
 * hex by default, `0x` hex, `0n` decimal, `0y` binary, backticks inside a
 * 64-bit number (`fffff800`4150b2e0`), symbols (`irqlab!KiProcessorBlock`
 * or `KiProcessorBlock`), registers (`@rip`, `@$prcb`, `$prcb`), binary
 * + - * / % with C's precedence, unary - + ~, parentheses, and the memory
 * reads poi() (pointer), qwo(), dwo(), wo() and by(); spaces may go between
 * terms.  Pure C: the host tests and the fuzzer build it too.
 */
#ifndef KERNEL_KD_KDEXPR_H
#define KERNEL_KD_KDEXPR_H

#include <irqlab/nt.h>

typedef struct _KD_EXPR_ENV {
    /* A symbol's address; FALSE when there is no such symbol. */
    BOOLEAN (*Symbol)(PCSTR Name, ULONG Length, ULONG64 *Address);
    /* A register or pseudo-register, named without its @ (`rip`, `$prcb`); FALSE when none. */
    BOOLEAN (*Register)(PCSTR Name, ULONG Length, ULONG64 *Value);
    /* Reads Size (1, 2, 4 or 8) bytes at Address, zero-extended; FALSE when they cannot be read. */
    BOOLEAN (*Read)(ULONG64 Address, ULONG Size, ULONG64 *Value);
} KD_EXPR_ENV;

/* What went wrong, in WinDbg's classes of expression error (each has its own wording). */
typedef enum _KD_EXPR_ERROR {
    KdExprSyntax,      /* "Syntax error": not an expression */
    KdExprUnresolved,  /* "Couldn't resolve error": no symbol, register or number by that name */
    KdExprBadRegister, /* "Bad register error": @name is no register */
    KdExprDivide,      /* "Divide by zero error" */
    KdExprMemory,      /* "Memory access error": a poi()/by()/wo()/dwo()/qwo() read failed */
} KD_EXPR_ERROR;

typedef struct _KD_EXPR_FAILURE {
    KD_EXPR_ERROR Kind;
    PCSTR Message;   /* a fixed detail ("missing )", "bad number", ...), never NULL */
    ULONG At;        /* the offending offset in the text, <= its length */
    ULONG64 Address; /* KdExprMemory: the address that could not be read */
} KD_EXPR_FAILURE;

/*
 * Evaluates Text[0..Length) whole.  On failure returns FALSE and fills
 * *Failure.  Overflow wraps (64-bit arithmetic, as WinDbg); a division by
 * zero is an error.
 */
BOOLEAN KdEvaluate(const KD_EXPR_ENV *Env, PCSTR Text, ULONG Length, ULONG64 *Value,
                   KD_EXPR_FAILURE *Failure);

#endif
