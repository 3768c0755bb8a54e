/*
 * dmg_json.c: dmg's JSON output, streamed with the layout of Go's json.MarshalIndent (two
 * spaces), which DAOS's dmg -j prints, and a generic writer of protobuf-c messages (field
 * names as in the .proto files, which carry DAOS's JSON names; enums as their names).
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <gurt/common.h>

#include "dmg_internal.h"

void
dj_init(struct dmg_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->dj_f = f;
	j->dj_first[0] = true;
}

static void
dj_quote(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator, newline and indent before a value; its key if any. */
static void
dj_key(struct dmg_json *j, const char *key)
{
	int i;

	if (j->dj_depth > 0) {
		if (!j->dj_first[j->dj_depth])
			fputc(',', j->dj_f);
		fputc('\n', j->dj_f);
		for (i = 0; i < j->dj_depth; i++)
			fputs("  ", j->dj_f);
	}
	j->dj_first[j->dj_depth] = false;
	if (key != NULL) {
		dj_quote(j->dj_f, key);
		fputs(": ", j->dj_f);
	}
}

static void
dj_open(struct dmg_json *j, const char *key, char c)
{
	dj_key(j, key);
	fputc(c, j->dj_f);
	D_ASSERT(j->dj_depth + 1 < (int)D_ARRAY_SIZE(j->dj_first));
	j->dj_first[++j->dj_depth] = true;
}

static void
dj_close(struct dmg_json *j, char c)
{
	int i;

	D_ASSERT(j->dj_depth > 0);
	if (!j->dj_first[j->dj_depth]) {
		fputc('\n', j->dj_f);
		for (i = 0; i < j->dj_depth - 1; i++)
			fputs("  ", j->dj_f);
	}
	j->dj_depth--;
	fputc(c, j->dj_f);
	if (j->dj_depth == 0)
		fputc('\n', j->dj_f);
}

void
dj_obj_begin(struct dmg_json *j, const char *key)
{
	dj_open(j, key, '{');
}

void
dj_obj_end(struct dmg_json *j)
{
	dj_close(j, '}');
}

void
dj_arr_begin(struct dmg_json *j, const char *key)
{
	dj_open(j, key, '[');
}

void
dj_arr_end(struct dmg_json *j)
{
	dj_close(j, ']');
}

void
dj_str(struct dmg_json *j, const char *key, const char *val)
{
	dj_key(j, key);
	dj_quote(j->dj_f, val ? val : "");
}

void
dj_u64(struct dmg_json *j, const char *key, uint64_t val)
{
	dj_key(j, key);
	fprintf(j->dj_f, "%" PRIu64, val);
}

void
dj_i64(struct dmg_json *j, const char *key, int64_t val)
{
	dj_key(j, key);
	fprintf(j->dj_f, "%" PRId64, val);
}

void
dj_dbl(struct dmg_json *j, const char *key, double val)
{
	dj_key(j, key);
	if (!isfinite(val))
		fputs("null", j->dj_f);
	else
		fprintf(j->dj_f, "%.17g", val);
}

void
dj_bool(struct dmg_json *j, const char *key, bool val)
{
	dj_key(j, key);
	fputs(val ? "true" : "false", j->dj_f);
}

void
dj_null(struct dmg_json *j, const char *key)
{
	dj_key(j, key);
	fputs("null", j->dj_f);
}

void
dj_u32_arr(struct dmg_json *j, const char *key, const uint32_t *v, size_t n)
{
	size_t i;

	dj_key(j, key);
	fputc('[', j->dj_f);
	for (i = 0; i < n; i++)
		fprintf(j->dj_f, "%s%u", i ? "," : "", v[i]);
	fputc(']', j->dj_f);
}

/**
 * An enum value by name. DAOS prints upper-case proto names in lower case ("SCM" as "scm",
 * "IDLE" as "idle") and mixed-case ones as they are ("Ready"); unknown values as numbers.
 */
void
dj_pb_enum(struct dmg_json *j, const char *key, const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(desc, value);
	char name[64];
	bool upper = true;
	size_t i;

	if (ev == NULL) {
		dj_i64(j, key, value);
		return;
	}
	for (i = 0; ev->name[i] != '\0'; i++) {
		if (islower((unsigned char)ev->name[i]))
			upper = false;
	}
	snprintf(name, sizeof(name), "%s", ev->name);
	for (i = 0; upper && name[i] != '\0'; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	dj_str(j, key, name);
}

static void dj_pb_value(struct dmg_json *j, const char *key, const ProtobufCFieldDescriptor *fd,
			const void *p);

static void
dj_pb_value(struct dmg_json *j, const char *key, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		dj_i64(j, key, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		dj_u64(j, key, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		dj_i64(j, key, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		dj_u64(j, key, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		dj_dbl(j, key, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		dj_dbl(j, key, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		dj_bool(j, key, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		dj_pb_enum(j, key, fd->descriptor, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		dj_str(j, key, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		dj_u64(j, key, ((const ProtobufCBinaryData *)p)->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;

		if (sub == NULL) {
			dj_null(j, key);
		} else {
			dj_obj_begin(j, key);
			dj_pb_fields(j, sub, NULL);
			dj_obj_end(j);
		}
		break;
	}
	}
}

static size_t
pb_type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/**
 * Write every field of @msg as members of the open object, in .proto order, skipping the
 * names in @skip (NULL-terminated, may be NULL). Repeated fields become arrays (empty ones
 * too, as Go prints a nil slice as null: we print []), a oneof member only when set.
 */
void
dj_pb_fields(struct dmg_json *j, const ProtobufCMessage *msg, const char *const *skip)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *const *s;
		bool skipped = false;

		for (s = skip; s != NULL && *s != NULL; s++) {
			if (strcmp(*s, fd->name) == 0)
				skipped = true;
		}
		if (skipped)
			continue;
		if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
				continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset);
			const char *arr = *(char *const *)(base + fd->offset);
			size_t sz = pb_type_size(fd->type);
			size_t k;

			dj_arr_begin(j, fd->name);
			for (k = 0; k < n; k++)
				dj_pb_value(j, NULL, fd, arr + k * sz);
			dj_arr_end(j);
			continue;
		}
		dj_pb_value(j, fd->name, fd, base + fd->offset);
	}
}

/** Begin DAOS's dmg -j envelope on @f: the caller then writes the "response" member. */
void
dj_envelope_begin(struct dmg_json *j, FILE *f)
{
	dj_init(j, f);
	dj_obj_begin(j, NULL);
}

/** End the envelope: "error" (null or @err) and "status" (@status). */
void
dj_envelope_end(struct dmg_json *j, const char *err, int status)
{
	if (err != NULL)
		dj_str(j, "error", err);
	else
		dj_null(j, "error");
	dj_i64(j, "status", status);
	dj_obj_end(j);
}
