/*
 * version.c - the version string; build/version.h is written by the Makefile
 * from `git describe`.
 */
#include "ki.h"
#include "version.h"

const char KiVersionString[] = IRQLAB_VERSION;
