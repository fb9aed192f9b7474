/*
 * kdexpr.c - a recursive-descent evaluator for WinDbg's MASM expressions
 * (kdexpr.h).  Depth is bounded, so no input can exhaust the stack.
 */
#include "kdexpr.h"

#define MAX_DEPTH 32

typedef struct _PARSER {
    const KD_EXPR_ENV *Env;
    PCSTR Text;
    ULONG Length, At, Depth;
    PCSTR Error;
} PARSER;

static BOOLEAN expression(PARSER *P, ULONG64 *Value);

static BOOLEAN fail(PARSER *P, PCSTR Error)
{
    if (P->Error == NULL)
        P->Error = Error;
    return FALSE;
}

static CHAR peek(PARSER *P)
{
    while (P->At < P->Length && (P->Text[P->At] == ' ' || P->Text[P->At] == '\t'))
        P->At++;
    return P->At < P->Length ? P->Text[P->At] : '\0';
}

static int digit_value(CHAR C)
{
    if (C >= '0' && C <= '9')
        return C - '0';
    if (C >= 'a' && C <= 'f')
        return C - 'a' + 10;
    if (C >= 'A' && C <= 'F')
        return C - 'A' + 10;
    return 99;
}

static BOOLEAN is_name_char(CHAR C)
{
    return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') || (C >= '0' && C <= '9') || C == '_' || C == '!' ||
           C == '@' || C == '$' || C == '.';
}

/* Digits in Radix, backticks allowed between them; at least one digit. */
static BOOLEAN digits(PARSER *P, ULONG Radix, ULONG64 *Value)
{
    ULONG count = 0;
    ULONG64 v = 0;

    for (; P->At < P->Length; P->At++) {
        CHAR c = P->Text[P->At];
        if (c == '`' && count)
            continue;
        int d = digit_value(c);
        if (d >= (int)Radix)
            break;
        if (v > (~0ull - (ULONG64)d) / Radix)
            return fail(P, "number too large for 64 bits");
        v = v * Radix + (ULONG64)d;
        count++;
    }
    if (count == 0)
        return fail(P, "bad number");
    *Value = v;
    return TRUE;
}

static BOOLEAN number(PARSER *P, ULONG64 *Value)
{
    ULONG radix = 16;

    if (P->At + 1 < P->Length && P->Text[P->At] == '0') {
        CHAR prefix = P->Text[P->At + 1];
        radix = prefix == 'x' || prefix == 'X' ? 16 : prefix == 'n' || prefix == 'N' ? 10
              : prefix == 'y' || prefix == 'Y' ? 2 : 0;
        if (radix)
            P->At += 2;
        else
            radix = 16;
    }
    if (!digits(P, radix, Value))
        return FALSE;
    if (P->At < P->Length && is_name_char(P->Text[P->At]))
        return fail(P, "bad number");
    return TRUE;
}

/* A name: a symbol, or hex digits that spell a word (`beef`), as WinDbg tries. */
static BOOLEAN name(PARSER *P, ULONG64 *Value)
{
    ULONG start = P->At;

    while (P->At < P->Length && is_name_char(P->Text[P->At]))
        P->At++;
    PCSTR text = P->Text + start;
    ULONG length = P->At - start;
    static const char module[] = "irqlab!"; /* the one module: irqlab!Name is Name */
    ULONG m = 0;
    while (m < sizeof(module) - 1 && m < length && text[m] == module[m])
        m++;
    if (m == sizeof(module) - 1)
        text += m, length -= m;
    if (P->Env->Symbol && length && P->Env->Symbol(text, length, Value))
        return TRUE;
    P->At = start;
    if (digit_value(P->Text[start]) < 16)
        return number(P, Value);
    P->At = start;
    return fail(P, "unknown symbol");
}

static BOOLEAN primary(PARSER *P, ULONG64 *Value)
{
    CHAR c = peek(P);

    if (c == '(') {
        P->At++;
        if (!expression(P, Value))
            return FALSE;
        if (peek(P) != ')')
            return fail(P, "missing )");
        P->At++;
        return TRUE;
    }
    if (P->At + 4 <= P->Length && P->Text[P->At] == 'p' && P->Text[P->At + 1] == 'o' &&
        P->Text[P->At + 2] == 'i' && (P->At + 3 >= P->Length || P->Text[P->At + 3] == '(' ||
                                      P->Text[P->At + 3] == ' ')) {
        ULONG64 address;
        P->At += 3;
        if (peek(P) != '(')
            return fail(P, "poi needs (");
        if (!primary(P, &address))
            return FALSE;
        if (P->Env->ReadPointer == NULL || !P->Env->ReadPointer(address, Value))
            return fail(P, "memory access error in poi()");
        return TRUE;
    }
    if (c >= '0' && c <= '9')
        return number(P, Value);
    if (is_name_char(c))
        return name(P, Value);
    return fail(P, c ? "syntax error" : "missing operand");
}

static BOOLEAN unary(PARSER *P, ULONG64 *Value)
{
    CHAR c = peek(P);

    if (++P->Depth > MAX_DEPTH)
        return fail(P, "expression nested too deeply");
    BOOLEAN ok;
    if (c == '-' || c == '+' || c == '~') {
        P->At++;
        ok = unary(P, Value);
        if (ok && c == '-')
            *Value = 0 - *Value;
        else if (ok && c == '~')
            *Value = ~*Value;
    } else {
        ok = primary(P, Value);
    }
    P->Depth--;
    return ok;
}

static BOOLEAN term(PARSER *P, ULONG64 *Value)
{
    if (!unary(P, Value))
        return FALSE;
    for (CHAR op; (op = peek(P)) == '*' || op == '/' || op == '%';) {
        ULONG64 right;
        P->At++;
        if (!unary(P, &right))
            return FALSE;
        if (op != '*' && right == 0)
            return fail(P, "division by zero");
        *Value = op == '*' ? *Value * right : op == '/' ? *Value / right : *Value % right;
    }
    return TRUE;
}

static BOOLEAN expression(PARSER *P, ULONG64 *Value)
{
    if (++P->Depth > MAX_DEPTH)
        return fail(P, "expression nested too deeply");
    BOOLEAN ok = term(P, Value);
    for (CHAR op; ok && ((op = peek(P)) == '+' || op == '-');) {
        ULONG64 right;
        P->At++;
        ok = term(P, &right);
        if (ok)
            *Value = op == '+' ? *Value + right : *Value - right;
    }
    P->Depth--;
    return ok;
}

BOOLEAN KdEvaluate(const KD_EXPR_ENV *Env, PCSTR Text, ULONG Length, ULONG64 *Value, PCSTR *Error,
                   ULONG *ErrorAt)
{
    PARSER p = { Env, Text, Length, 0, 0, NULL };
    ULONG64 v = 0;

    BOOLEAN ok = expression(&p, &v);
    if (ok && peek(&p) != '\0')
        ok = fail(&p, "syntax error");
    if (!ok) {
        *Error = p.Error ? p.Error : "syntax error";
        *ErrorAt = p.At;
        return FALSE;
    }
    *Value = v;
    return TRUE;
}
