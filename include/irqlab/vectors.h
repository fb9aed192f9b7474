/*
 * vectors.h - the IDT vector map.  On x64 NT a vector's class (vector >> 4)
 * is the IRQL it runs at, because the local APIC compares exactly that class
 * against CR8.  kernel/ke/vectormap.c holds the one table that names them all.
 */
#ifndef IRQLAB_VECTORS_H
#define IRQLAB_VECTORS_H

#include <irqlab/nt.h>

#define APC_VECTOR        0x1f
#define ASSERTION_VECTOR  0x2c /* int 0x2c: NT_ASSERT's trap, not an interrupt */
#define DISPATCH_VECTOR   0x2f
#define CLOCK_VECTOR      0xd1
#define CLOCK_IPI_VECTOR  0xd2
#define SPURIOUS_VECTOR   0xdf
#define IPI_VECTOR        0xe1
#define APIC_ERROR_VECTOR 0xe2
#define PROFILE_VECTOR    0xfd

/* Device vectors: DIRQL d gets (d << 4) + n; n = 0 is left to the software-style use above. */
#define DEVICE_VECTOR(dirql, n) (((dirql) << 4) + (n))

#define VECTOR_IRQL(vector) ((KIRQL)((vector) >> 4))

typedef struct _KVECTOR_INFO {
    ULONG Vector;
    PCSTR Name; /* what it is for */
} KVECTOR_INFO;

/* The fixed part of the map (exceptions aside), in vector order. */
extern const KVECTOR_INFO KeVectorMap[];
extern const ULONG KeVectorMapCount;

#endif
