/*
 * disasm.c - one instruction at a time through Zydis (Debian's zydis source,
 * fetched and built by the Makefile), written as WinDbg's `u` writes it:
 * Intel syntax, no space after a comma, MASM numbers (0Fh, 8), `qword ptr`
 * always, je/jne rather than jz/jnz, and code or data addresses in the image
 * as `irqlab!Name+0x1c (ffffffff`80001234)`.  Zydis formats into tokens
 * (Zydis docs, "Formatter: tokenizing"); this file rewrites the few tokens
 * where WinDbg differs, so no Zydis hook needs Zycore's string library.
 */
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include <Zydis/Zydis.h>
#include "kd.h"
#include "disasm.h"

typedef struct _TEXT {
    CHAR *Out;
    ULONG Size, Length;
    BOOLEAN SkipSpace; /* after the mnemonic's column and after a comma */
    BOOLEAN NoSize;    /* lea computes an address: WinDbg gives its [] no size */
    BOOLEAN Branch;    /* a jump or call: an address with no symbol is printed as WinDbg's */
} TEXT;

static ZydisDecoder KdDecoder;
static ZydisFormatter KdFormatter;
static BOOLEAN KdZydisReady;

/* The properties that bring Zydis' Intel style closest to WinDbg's (Zydis docs, ZydisFormatterProperty). */
static VOID initialize(VOID)
{
    static const struct { ZydisFormatterProperty Property; ZyanUPointer Value; } properties[] = {
        { ZYDIS_FORMATTER_PROP_FORCE_SIZE, ZYAN_TRUE },     /* qword ptr [rsp+8], as WinDbg */
        { ZYDIS_FORMATTER_PROP_FORCE_SCALE_ONE, ZYAN_FALSE }, /* [rax+rax], not [rax+rax*1] */
        { ZYDIS_FORMATTER_PROP_FORCE_RELATIVE_BRANCHES, ZYAN_FALSE },
        { ZYDIS_FORMATTER_PROP_FORCE_RELATIVE_RIPREL, ZYAN_FALSE }, /* [rip+x] as its target */
        { ZYDIS_FORMATTER_PROP_IMM_SIGNEDNESS, ZYDIS_SIGNEDNESS_UNSIGNED }, /* or rax,0FFFFFFFFFFFFFFFFh */
        { ZYDIS_FORMATTER_PROP_IMM_PADDING, ZYDIS_PADDING_DISABLED },
        { ZYDIS_FORMATTER_PROP_DISP_PADDING, ZYDIS_PADDING_DISABLED },
        { ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE, ZYDIS_PADDING_DISABLED },
        { ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_TRUE },  /* MASM numbers: 0FFh */
        { ZYDIS_FORMATTER_PROP_HEX_FORCE_LEADING_NUMBER, ZYAN_TRUE },
        { ZYDIS_FORMATTER_PROP_HEX_PREFIX, 0 },
        { ZYDIS_FORMATTER_PROP_HEX_SUFFIX, (ZyanUPointer)"h" },
    };

    ZydisDecoderInit(&KdDecoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisFormatterInit(&KdFormatter, ZYDIS_FORMATTER_STYLE_INTEL);
    for (ULONG i = 0; i < ARRAYSIZE(properties); i++)
        ZydisFormatterSetProperty(&KdFormatter, properties[i].Property, properties[i].Value);
    KdZydisReady = TRUE;
}

static VOID append(TEXT *T, PCSTR Text)
{
    for (; *Text && T->Length + 1 < T->Size; Text++)
        T->Out[T->Length++] = *Text;
    T->Out[T->Length] = '\0';
}

/* A MASM number as Zydis printed it (digits, then h when hex); its value. */
static ULONG64 number_value(PCSTR Text, BOOLEAN *Hex)
{
    ULONG64 value = 0, decimal = 0;

    for (; *Text; Text++) {
        CHAR c = *Text;
        ULONG digit = c >= '0' && c <= '9' ? (ULONG)(c - '0') : c >= 'A' && c <= 'F' ? (ULONG)(c - 'A' + 10) : 99;
        if (digit == 99)
            break;
        value = value * 16 + digit;
        decimal = decimal * 10 + digit;
    }
    *Hex = *Text == 'h';
    return *Hex ? value : decimal;
}

/* WinDbg writes 0 to 9 bare and only bigger numbers with the h (Zydis: 8h). */
static VOID append_number(TEXT *T, PCSTR Text)
{
    BOOLEAN hex;
    CHAR digit[2] = { 0, 0 };

    if (number_value(Text, &hex) < 10 && hex) {
        digit[0] = (CHAR)('0' + number_value(Text, &hex));
        append(T, digit);
    } else
        append(T, Text);
}

/* A branch target or RIP-relative operand: `irqlab!Name+0x1c (ffffffff`80001234)` in the image. */
static VOID append_address(TEXT *T, PCSTR Text)
{
    BOOLEAN hex;
    ULONG64 address = number_value(Text, &hex);
    CHAR symbol[96], plain[24];

    KdFormatAddress(address, plain, sizeof(plain));
    if (KiFormatSymbol(address, symbol, sizeof(symbol))) {
        append(T, symbol);
        append(T, " (");
        append(T, plain);
        append(T, ")");
    } else
        append(T, T->Branch ? plain : Text); /* gs:[20h] stays a number */
}

/* Zydis' condition codes as Microsoft's disassembler spells them: jz -> je, setnbe -> seta. */
static VOID append_mnemonic(TEXT *T, PCSTR Mnemonic)
{
    static const PCSTR stems[] = { "j", "set", "cmov" };
    static const struct { PCSTR Zydis, WinDbg; } conditions[] = {
        { "z", "e" }, { "nz", "ne" }, { "nb", "ae" }, { "nbe", "a" }, { "nl", "ge" }, { "nle", "g" },
    };

    if (strcmp(Mnemonic, "int3") == 0) { /* WinDbg: int 3 */
        append(T, "int     3");
        return; /* the padding that follows is trimmed with the trailing spaces */
    }
    for (ULONG s = 0; s < ARRAYSIZE(stems); s++) {
        size_t n = strlen(stems[s]);
        if (strncmp(Mnemonic, stems[s], n) != 0)
            continue;
        for (ULONG c = 0; c < ARRAYSIZE(conditions); c++)
            if (strcmp(Mnemonic + n, conditions[c].Zydis) == 0) {
                append(T, stems[s]);
                append(T, conditions[c].WinDbg);
                return;
            }
    }
    append(T, Mnemonic);
}

static VOID append_token(TEXT *T, ZydisTokenType Type, PCSTR Value)
{
    BOOLEAN skip_space = T->SkipSpace;

    T->SkipSpace = FALSE;
    if (Type == ZYDIS_TOKEN_WHITESPACE) {
        if (!skip_space) /* kept between a prefix and the mnemonic, a size and its [ */
            append(T, Value);
    } else if (Type == ZYDIS_TOKEN_MNEMONIC) {
        append_mnemonic(T, Value);
        do /* the mnemonic column: 7 wide, then a space */
            append(T, " ");
        while (T->Length < 8);
        T->SkipSpace = TRUE;
    } else if (Type == ZYDIS_TOKEN_TYPECAST && T->NoSize) {
        T->SkipSpace = TRUE;
    } else if (Type == ZYDIS_TOKEN_DELIMITER && strcmp(Value, ",") == 0) {
        append(T, ","); /* WinDbg: mov rax,cr8 */
        T->SkipSpace = TRUE;
    } else if (Type == ZYDIS_TOKEN_IMMEDIATE || Type == ZYDIS_TOKEN_DISPLACEMENT)
        append_number(T, Value);
    else if (Type == ZYDIS_TOKEN_ADDRESS_ABS)
        append_address(T, Value);
    else
        append(T, Value);
}

static KD_FLOW flow_of(const ZydisDecodedInstruction *Instruction)
{
    switch (Instruction->meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
        return KdFlowBranch;
    case ZYDIS_CATEGORY_CALL:
        return KdFlowCall;
    case ZYDIS_CATEGORY_UNCOND_BR:
        return KdFlowJump;
    case ZYDIS_CATEGORY_RET:
        return KdFlowStop;
    case ZYDIS_CATEGORY_NOP:
    case ZYDIS_CATEGORY_WIDENOP:
        return KdFlowPadding;
    default:
        break;
    }
    if (Instruction->mnemonic == ZYDIS_MNEMONIC_INT3)
        return KdFlowPadding; /* gcc pads with nops; int3 also ends a path (Intel SDM Vol. 2A INT n) */
    if (Instruction->mnemonic == ZYDIS_MNEMONIC_UD2 || Instruction->mnemonic == ZYDIS_MNEMONIC_IRETQ ||
        Instruction->mnemonic == ZYDIS_MNEMONIC_HLT)
        return KdFlowStop;
    return KdFlowNext;
}

static VOID format(const ZydisDecodedInstruction *Instruction, const ZydisDecodedOperand *Operands,
                   KD_INSTRUCTION *Out)
{
    CHAR buffer[256];
    const ZydisFormatterToken *token;
    TEXT text = { Out->Text, sizeof(Out->Text), 0, FALSE, Instruction->mnemonic == ZYDIS_MNEMONIC_LEA,
                  Out->Flow != KdFlowNext };
    /* Zydis shows the reg field of the long nop (0F 1F /0) as an operand; WinDbg does not */
    ZyanU8 operands = Instruction->mnemonic == ZYDIS_MNEMONIC_NOP && Instruction->operand_count_visible > 1
                          ? 1 : Instruction->operand_count_visible;

    Out->Text[0] = '\0';
    if (!ZYAN_SUCCESS(ZydisFormatterTokenizeInstruction(&KdFormatter, Instruction, Operands, operands, buffer,
                                                        sizeof(buffer), Out->Address, &token, NULL))) {
        append(&text, "???");
        return;
    }
    do {
        ZydisTokenType type;
        ZyanConstCharPointer value;
        ZydisFormatterTokenGetValue(token, &type, &value);
        append_token(&text, type, value);
    } while (ZYAN_SUCCESS(ZydisFormatterTokenNext(&token)));
    while (text.Length > 0 && Out->Text[text.Length - 1] == ' ') /* ret: no operand column */
        Out->Text[--text.Length] = '\0';
}

BOOLEAN KdDecodeBytes(ULONG64 Address, const UCHAR *Bytes, ULONG Size, KD_INSTRUCTION *Out)
{
    ZydisDecodedInstruction instruction;
    ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];

    if (!KdZydisReady)
        initialize();
    Out->Address = Address;
    ZyanStatus status = ZydisDecoderDecodeFull(&KdDecoder, Bytes, Size, &instruction, operands);
    if (status == ZYDIS_STATUS_NO_MORE_DATA && Size < KD_INSTRUCTION_MAX)
        return FALSE;
    Out->Valid = ZYAN_SUCCESS(status);
    Out->Length = Out->Valid ? instruction.length : 1;
    memcpy(Out->Bytes, Bytes, Out->Length);
    Out->HasTarget = FALSE;
    Out->Flow = Out->Valid ? flow_of(&instruction) : KdFlowNext;
    if (!Out->Valid) {
        memcpy(Out->Text, "???", 4);
        return TRUE;
    }
    ZyanU64 target;
    if (operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && operands[0].imm.is_relative &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&instruction, &operands[0], Address, &target))) {
        Out->HasTarget = TRUE;
        Out->Target = target;
    }
    format(&instruction, operands, Out);
    return TRUE;
}

BOOLEAN KdDecodeAt(ULONG64 Address, KD_INSTRUCTION *Out, ULONG64 *Unreadable)
{
    UCHAR bytes[KD_INSTRUCTION_MAX];
    ULONG size = KD_INSTRUCTION_MAX;

    if (!KdReadMemory(Address, bytes, size)) /* the end of a mapping: as many bytes as can be read */
        for (size = 0; size < KD_INSTRUCTION_MAX && KdReadMemory(Address + size, bytes + size, 1); size++)
            ;
    *Unreadable = Address + size;
    return size > 0 && KdDecodeBytes(Address, bytes, size, Out);
}

VOID KdPrintInstruction(const KD_INSTRUCTION *Instruction)
{
    CHAR address[24], bytes[2 * KD_INSTRUCTION_MAX + 1];

    KdFormatAddress(Instruction->Address, address, sizeof(address));
    for (ULONG i = 0; i < Instruction->Length; i++)
        RtlFormat(bytes + 2 * i, 3, "%02x", Instruction->Bytes[i]);
    /* WinDbg's columns: the bytes 15 wide and a space (longer ones push the mnemonic right) */
    DbgPrint("%s %-15s %s\n", address, bytes, Instruction->Text);
}
