/*
 * ke.h - the public kernel interface a driver or test includes: raising and
 * lowering IRQL, the bugcheck, the command line, with NT's names and
 * signatures (ASSERT and DbgPrint are the run-time library's: rtl.h).
 */
#ifndef IRQLAB_KE_H
#define IRQLAB_KE_H

#include <irqlab/bugcodes.h>
#include <irqlab/hal.h>
#include <irqlab/list.h>
#include <irqlab/nt.h>
#include <irqlab/rtl.h>

/* ---- IRQL: KIRQL and the levels are in nt.h; CR8 holds the current one ---- */
/* The NT name of a level ("DISPATCH_LEVEL", "DIRQL 5", ...); never NULL. */
const char *KeIrqlName(KIRQL Irql);

/* IRQL: any.  Reads CR8. */
KIRQL KeGetCurrentIrql(VOID);
/* IRQL: any; NewIrql >= current, else bugcheck IRQL_NOT_GREATER_OR_EQUAL (0x9). */
KIRQL KfRaiseIrql(KIRQL NewIrql);
VOID KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
KIRQL KeRaiseIrqlToDpcLevel(VOID);
KIRQL KeRaiseIrqlToSynchLevel(VOID);
/* IRQL: any; NewIrql <= current, else bugcheck IRQL_NOT_LESS_OR_EQUAL (0xA). */
VOID KeLowerIrql(KIRQL NewIrql);

/* ---- bugcheck (the codes are in bugcodes.h) ------------------------------ */
/* IRQL: any.  Stops the system with an NT-style report on serial. */
DECLSPEC_NORETURN VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                    ULONG_PTR P4);
DECLSPEC_NORETURN VOID KeBugCheck(ULONG BugCheckCode);

/* Name of a bugcheck code as !analyze prints it, or NULL if irqlab has none. */
const char *KeBugCheckName(ULONG BugCheckCode);

/* NT's bugcheck callbacks (wdm.h): called after the report, at HIGH_LEVEL with the other
 * processors frozen; the code and parameters are in KiBugCheckData[0..4], as NT keeps them. */
typedef VOID (*PKBUGCHECK_CALLBACK_ROUTINE)(PVOID Buffer, ULONG Length);
typedef enum _KBUGCHECK_BUFFER_DUMP_STATE {
    BufferEmpty, BufferInserted, BufferStarted, BufferFinished, BufferIncomplete
} KBUGCHECK_BUFFER_DUMP_STATE;
typedef struct _KBUGCHECK_CALLBACK_RECORD {
    LIST_ENTRY Entry;
    PKBUGCHECK_CALLBACK_ROUTINE CallbackRoutine;
    PVOID Buffer;
    ULONG Length;
    PUCHAR Component;
    ULONG_PTR Checksum;
    UCHAR State;
} KBUGCHECK_CALLBACK_RECORD, *PKBUGCHECK_CALLBACK_RECORD;
_Static_assert(sizeof(KBUGCHECK_CALLBACK_RECORD) == 0x40 && offsetof(KBUGCHECK_CALLBACK_RECORD, State) == 0x38,
               "x64 layout, as public Windows 10 symbol dumps give it");
#define KeInitializeCallbackRecord(CallbackRecord) ((CallbackRecord)->State = BufferEmpty)
/* IRQL: any.  FALSE when the record is already registered. */
BOOLEAN KeRegisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord,
                                   PKBUGCHECK_CALLBACK_ROUTINE CallbackRoutine, PVOID Buffer, ULONG Length,
                                   PUCHAR Component);
/* IRQL: any.  FALSE when the record is not registered. */
BOOLEAN KeDeregisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord);
extern ULONG_PTR KiBugCheckData[5];


/* ---- kernel command line (key=value words, from \irqlab\cmdline.txt) ----- */
/* Boot, once (the boot sequence): keeps the words; unknown keys are reported with the known ones. */
VOID KeParseCommandLine(PCSTR CommandLine);
/* IRQL: any.  The value of key, or NULL if absent; "" for a bare key. */
PCSTR KeGetCommandLineValue(PCSTR Key);
/* IRQL: any.  Key's value as a number in [Minimum, Maximum]; Default when absent or bad (said on serial). */
ULONG KeGetCommandLineNumber(PCSTR Key, ULONG Minimum, ULONG Maximum, ULONG Default);

/* A key some floor reads, with its help line, kept in the .kopts section: declared where it is read. */
typedef struct _KCOMMAND_LINE_OPTION {
    PCSTR Key;
    PCSTR Help;
} KCOMMAND_LINE_OPTION;
#define KE_COMMAND_LINE_OPTION(ident, key, help)                                                   \
    static const KCOMMAND_LINE_OPTION KeOption_##ident __attribute__((used, section(".kopts"), aligned(8))) = \
        { key, help }

#endif
