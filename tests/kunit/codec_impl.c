// SPDX-License-Identifier: GPL-2.0
/* Build the codec under test into the KUnit module without exporting it. */
#include "../../smbdirect/codec.c"
