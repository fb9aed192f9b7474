/*
 * kbdxlat.c - scan code set 1 to characters and keys, US layout: the part of
 * NT's keyboard stack between i8042prt's make/break codes and kbdclass's
 * characters (the layout tables of kbdus.dll), kept free of the kernel so
 * the host unit tests run the same code.
 *
 * Set 1 (IBM PC AT Technical Reference; what the 8042 produces from the
 * keyboard's set 2 with translation on): a key's make code is 0x01-0x58,
 * its break code make | 0x80.  0xE0 prefixes the keys the 101-key keyboard
 * added (the grey cursor block, right Ctrl/Alt, keypad Enter and /), and the
 * keyboard wraps some of them in fake Shift make/breaks (E0 2A, E0 AA, E0 36,
 * E0 B6) so an old decoder sees Num Lock's navigation meaning; those are
 * dropped here.  0xE1 starts Pause, which has no break: E1 1D 45 E1 9D C5.
 */
#include "kbdxlat.h"

#define ESC                 0x1B
#define SC_EXTENDED         0xE0
#define SC_PAUSE            0xE1
#define SC_PAUSE_TAIL       5 /* the bytes of Pause after its first E1 */
#define SC_BREAK            0x80
#define SC_LSHIFT           0x2A
#define SC_RSHIFT           0x36
#define SC_CTRL             0x1D /* right Ctrl with E0 */
#define SC_ALT              0x38 /* right Alt with E0 */
#define SC_CAPS             0x3A
#define SC_NUM              0x45
#define SC_SCROLL           0x46
#define SC_F1               0x3B
#define SC_F10              0x44
#define SC_F11              0x57
#define SC_F12              0x58
#define SC_ENTER            0x1C /* keypad Enter with E0 */
#define SC_SLASH            0x35 /* keypad / with E0 */
#define SC_PAD_FIRST        0x47 /* keypad 7 / Home; with E0 the grey Home */
#define SC_PAD_LAST         0x53 /* keypad . / Delete */

/*
 * The main block, 0x00-0x39, unshifted and shifted, as one string each so a
 * row of the keyboard reads as a row here.  0 is a code with no character
 * (modifiers, and 0x00 itself).  Backspace is DEL and Enter CR, what a
 * terminal sends; 0x37 is the keypad '*'.
 */
static const char KbdpPlain[] = "\0\x1b"
                                "1234567890-=\x7f\t"
                                "qwertyuiop[]\r\0"
                                "asdfghjkl;'`\0\\"
                                "zxcvbnm,./\0*\0 ";
static const char KbdpShifted[] = "\0\x1b"
                                  "!@#$%^&*()_+\x7f\t"
                                  "QWERTYUIOP{}\r\0"
                                  "ASDFGHJKL:\"~\0|"
                                  "ZXCVBNM<>?\0*\0 ";
_Static_assert(sizeof(KbdpPlain) == 0x3A + 1, "main block is 0x00-0x39");
_Static_assert(sizeof(KbdpShifted) == sizeof(KbdpPlain), "one shifted character per code");

/* The keypad 0x47-0x53: its character with Num Lock on, its key with Num Lock off (or E0). */
static const char KbdpPadChar[] = "789-456+1230.";
static const USHORT KbdpPadKey[] = {
    KBD_KEY_HOME,      KBD_KEY_UP,     KBD_KEY_PAGE_UP, KBD_KEY_NONE, KBD_KEY_LEFT,
    KBD_KEY_NONE,      KBD_KEY_RIGHT,  KBD_KEY_NONE,    KBD_KEY_END,  KBD_KEY_DOWN,
    KBD_KEY_PAGE_DOWN, KBD_KEY_INSERT, KBD_KEY_DELETE,
};
_Static_assert(sizeof(KbdpPadChar) - 1 == SC_PAD_LAST - SC_PAD_FIRST + 1, "one character per pad key");
_Static_assert(ARRAYSIZE(KbdpPadKey) == SC_PAD_LAST - SC_PAD_FIRST + 1, "one key per pad key");

/* What xterm sends for each KBD_KEY_*, after the ESC. */
static const char *const KbdpTerminal[] = {
    [KBD_KEY_UP] = "[A",         [KBD_KEY_DOWN] = "[B",       [KBD_KEY_RIGHT] = "[C",
    [KBD_KEY_LEFT] = "[D",       [KBD_KEY_HOME] = "[H",       [KBD_KEY_END] = "[F",
    [KBD_KEY_INSERT] = "[2~",    [KBD_KEY_DELETE] = "[3~",    [KBD_KEY_PAGE_UP] = "[5~",
    [KBD_KEY_PAGE_DOWN] = "[6~", [KBD_KEY_F1] = "OP",         [KBD_KEY_F1 + 1] = "OQ",
    [KBD_KEY_F1 + 2] = "OR",     [KBD_KEY_F1 + 3] = "OS",     [KBD_KEY_F1 + 4] = "[15~",
    [KBD_KEY_F1 + 5] = "[17~",   [KBD_KEY_F1 + 6] = "[18~",   [KBD_KEY_F1 + 7] = "[19~",
    [KBD_KEY_F1 + 8] = "[20~",   [KBD_KEY_F1 + 9] = "[21~",   [KBD_KEY_F1 + 10] = "[23~",
    [KBD_KEY_F12] = "[24~",
};

VOID KbdDecoderInitialize(PKBD_DECODER Decoder)
{
    Decoder->Extended = FALSE;
    Decoder->PauseSkip = 0;
    Decoder->Leds = 0;
    Decoder->Held = 0;
}

/* The KBD_HELD_* bit a make or break code moves, or 0 for any other key. */
static USHORT KbdpHeldBit(UCHAR Make, BOOLEAN Extended)
{
    if (Make == SC_CTRL)
        return Extended ? KBD_HELD_RCTRL : KBD_HELD_LCTRL;
    if (Make == SC_ALT)
        return Extended ? KBD_HELD_RALT : KBD_HELD_LALT;
    if (Extended)
        return 0; /* the fake shifts, and no lock key has an E0 form */
    switch (Make) {
    case SC_LSHIFT:
        return KBD_HELD_LSHIFT;
    case SC_RSHIFT:
        return KBD_HELD_RSHIFT;
    case SC_CAPS:
        return KBD_HELD_CAPS;
    case SC_NUM:
        return KBD_HELD_NUM;
    case SC_SCROLL:
        return KBD_HELD_SCROLL;
    }
    return 0;
}

/* A lock key's first make flips its LED; Shift, Ctrl and Alt only change Held. */
static BOOLEAN KbdpToggleLock(PKBD_DECODER Decoder, USHORT Bit, PKBD_EVENT Event)
{
    UCHAR Led = Bit == KBD_HELD_CAPS     ? KBD_LED_CAPS
                : Bit == KBD_HELD_NUM    ? KBD_LED_NUM
                : Bit == KBD_HELD_SCROLL ? KBD_LED_SCROLL
                                         : 0;
    if (Led == 0)
        return FALSE;
    Decoder->Leds ^= Led;
    Event->LedsChanged = TRUE;
    return TRUE;
}

static BOOLEAN KbdpSetChar(PKBD_EVENT Event, CHAR Char)
{
    Event->Char = Char;
    return Char != 0;
}

static BOOLEAN KbdpSetKey(PKBD_EVENT Event, USHORT Key)
{
    Event->Key = Key;
    return Key != KBD_KEY_NONE;
}

/* Letters follow Shift XOR Caps Lock; Ctrl wins over both and takes other keys unshifted. */
static BOOLEAN KbdpMainBlock(const KBD_DECODER *Decoder, UCHAR Make, PKBD_EVENT Event)
{
    BOOLEAN Shift = (Decoder->Held & KBD_HELD_SHIFT) != 0;
    BOOLEAN Caps = (Decoder->Leds & KBD_LED_CAPS) != 0;
    CHAR Char = KbdpPlain[Make];

    if (Decoder->Held & KBD_HELD_CTRL)
        return KbdpSetChar(Event, Char >= 'a' && Char <= 'z' ? Char - 'a' + 1 : Char);
    if (Char >= 'a' && Char <= 'z')
        return KbdpSetChar(Event, Shift != Caps ? KbdpShifted[Make] : Char);
    return KbdpSetChar(Event, Shift ? KbdpShifted[Make] : Char);
}

/* A make code without E0 that is not a modifier or lock key. */
static BOOLEAN KbdpPlainKey(const KBD_DECODER *Decoder, UCHAR Make, PKBD_EVENT Event)
{
    ULONG Pad = (ULONG)Make - SC_PAD_FIRST;

    if (Make < sizeof(KbdpPlain) - 1)
        return KbdpMainBlock(Decoder, Make, Event);
    if (Make >= SC_F1 && Make <= SC_F10)
        return KbdpSetKey(Event, KBD_KEY_F1 + (Make - SC_F1));
    if (Make == SC_F11 || Make == SC_F12)
        return KbdpSetKey(Event, KBD_KEY_F1 + 10 + (Make - SC_F11));
    if (Pad >= ARRAYSIZE(KbdpPadKey))
        return FALSE; /* 0x54-0x56 and 0x59-0x7F: SysRq, the ISO 102nd key, Japanese keys */
    /* '-', '+' and 5 have no navigation meaning: the first two stay characters, 5 is silent. */
    if ((Decoder->Leds & KBD_LED_NUM) || KbdpPadChar[Pad] == '-' || KbdpPadChar[Pad] == '+')
        return KbdpSetChar(Event, KbdpPadChar[Pad]);
    return KbdpSetKey(Event, KbdpPadKey[Pad]);
}

/* A make code after E0: the 101-key additions; Windows, menu and media keys are ignored. */
static BOOLEAN KbdpExtendedKey(UCHAR Make, PKBD_EVENT Event)
{
    ULONG Pad = (ULONG)Make - SC_PAD_FIRST;

    if (Make == SC_ENTER)
        return KbdpSetChar(Event, '\r');
    if (Make == SC_SLASH)
        return KbdpSetChar(Event, '/');
    if (Pad < ARRAYSIZE(KbdpPadKey))
        return KbdpSetKey(Event, KbdpPadKey[Pad]);
    return FALSE;
}

BOOLEAN KbdDecode(PKBD_DECODER Decoder, UCHAR ScanCode, PKBD_EVENT Event)
{
    BOOLEAN Extended = Decoder->Extended;
    UCHAR Make = ScanCode & ~SC_BREAK;
    USHORT Bit;

    Event->Char = 0;
    Event->Key = KBD_KEY_NONE;
    Event->LedsChanged = FALSE;
    if (Decoder->PauseSkip) {
        /* Pause's 1D 45 would otherwise read as Ctrl and Num Lock. */
        Decoder->PauseSkip--;
        return FALSE;
    }
    if (ScanCode == SC_EXTENDED) {
        Decoder->Extended = TRUE;
        return FALSE;
    }
    Decoder->Extended = FALSE;
    if (ScanCode == SC_PAUSE) {
        Decoder->PauseSkip = SC_PAUSE_TAIL;
        return FALSE;
    }
    Bit = KbdpHeldBit(Make, Extended);
    if (ScanCode & SC_BREAK) {
        Decoder->Held &= ~Bit;
        return FALSE;
    }
    if (Bit) {
        /* Typematic repeats of a held key arrive as more makes: only the first counts. */
        if (Decoder->Held & Bit)
            return FALSE;
        Decoder->Held |= Bit;
        return KbdpToggleLock(Decoder, Bit, Event);
    }
    return Extended ? KbdpExtendedKey(Make, Event) : KbdpPlainKey(Decoder, Make, Event);
}

ULONG KbdEventToTerminal(const KBD_EVENT *Event, CHAR *Out, ULONG Size)
{
    const char *Tail;
    ULONG Length;

    if (Event->Char != 0) {
        if (Size < 1)
            return 0;
        Out[0] = Event->Char;
        return 1;
    }
    if (Event->Key >= ARRAYSIZE(KbdpTerminal) || KbdpTerminal[Event->Key] == NULL)
        return 0;
    Tail = KbdpTerminal[Event->Key];
    for (Length = 0; Tail[Length] != '\0'; Length++)
        ;
    if (Size < 1 + Length)
        return 0;
    Out[0] = ESC;
    for (ULONG i = 0; i < Length; i++)
        Out[1 + i] = Tail[i];
    return 1 + Length;
}

BOOLEAN KbdIsKey(UCHAR MakeCode)
{
    KBD_DECODER Decoder;
    KBD_EVENT Event;

    /* Asking the decoder itself keeps this from drifting from what it does. */
    KbdDecoderInitialize(&Decoder);
    Decoder.Leds = KBD_LED_NUM;
    return MakeCode < SC_BREAK && KbdDecode(&Decoder, MakeCode, &Event) && !Event.LedsChanged;
}
