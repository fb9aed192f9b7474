/*
 * rtl.h - the kernel's run-time library: formatting and memory/string
 * routines.  No libc: these are irqlab's own, and host unit tests build the
 * same sources with the host compiler.
 */
#ifndef IRQLAB_RTL_H
#define IRQLAB_RTL_H

#include <stdarg.h>
#include <irqlab/nt.h>

/*
 * snprintf semantics: writes at most size-1 characters and a NUL (when size
 * > 0) and returns the length the whole output would have had.  Conversions:
 * %d %i %u %x %X %o %c %s %p %% with flags - 0 + space #, width and precision
 * (also *), and length modifiers hh h l ll z t j.  %p prints 16 hex digits
 * without 0x, as NT's DbgPrint does.  A NULL %s prints "(null)".
 */
int RtlFormatV(char *buf, size_t size, const char *fmt, va_list ap);
int RtlFormat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Standard names: the compiler may emit calls to the first four itself. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* The CRT names NT's kernel exports: compare ignoring ASCII case (the console's commands and symbols). */
int _strnicmp(const char *a, const char *b, size_t n);
int _stricmp(const char *a, const char *b);

/* ---- debug output (NT's DbgPrint is an Rtl routine too) ---------------- */
/*
 * IRQL: any.  Formats and hands the text, as one unit, to the routine the
 * boot sequence set (the kernel's serial debug port: each call is written
 * whole under a lock, so a caller that prints a whole line per call never
 * has it torn by another CPU).  Output longer than 511 bytes is cut and
 * ends in "...".  Before a routine is set, nothing is printed.
 */
ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
/* NT's DbgBreakPoint: an int 3 here, which the kernel debugger stops at (0x7E without it). */
VOID DbgBreakPoint(VOID);
typedef VOID (*PRTL_DEBUG_PRINT_ROUTINE)(PCSTR Text, SIZE_T Length);
VOID RtlSetDebugPrintRoutine(PRTL_DEBUG_PRINT_ROUTINE Routine);

/*
 * ASSERT: in debug builds (DBG=1, the default) a false expression prints
 * where it failed (RtlAssert) and executes int 0x2c at that place, as
 * NT_ASSERT does on x64; the kernel's trap handler turns it into
 * KMODE_EXCEPTION_NOT_HANDLED with STATUS_ASSERTION_FAILURE and the int's
 * address (kernel/ke/trap.c).  So any floor can assert: a trap, not a call,
 * reaches the bugcheck.
 */
VOID RtlAssert(PCSTR Expression, PCSTR File, ULONG Line);
static inline __attribute__((always_inline, noreturn)) VOID RtlpRaiseAssertion(VOID)
{
    __asm__ volatile("int $0x2c");
    __builtin_unreachable();
}
#if DBG
#define ASSERT(e) ((e) ? (void)0 : (RtlAssert(#e, __FILE__, __LINE__), RtlpRaiseAssertion()))
#else
#define ASSERT(e) ((void)sizeof(e)) /* not evaluated, but its variables count as used */
#endif

/* Shell-style match of '*' and '?' (no character classes). */
BOOLEAN RtlMatchGlob(const char *pattern, const char *text);
/* The same ignoring ASCII case, as WinDbg's x matches symbols. */
BOOLEAN RtlMatchGlobInsensitive(const char *pattern, const char *text);

#endif
