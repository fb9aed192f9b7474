/*
 * kdtypes.h - the structure layouts `dt` knows (kdtypes.c): each field's
 * name, offset, size and how WinDbg shows it, taken from the C structs with
 * offsetof, so `dt` can never disagree with the layout the kernel uses.
 */
#ifndef KERNEL_KD_KDTYPES_H
#define KERNEL_KD_KDTYPES_H

#include <irqlab/nt.h>

typedef enum _KD_FIELD_KIND {
    KdUnsigned, /* UChar .. Uint8B: 0, else 0x.. */
    KdSigned,   /* Int2B .. Int8B: 0n.. */
    KdChar,     /* a UChar shown with its character: 0x13 '' */
    KdPointer,  /* Ptr64 <Target>, or Ptr64 Void when Target is NULL */
    KdFunction, /* Ptr64 void: shown with its symbol */
    KdStruct,   /* embedded structure Target */
    KdString,   /* a UChar array holding text: "AuthenticAMD" */
    KdEnum,     /* Int4B named by Names[value]: 1 ( Latched ) */
} KD_FIELD_KIND;

typedef struct _KD_FIELD {
    PCSTR Name;
    ULONG Offset;
    ULONG Size;  /* of one element */
    ULONG Count; /* elements: 1 for a scalar */
    KD_FIELD_KIND Kind;
    PCSTR Target;       /* the pointed-to or embedded type ("_KDPC"), or the enum's name */
    const PCSTR *Names; /* KdEnum: the value names, NULL-terminated */
} KD_FIELD;

typedef struct _KD_TYPE {
    PCSTR Name; /* "_KDPC" */
    ULONG Size;
    const KD_FIELD *Fields;
    ULONG FieldCount;
} KD_TYPE;

/* IRQL: any.  The type named Name: "_KDPC", "KDPC", "nt!_KDPC" or "irqlab!_KDPC"; NULL when unknown. */
const KD_TYPE *KdFindType(PCSTR Name);
/* IRQL: any.  Every known type, in the order `dt` lists them. */
const KD_TYPE *KdTypeAt(ULONG Index); /* NULL past the last */

#endif
