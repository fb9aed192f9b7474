/*
 * printf.c - RtlFormatV, the kernel's only formatter (DbgPrint, the bugcheck
 * report and the debugger all go through it).  Freestanding: host unit tests
 * compile this file unchanged and compare against the host's snprintf.
 */
#include <irqlab/rtl.h>

struct out {
    char *buf;
    size_t size;
    size_t len; /* what the full output would need */
};

struct spec {
    BOOLEAN left, zero, plus, space, alt;
    int width;
    int precision; /* -1: none */
    int length;    /* 0, 'H' (hh), 'h', 'l', 'L' (ll, z, t, j) */
    char conv;
};

static void emit(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
    for (;; f++) {
        if (*f == '-') s->left = TRUE;
        else if (*f == '0') s->zero = TRUE;
        else if (*f == '+') s->plus = TRUE;
        else if (*f == ' ') s->space = TRUE;
        else if (*f == '#') s->alt = TRUE;
        else break;
    }
    if (*f == '*') {
        s->width = va_arg(*ap, int);
        if (s->width < 0) {
            s->left = TRUE;
            s->width = -s->width;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            s->width = s->width * 10 + (*f++ - '0');
    }
    s->precision = -1;
    if (*f == '.') {
        f++;
        s->precision = 0;
        if (*f == '*') {
            s->precision = va_arg(*ap, int);
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                s->precision = s->precision * 10 + (*f++ - '0');
        }
    }
    if (f[0] == 'h' && f[1] == 'h') s->length = 'H', f += 2;
    else if (f[0] == 'l' && f[1] == 'l') s->length = 'L', f += 2;
    else if (*f == 'h') s->length = 'h', f++;
    else if (*f == 'l') s->length = 'l', f++;
    else if (*f == 'z' || *f == 't' || *f == 'j') s->length = 'L', f++;
    s->conv = *f;
    return f;
}

/* Emits magnitude v in base with the sign/prefix, padding and precision s asks for. */
static void emit_number(struct out *o, const struct spec *s, ULONG64 v, BOOLEAN negative, unsigned base)
{
    const char *digits = s->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    char sign = negative ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
    const char *prefix = "";

    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    int precision = s->precision < 0 ? 1 : s->precision;
    int zeros = precision > n ? precision - n : 0;
    if (s->alt && base == 16 && n > 0)
        prefix = s->conv == 'X' ? "0X" : "0x";
    if (s->alt && base == 8 && zeros == 0)
        zeros = 1;
    int body = n + zeros + (sign != 0) + (int)strlen(prefix);
    int pad = s->width > body ? s->width - body : 0;
    if (s->zero && !s->left && s->precision < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!s->left)
        emit_pad(o, ' ', pad);
    if (sign)
        emit(o, sign);
    for (; *prefix; prefix++)
        emit(o, *prefix);
    emit_pad(o, '0', zeros);
    while (n)
        emit(o, tmp[--n]);
    if (s->left)
        emit_pad(o, ' ', pad);
}

static void emit_string(struct out *o, const struct spec *s, const char *str)
{
    if (str == NULL)
        str = "(null)";
    int n = (int)(s->precision >= 0 ? strnlen(str, (size_t)s->precision) : strlen(str));
    int pad = s->width > n ? s->width - n : 0;
    if (!s->left)
        emit_pad(o, ' ', pad);
    for (int i = 0; i < n; i++)
        emit(o, str[i]);
    if (s->left)
        emit_pad(o, ' ', pad);
}

static int64_t fetch_signed(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case 'L': return va_arg(*ap, long long);
    case 'l': return va_arg(*ap, long);
    case 'h': return (short)va_arg(*ap, int);
    case 'H': return (signed char)va_arg(*ap, int);
    default: return va_arg(*ap, int);
    }
}

static ULONG64 fetch_unsigned(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case 'L': return va_arg(*ap, unsigned long long);
    case 'l': return va_arg(*ap, unsigned long);
    case 'h': return (unsigned short)va_arg(*ap, unsigned int);
    case 'H': return (unsigned char)va_arg(*ap, unsigned int);
    default: return va_arg(*ap, unsigned int);
    }
}

static void format_one(struct out *o, struct spec *s, va_list *ap)
{
    switch (s->conv) {
    case 'd':
    case 'i': {
        int64_t v = fetch_signed(s, ap);
        emit_number(o, s, v < 0 ? 0 - (ULONG64)v : (ULONG64)v, v < 0, 10);
        break;
    }
    case 'u': emit_number(o, s, fetch_unsigned(s, ap), FALSE, 10); break;
    case 'x':
    case 'X': emit_number(o, s, fetch_unsigned(s, ap), FALSE, 16); break;
    case 'o': emit_number(o, s, fetch_unsigned(s, ap), FALSE, 8); break;
    case 'p': {
        struct spec p = { .width = 16, .zero = TRUE, .precision = -1, .conv = 'x' };
        emit_number(o, &p, (ULONG64)(uintptr_t)va_arg(*ap, void *), FALSE, 16);
        break;
    }
    case 'c': {
        char c[2] = { (char)va_arg(*ap, int), 0 };
        s->precision = 1;
        emit_string(o, s, c);
        break;
    }
    case 's': emit_string(o, s, va_arg(*ap, const char *)); break;
    default: emit(o, '%'); if (s->conv) emit(o, s->conv); break;
    }
}

int RtlFormatV(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;

    va_copy(args, ap);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            emit(&o, *f);
            continue;
        }
        if (f[1] == '%') {
            emit(&o, '%');
            f++;
            continue;
        }
        struct spec s = { 0 };
        f = parse_spec(f + 1, &s, &args);
        format_one(&o, &s, &args);
        if (*f == '\0')
            break;
    }
    va_end(args);
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int RtlFormat(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = RtlFormatV(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
