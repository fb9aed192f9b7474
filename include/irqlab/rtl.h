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

/* Shell-style match of '*' and '?' (no character classes). */
BOOLEAN RtlMatchGlob(const char *pattern, const char *text);

#endif
