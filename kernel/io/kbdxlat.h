/*
 * kbdxlat.h - the keyboard's scan code decoder: bytes of scan code set 1, as
 * the i8042 delivers them with translation on, become characters and keys on
 * a US layout, the way i8042prt's ISR hands make/break codes to kbdclass and
 * the keyboard layout (kbdus) turns them into characters.  Pure C on
 * <irqlab/nt.h> types, no IRQL or locking of its own: the caller serialises
 * (one decoder per keyboard, fed from the DPC), and the host unit tests
 * build the same source.  Controller replies (0xFA ACK, 0xFE RESEND, 0xAA
 * self-test passed, 0xEE echo, 0x00/0xFF overrun) are not scan codes and the
 * driver must not feed them; 0xAA is also Left Shift's break code, so it is
 * a reply only right after the driver sent a reset.
 */
#ifndef KERNEL_IO_KBDXLAT_H
#define KERNEL_IO_KBDXLAT_H

#include <irqlab/nt.h>

/* Non-character keys, reported as KBD_EVENT.Key. */
enum {
    KBD_KEY_NONE,
    KBD_KEY_UP,
    KBD_KEY_DOWN,
    KBD_KEY_LEFT,
    KBD_KEY_RIGHT,
    KBD_KEY_HOME,
    KBD_KEY_END,
    KBD_KEY_INSERT,
    KBD_KEY_DELETE,
    KBD_KEY_PAGE_UP,
    KBD_KEY_PAGE_DOWN,
    KBD_KEY_F1, /* F1 + n is F(n+1), through F12 */
    KBD_KEY_F12 = KBD_KEY_F1 + 11,
};

#define KBD_LED_SCROLL 0x01 /* the i8042 "set LEDs" (0xED) argument bits */
#define KBD_LED_NUM    0x02
#define KBD_LED_CAPS   0x04

/* KBD_DECODER.Held: modifier and lock keys down now. */
#define KBD_HELD_LSHIFT 0x0001
#define KBD_HELD_RSHIFT 0x0002
#define KBD_HELD_LCTRL  0x0004
#define KBD_HELD_RCTRL  0x0008
#define KBD_HELD_LALT   0x0010
#define KBD_HELD_RALT   0x0020
#define KBD_HELD_CAPS   0x0040 /* a lock key toggles only on the make that sets its bit */
#define KBD_HELD_NUM    0x0080
#define KBD_HELD_SCROLL 0x0100
#define KBD_HELD_SHIFT  (KBD_HELD_LSHIFT | KBD_HELD_RSHIFT)
#define KBD_HELD_CTRL   (KBD_HELD_LCTRL | KBD_HELD_RCTRL)
#define KBD_HELD_ALT    (KBD_HELD_LALT | KBD_HELD_RALT)

typedef struct _KBD_DECODER {
    BOOLEAN Extended; /* the previous byte was 0xE0 */
    UCHAR PauseSkip;  /* bytes of a Pause (E1 ...) sequence still to drop */
    UCHAR Leds;       /* KBD_LED_* now lit: the lock states themselves */
    USHORT Held;      /* KBD_HELD_* */
} KBD_DECODER, *PKBD_DECODER;

typedef struct _KBD_EVENT {
    CHAR Char;           /* the character for a key press, or 0 */
    USHORT Key;          /* KBD_KEY_* for a non-character key press, or KBD_KEY_NONE */
    BOOLEAN LedsChanged; /* a lock key changed Leds: the driver sends 0xED, Leds */
} KBD_EVENT, *PKBD_EVENT;

/* Nothing held, all locks (and Leds) off: the driver sends 0xED, 0 to match. */
VOID KbdDecoderInitialize(PKBD_DECODER Decoder);

/*
 * Feeds one byte of scan code set 1.  Returns TRUE when the byte completed a
 * key press that produced a character or a key, or changed the LEDs (never
 * more than one of Char, Key, LedsChanged).  Break codes, modifier keys, 0xE0
 * prefixes, typematic repeats of lock keys and unknown codes return FALSE.
 * Event is cleared on every call.  Ctrl+letter gives the control character,
 * Ctrl with any other key the unshifted character; Alt is tracked but
 * changes nothing (no meta prefix).  The keypad follows Num Lock alone
 * (Shift does not invert it).  Not fed controller replies (see above).
 */
BOOLEAN KbdDecode(PKBD_DECODER Decoder, UCHAR ScanCode, PKBD_EVENT Event);

/*
 * The bytes a serial terminal (xterm) would send for this event, so the
 * console has one input language: Char as itself, cursor keys ESC [ A-D,
 * Home/End ESC [ H/F, Insert/Delete/PageUp/PageDown ESC [ 2/3/5/6 ~, F1-F4
 * ESC O P-S, F5-F12 ESC [ 15 ~ ... 24 ~.  Returns the number of bytes
 * written, not NUL-terminated; 0 (nothing written) for an event with neither
 * Char nor Key or when Size is too small.
 */
ULONG KbdEventToTerminal(const KBD_EVENT *Event, CHAR *Out, ULONG Size);

/*
 * TRUE if the make code (set 1, without 0xE0) gives a character or key in
 * KbdDecode with Num Lock on: not a modifier, lock or unknown code.  Keypad
 * 5 (0x4C) is one, though it is silent with Num Lock off.
 */
BOOLEAN KbdIsKey(UCHAR MakeCode);

#endif
