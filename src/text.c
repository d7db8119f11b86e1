/* text.c - small text helpers the parsers share (see text.h). */
#include "text.h"

#include <string.h>

struct text_buf text_buf_over(char *out, size_t cap)
{
	struct text_buf b = { out, cap, 0, false };
	out[0] = '\0';
	return b;
}

void text_putc(struct text_buf *b, char c)
{
	if (b->overflow || b->len + 1 >= b->cap) {
		b->overflow = true;
		return;
	}
	b->out[b->len++] = c;
	b->out[b->len] = '\0';
}

void text_put_escaped(struct text_buf *b, uint8_t byte)
{
	text_putc(b, '\\');
	text_putc(b, (char)('0' + byte / 100));
	text_putc(b, (char)('0' + (byte / 10) % 10));
	text_putc(b, (char)('0' + byte % 10));
}

static bool is_plain_host_byte(uint8_t b, const char *also_plain)
{
	if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9'))
		return true;
	if (b == '-' || b == '_' || b == '.' || b == '*' || b == ':')
		return true;
	return b != 0 && strchr(also_plain, b) != NULL;
}

bool text_copy_host(struct cursor name, char *out, size_t cap, const char *also_plain)
{
	struct text_buf b = text_buf_over(out, cap);
	size_t n = cur_left(&name);

	if (n > 0 && cur_peek_u8(&name, n - 1) == '.')
		n--;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = cur_u8(&name);
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (is_plain_host_byte(c, also_plain))
			text_putc(&b, (char)c);
		else
			text_put_escaped(&b, c);
	}
	if (b.overflow || b.len == 0 || name.err) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool text_parse_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (*s == '\0')
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = v;
	return true;
}
