/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text from outside (a log line, a policy request, a control-socket event)
 * made safe to print and store: an attacker picks user names, and a newline
 * or an escape sequence in one would forge lines in xdpban's log or move the
 * cursor on the operator's terminal in `xdpban history`.
 */
#ifndef XDPBAN_TEXT_H
#define XDPBAN_TEXT_H

#include <stddef.h>

/*
 * Copies n bytes of src into dst (size bytes, always NUL-terminated) as valid
 * UTF-8 with every control character and invalid byte replaced by '?', cut
 * at a character boundary when it does not fit.
 */
void text_copy_clean(char *dst, size_t size, const char *src, size_t n);

#endif
