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
    KD_EXPR_ERROR Kind;
    ULONG64 Address;
} PARSER;

static BOOLEAN expression(PARSER *P, ULONG64 *Value);
static BOOLEAN primary(PARSER *P, ULONG64 *Value);

/* The first failure wins: an outer caller's later complaint would hide the cause. */
static BOOLEAN fail_as(PARSER *P, KD_EXPR_ERROR Kind, PCSTR Error)
{
    if (P->Error == NULL) {
        P->Error = Error;
        P->Kind = Kind;
    }
    return FALSE;
}

static BOOLEAN fail(PARSER *P, PCSTR Error)
{
    return fail_as(P, KdExprSyntax, Error);
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

static BOOLEAN same_word(PCSTR Text, ULONG Length, PCSTR Word)
{
    ULONG i = 0;

    for (; i < Length && Word[i]; i++)
        if ((Text[i] | 0x20) != Word[i])
            return FALSE;
    return i == Length && Word[i] == '\0';
}

/* poi/qwo/dwo/wo/by(x): Size bytes at x, as WinDbg's MASM operators read them. */
static ULONG memory_operator(PCSTR Text, ULONG Length)
{
    static const struct { const char *Name; ULONG Size; } ops[] = {
        { "poi", 8 }, { "qwo", 8 }, { "dwo", 4 }, { "wo", 2 }, { "by", 1 },
    };

    for (ULONG i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (same_word(Text, Length, ops[i].Name))
            return ops[i].Size;
    return 0;
}

static BOOLEAN read_memory(PARSER *P, ULONG Size, ULONG64 *Value)
{
    ULONG64 address;

    if (peek(P) != '(')
        return fail(P, "poi, qwo, dwo, wo and by need (");
    if (!primary(P, &address))
        return FALSE;
    if (P->Env->Read == NULL || !P->Env->Read(address, Size, Value)) {
        P->Address = address;
        return fail_as(P, KdExprMemory, "memory access error");
    }
    return TRUE;
}

/* Hex digits that spell a word (`beef`, `fffff800`4150b2e0`), taken whole or not at all. */
static BOOLEAN whole_number(PARSER *P, ULONG Start, ULONG64 *Value)
{
    P->At = Start;
    if (digit_value(P->Text[Start]) < 16 && number(P, Value))
        return TRUE;
    P->Error = NULL; /* not a number either: the caller says what it is */
    P->At = Start;
    return FALSE;
}

/*
 * A name: @register; $pseudo-register; else a symbol, then a number, then a
 * register, the order WinDbg's MASM evaluator tries for a bare word.
 */
static BOOLEAN name(PARSER *P, ULONG64 *Value)
{
    ULONG start = P->At;

    while (P->At < P->Length && is_name_char(P->Text[P->At]))
        P->At++;
    PCSTR text = P->Text + start;
    ULONG length = P->At - start, end = P->At, size = memory_operator(text, length);
    if (size)
        return read_memory(P, size, Value);
    if (text[0] == '@' || text[0] == '$') {
        ULONG skip = text[0] == '@';
        if (P->Env->Register && length > skip && P->Env->Register(text + skip, length - skip, Value))
            return TRUE;
        P->At = start;
        return fail_as(P, KdExprBadRegister, "no such register");
    }
    static const char module[] = "irqlab!"; /* the one module: irqlab!Name is Name */
    if (length > sizeof(module) - 1 && same_word(text, sizeof(module) - 1, module))
        text += sizeof(module) - 1, length -= sizeof(module) - 1;
    if (P->Env->Symbol && P->Env->Symbol(text, length, Value))
        return TRUE;
    if (whole_number(P, start, Value))
        return TRUE;
    if (P->Env->Register && P->Env->Register(text, length, Value)) {
        P->At = end;
        return TRUE;
    }
    return fail_as(P, KdExprUnresolved, "unknown symbol");
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
            return fail_as(P, KdExprDivide, "division by zero");
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

BOOLEAN KdEvaluate(const KD_EXPR_ENV *Env, PCSTR Text, ULONG Length, ULONG64 *Value, KD_EXPR_FAILURE *Failure)
{
    PARSER p = { Env, Text, Length, 0, 0, NULL, KdExprSyntax, 0 };
    ULONG64 v = 0;

    BOOLEAN ok = expression(&p, &v);
    if (ok && peek(&p) != '\0')
        ok = fail(&p, "syntax error");
    if (!ok) {
        Failure->Kind = p.Error ? p.Kind : KdExprSyntax;
        Failure->Message = p.Error ? p.Error : "syntax error";
        Failure->At = p.At;
        Failure->Address = p.Address;
        return FALSE;
    }
    *Value = v;
    return TRUE;
}
