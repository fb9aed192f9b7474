/*
 * cmd_dt.c - `dt` (display type) as WinDbg prints it: a structure's layout
 * (`dt _KDPC`), or its fields read from memory (`dt _KDPC_DATA <address>`),
 * one `+0x018 DpcQueueDepth    : 0n5` line per field.  Options as
 * WinDbg's: -y <prefix> (fields that start with it), a field name or glob
 * (`DpcData`, `Dpc*`), -r[n] (expand embedded structures n levels) and -a
 * (array elements).  Every read goes through KdReadMemory: a wild address is
 * a message, never a fault.
 */
#include <irqlab/rtl.h>
#include "kd.h"
#include "kdtypes.h"

#define DT_USAGE "dt [-r[n]] [-a] [-y <prefix>] <type> [address] [field]"
#define DT_MAX_DEPTH 9

typedef struct _DT_REQUEST {
    const KD_TYPE *Type;
    BOOLEAN Module; /* typed as nt!_KDPC: WinDbg then prints no module line */
    BOOLEAN HasAddress;
    ULONG64 Address;
    CHAR Filter[48]; /* a glob over top-level field names; "" shows them all */
    ULONG Depth;     /* -r */
    BOOLEAN Arrays;  /* -a */
} DT_REQUEST;

static PCSTR scalar_name(const KD_FIELD *F)
{
    static const PCSTR unsigned_names[] = {"UChar", "Uint2B", "Uint4B", "Uint8B"};
    static const PCSTR signed_names[] = {"Char", "Int2B", "Int4B", "Int8B"};
    ULONG log2 = F->Size >= 8 ? 3 : F->Size >= 4 ? 2 : F->Size >= 2 ? 1 : 0;

    switch (F->Kind) {
    case KdSigned:
        return signed_names[log2];
    case KdStruct:
    case KdEnum:
        return F->Target;
    case KdFunction:
        return "Ptr64     void ";
    case KdPointer:
        return NULL; /* "Ptr64 " + target: see print_type */
    default:
        return unsigned_names[log2];
    }
}

/* The type column of a layout (`dt _KDPC`), and of an array in a dump: "[2] _KDPC_DATA". */
static VOID print_type(const KD_FIELD *F)
{
    PCSTR name = scalar_name(F);

    if (F->Count > 1)
        DbgPrint("[%u] ", F->Count);
    if (name)
        DbgPrint("%s", name);
    else
        DbgPrint("Ptr64 %s", F->Target ? F->Target : "Void");
}

static ULONG64 extend(ULONG64 Value, ULONG Size)
{
    ULONG shift = 64 - 8 * Size;

    return Size >= 8 ? Value : (ULONG64)((LONG64)(Value << shift) >> shift);
}

static VOID print_unsigned(ULONG64 Value)
{
    if (Value == 0)
        DbgPrint("0");
    else
        DbgPrint("0x%llx", Value);
}

static VOID print_pointer(const KD_FIELD *F, ULONG64 Value)
{
    CHAR text[24], symbol[96];

    if (Value == 0) {
        DbgPrint("(null) ");
        return;
    }
    KdFormatAddress(Value, text, sizeof(text));
    if (F->Kind == KdPointer) {
        DbgPrint("0x%s %s", text, F->Target ? F->Target : "Void");
        return;
    }
    if (!KiFormatSymbol(Value, symbol, sizeof(symbol)))
        symbol[0] = '\0';
    DbgPrint("0x%s     void  %s%s", text, symbol, symbol[0] && !strchr(symbol, '+') ? "+0" : "");
}

static VOID print_string(ULONG64 Address, ULONG Count)
{
    CHAR text[32];
    ULONG n = Count < sizeof(text) ? Count : sizeof(text) - 1;

    if (!KdReadMemory(Address, text, n)) {
        DbgPrint("??");
        return;
    }
    DbgPrint("[%u]  \"", Count);
    for (ULONG i = 0; i < n && text[i]; i++)
        DbgPrint("%c", text[i] >= ' ' && text[i] <= '~' ? text[i] : '.');
    DbgPrint("\"");
}

/* One element's value at Address, as WinDbg shows that kind. */
static VOID print_value(const KD_FIELD *F, ULONG64 Address)
{
    ULONG64 value = 0;

    if (F->Kind == KdStruct) {
        DbgPrint("%s", F->Target);
        return;
    }
    if (!KdReadMemory(Address, &value, F->Size > 8 ? 8 : F->Size)) {
        DbgPrint("??");
        return;
    }
    switch (F->Kind) {
    case KdSigned:
        DbgPrint("0n%lld", (LONG64)extend(value, F->Size));
        break;
    case KdChar:
        print_unsigned(value);
        DbgPrint(value >= ' ' && value <= '~' ? " '%c'" : " ''", (int)value);
        break;
    case KdPointer:
    case KdFunction:
        print_pointer(F, value);
        break;
    case KdEnum: {
        LONG64 v = (LONG64)extend(value, F->Size);
        ULONG names = 0;
        while (F->Names[names])
            names++;
        DbgPrint("%lld", v);
        if (v >= 0 && v < (LONG64)names)
            DbgPrint(" ( %s )", F->Names[v]);
        break;
    }
    default:
        print_unsigned(value);
    }
}

static VOID print_fields(const DT_REQUEST *R, const KD_TYPE *T, ULONG64 Base, ULONG Indent, ULONG Depth);

/* An embedded structure's own fields, one level in, while -r allows. */
static VOID expand(const DT_REQUEST *R, const KD_FIELD *F, ULONG64 Address, ULONG Indent, ULONG Depth)
{
    const KD_TYPE *inner = F->Kind == KdStruct && Depth > 0 ? KdFindType(F->Target) : NULL;

    if (inner)
        print_fields(R, inner, Address, Indent + 3, Depth - 1);
}

/* -a: each element of an array on its own line, structures expanded as -r allows. */
static VOID print_elements(const DT_REQUEST *R, const KD_FIELD *F, ULONG64 Address, ULONG Indent, ULONG Depth)
{
    for (ULONG i = 0; i < F->Count; i++) {
        ULONG64 element = Address + (ULONG64)i * F->Size;
        DbgPrint("%*s [%02u] ", (int)Indent + 3, "", i);
        print_value(F, element);
        DbgPrint("\n");
        expand(R, F, element, Indent + 3, Depth);
    }
}

static VOID print_field(const DT_REQUEST *R, const KD_FIELD *F, ULONG64 Base, ULONG Indent, ULONG Depth)
{
    ULONG64 address = Base + F->Offset;

    DbgPrint("%*s+0x%03x %-16s : ", (int)Indent, "", F->Offset, F->Name);
    if (F->Kind == KdString && R->HasAddress)
        print_string(address, F->Count);
    else if (!R->HasAddress || F->Count > 1)
        print_type(F);
    else
        print_value(F, address);
    DbgPrint("\n");
    if (F->Count == 1)
        expand(R, F, address, Indent, Depth);
    else if (R->Arrays && R->HasAddress && F->Kind != KdString)
        print_elements(R, F, address, Indent, Depth);
}

static VOID print_fields(const DT_REQUEST *R, const KD_TYPE *T, ULONG64 Base, ULONG Indent, ULONG Depth)
{
    BOOLEAN top = T == R->Type && Indent == 3;

    for (ULONG i = 0; i < T->FieldCount; i++)
        if (!top || !R->Filter[0] || RtlMatchGlob(R->Filter, T->Fields[i].Name))
            print_field(R, &T->Fields[i], Base, Indent, Depth);
}

static BOOLEAN names_a_field(const KD_TYPE *T, PCSTR Glob)
{
    for (ULONG i = 0; i < T->FieldCount; i++)
        if (RtlMatchGlob(Glob, T->Fields[i].Name))
            return TRUE;
    return FALSE;
}

static VOID list_types(VOID)
{
    DbgPrint("Types dt knows:");
    for (ULONG i = 0; KdTypeAt(i); i++)
        DbgPrint(" %s", KdTypeAt(i)->Name);
    DbgPrint("\n");
}

static BOOLEAN set_filter(DT_REQUEST *R, PCSTR Glob, BOOLEAN Prefix)
{
    if (R->Filter[0]) {
        DbgPrint("Only one field selection; usage: %s\n", DT_USAGE);
        return FALSE;
    }
    RtlFormat(R->Filter, sizeof(R->Filter), Prefix ? "%s*" : "%s", Glob);
    if (names_a_field(R->Type, R->Filter))
        return TRUE;
    DbgPrint("No field of %s matches '%s'\n", R->Type->Name, Glob);
    return FALSE;
}

static BOOLEAN parse_option(DT_REQUEST *R, PCSTR Word, PCSTR *Cursor)
{
    CHAR prefix[40];

    if (Word[1] == 'r' && (Word[2] == '\0' || (Word[2] >= '0' && Word[2] <= '9' && Word[3] == '\0'))) {
        R->Depth = Word[2] ? (ULONG)(Word[2] - '0') : DT_MAX_DEPTH;
        return TRUE;
    }
    if (strcmp(Word, "-a") == 0) {
        R->Arrays = TRUE;
        return TRUE;
    }
    if (strcmp(Word, "-y") != 0) {
        DbgPrint("Unknown option '%s'; usage: %s\n", Word, DT_USAGE);
        return FALSE;
    }
    if (!KdNextWord(Cursor, prefix, sizeof(prefix))) {
        DbgPrint("-y needs a field name prefix; usage: %s\n", DT_USAGE);
        return FALSE;
    }
    if (R->Type == NULL) {
        DbgPrint("Name the type before -y; usage: %s\n", DT_USAGE);
        return FALSE;
    }
    return set_filter(R, prefix, TRUE);
}

/* A word after the options: the type, then an address or a field name. */
static BOOLEAN parse_word(DT_REQUEST *R, PCSTR Word)
{
    if (R->Type == NULL) {
        R->Type = KdFindType(Word);
        R->Module = strchr(Word, '!') != NULL;
        if (R->Type)
            return TRUE;
        DbgPrint("Symbol %s not found.\n", Word);
        list_types();
        return FALSE;
    }
    if (R->HasAddress || names_a_field(R->Type, Word))
        return set_filter(R, Word, FALSE);
    R->HasAddress = TRUE;
    return KdEvaluateText(Word, &R->Address);
}

KD_COMMAND(dt, "dt", DT_USAGE, "display a structure's layout, or its fields at an address")
{
    DT_REQUEST request = {0};
    CHAR word[96];

    while (KdNextWord(&Args, word, sizeof(word)))
        if (!(word[0] == '-' ? parse_option(&request, word, &Args) : parse_word(&request, word)))
            return;
    if (request.Type == NULL) {
        DbgPrint("usage: %s\n", DT_USAGE);
        list_types();
        return;
    }
    UCHAR probe;
    if (request.HasAddress && !KdReadMemory(request.Address, &probe, sizeof(probe))) {
        KdMemoryError(request.Address);
        return;
    }
    if (!request.Module)
        DbgPrint("irqlab!%s\n", request.Type->Name);
    print_fields(&request, request.Type, request.Address, 3, request.Depth);
}
