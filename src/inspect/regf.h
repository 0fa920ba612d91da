/*
 * Windows registry hives ("regf"), read-only, held whole in memory.
 *
 * A hive is opened over a byte buffer (or a file of a mounted filesystem,
 * read into memory within IMGP_LIMIT_HIVE_BYTES, which also bounds a big
 * data value reassembled beside it). Opening checks the base block and walks
 * every hive bin once, building a bitmap of the allocated cell starts; from
 * then on every cell offset read from the hive is checked against it in O(1)
 * before it is followed, so a damaged or hostile hive gives IMGP_ERR_CORRUPT
 * naming the record and its file offset, never a read outside the buffer.
 * Keys are handles: the cell offset of their key node.
 *
 * Transaction logs (.LOG, .LOG1, .LOG2) are not replayed: a dirty hive (its
 * sequence numbers differ, or its base block checksum is wrong) is read as
 * it stands on disk and reported dirty; what its logs hold is not seen.
 *
 * Names: key and value names come out as UTF-8 (one-byte "compressed" names
 * are Latin-1, others UTF-16LE; an unpaired surrogate becomes U+FFFD). Name
 * lookups ignore case the way Windows does for ASCII and Latin-1 (a-z, and
 * U+00E0..U+00FE except U+00F7, ÿ/Ÿ); other letters must match exactly.
 *
 * Messages name file offsets (cell offset + 4096), as a hex editor shows them.
 * A hive is not thread-safe. Pointers the hive returns (names, value data)
 * stay valid until the next call on the hive.
 */
#ifndef IMGP_REGF_H
#define IMGP_REGF_H

#include "../core/internal.h"
#include "imgprobe/fs.h"

typedef struct imgp_regf imgp_regf;
typedef uint32_t imgp_regf_key; /* the cell offset of a key node */

/* Value types ("Key value", "Data types") */
enum {
    IMGP_REG_NONE = 0,
    IMGP_REG_SZ = 1,
    IMGP_REG_EXPAND_SZ = 2,
    IMGP_REG_BINARY = 3,
    IMGP_REG_DWORD = 4,
    IMGP_REG_DWORD_BIG_ENDIAN = 5,
    IMGP_REG_LINK = 6,
    IMGP_REG_MULTI_SZ = 7,
    IMGP_REG_RESOURCE_LIST = 8,
    IMGP_REG_FULL_RESOURCE_DESCRIPTOR = 9,
    IMGP_REG_RESOURCE_REQUIREMENTS_LIST = 10,
    IMGP_REG_QWORD = 11,
};

/* What the base block says, and what opening noticed. */
typedef struct imgp_regf_info {
    uint32_t major, minor;       /* hive version, 1.2 .. 1.6 */
    uint32_t seq_primary, seq_secondary;
    bool dirty;                  /* sequence numbers differ or the checksum is wrong */
    bool checksum_ok;
    uint64_t last_written;       /* FILETIME (100 ns since 1601) */
    uint32_t bins_size;          /* bytes of hive bins data */
    const char *file_name;       /* UTF-8, from the base block (a path tail; may be "") */
    size_t nnotes;               /* warnings: dirty, checksum, trailing data... */
    const char *const *notes;
} imgp_regf_info;

/* A key node as read. */
typedef struct imgp_regf_key_info {
    const char *name;            /* UTF-8 (may hold a NUL: see name_len); "" for some roots */
    size_t name_len;
    uint16_t flags;              /* REGF_KEY_* (regf_disk.h) */
    uint64_t last_written;       /* FILETIME */
    uint32_t subkeys, values;    /* counts the key node gives */
    imgp_regf_key parent;        /* as recorded (meaningless for the root) */
    bool has_class;              /* a class name is recorded (imgp_regf_key_class) */
} imgp_regf_key_info;

/* One value. name, data: valid until the next call on the hive. */
typedef struct imgp_regf_value {
    const char *name;            /* UTF-8, "" for the default value ("@") */
    uint32_t type;               /* IMGP_REG_* (any 32-bit number on disk) */
    const uint8_t *data;         /* raw bytes as stored (big data reassembled) */
    size_t len;
    size_t name_len;             /* bytes of name (it may hold a NUL) */
} imgp_regf_value;

/**
 * Open a hive over @p len bytes at @p data (not owned: it must outlive the
 * hive). @return IMGP_ERR_CORRUPT for a damaged base block or hive bin,
 * IMGP_ERR_UNSUPPORTED for a transaction log or a version other than 1.2-1.6,
 * IMGP_ERR_LIMIT for a hive over IMGP_LIMIT_HIVE_BYTES.
 */
imgp_status imgp_regf_open(imgp_ctx *ctx, const uint8_t *data, size_t len, imgp_regf **out);

/**
 * Read file @p ino of @p fs into memory and open it: its base block, then
 * its hive bins in doubling reads, every bin header held checked before the
 * next read (so a file that is not what its base block claims costs about
 * what precedes the first bad bin, not what the base block claims); what
 * follows the bins is not read. @return as imgp_regf_open; IMGP_ERR_LIMIT
 * when the base block and bins are over IMGP_LIMIT_HIVE_BYTES (checked
 * before anything is allocated).
 */
imgp_status imgp_regf_open_file(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, imgp_regf **out);

/** Close. NULL is a no-op. */
void imgp_regf_close(imgp_regf *h);

const imgp_regf_info *imgp_regf_get_info(const imgp_regf *h);
bool imgp_regf_dirty(const imgp_regf *h);
imgp_regf_key imgp_regf_root(const imgp_regf *h);

/**
 * Find the key at @p path ("A\\B\\C", components separated by backslashes;
 * empty components ignored, so "" is @p from itself) below @p from, ignoring
 * case. @return IMGP_ERR_NOT_FOUND naming the first missing component.
 */
imgp_status imgp_regf_lookup(imgp_regf *h, imgp_regf_key from, const char *path, imgp_regf_key *out);

/**
 * Call @p fn for every subkey of @p key, in the order stored (Windows keeps
 * them sorted by upper-case name); @p name is UTF-8, valid during the call.
 * A non-zero return stops the walk (then IMGP_OK). The subkey count, the
 * lists (an index root holds leaves only) and every child are checked first:
 * a list that names more or fewer keys than the key node counts, a child that
 * is not a key node, a child that records another parent or is the root (a
 * cycle) gives IMGP_ERR_CORRUPT before @p fn is called; a count over
 * IMGP_LIMIT_DIR_ENTRIES gives IMGP_ERR_LIMIT.
 */
imgp_status imgp_regf_subkeys(imgp_regf *h, imgp_regf_key key,
                              int (*fn)(void *arg, imgp_regf_key child, const char *name), void *arg);

/** The name of @p key as UTF-8 in @p buf (IMGP_ERR_LIMIT when it does not fit in @p cap). */
imgp_status imgp_regf_key_name(imgp_regf *h, imgp_regf_key key, char *buf, size_t cap);

/** The key node @p key; info->name is valid until the next call on the hive. */
imgp_status imgp_regf_get_key_info(imgp_regf *h, imgp_regf_key key, imgp_regf_key_info *info);

/** The class name of @p key as UTF-8 ("" when none). */
imgp_status imgp_regf_key_class(imgp_regf *h, imgp_regf_key key, char *buf, size_t cap);

/**
 * Call @p fn for every value of @p key, in the order stored (unsorted).
 * A non-zero return stops the walk (then IMGP_OK). A value whose record or
 * data is damaged stops the walk with IMGP_ERR_CORRUPT.
 */
imgp_status imgp_regf_values(imgp_regf *h, imgp_regf_key key, int (*fn)(void *arg, const imgp_regf_value *v),
                             void *arg);

/** The value of @p key named @p name (case ignored; "" is the default value). IMGP_ERR_NOT_FOUND when none. */
imgp_status imgp_regf_get_value(imgp_regf *h, imgp_regf_key key, const char *name, imgp_regf_value *out);

/**
 * A REG_SZ or REG_EXPAND_SZ value as UTF-8 in @p buf, up to its first NUL
 * (environment variables are not expanded). IMGP_ERR_UNSUPPORTED for another
 * type, IMGP_ERR_LIMIT when it does not fit in @p cap.
 */
imgp_status imgp_regf_get_string(imgp_regf *h, imgp_regf_key key, const char *name, char *buf, size_t cap);

/** A REG_DWORD or REG_DWORD_BIG_ENDIAN value (exactly 4 bytes). IMGP_ERR_UNSUPPORTED for another type or size. */
imgp_status imgp_regf_get_dword(imgp_regf *h, imgp_regf_key key, const char *name, uint32_t *out);

/** A REG_QWORD value (exactly 8 bytes), or a DWORD widened. IMGP_ERR_UNSUPPORTED otherwise. */
imgp_status imgp_regf_get_qword(imgp_regf *h, imgp_regf_key key, const char *name, uint64_t *out);

/**
 * Call @p fn for each string of a REG_MULTI_SZ value, as UTF-8, up to the
 * first empty string (the list's terminator). A non-zero return stops.
 * IMGP_ERR_UNSUPPORTED for another type; IMGP_ERR_LIMIT for a string over 128 KiB of UTF-8.
 */
imgp_status imgp_regf_get_multi_sz(imgp_regf *h, imgp_regf_key key, const char *name,
                                   int (*fn)(void *arg, const char *s), void *arg);

/* ---- parsers and helpers (no hive needed; unit tests and fuzzers call them) ---- */

/* The base block, as read. */
typedef struct regf_base {
    uint32_t seq_primary, seq_secondary;
    uint64_t last_written;
    uint32_t major, minor;
    uint32_t file_type, file_format;
    uint32_t root;       /* cell offset */
    uint32_t bins_size;
    uint32_t checksum;   /* as stored */
    uint32_t computed;   /* as computed */
} regf_base;

/**
 * Parse and check the base block in @p buf (@p len bytes, at least
 * REGF_BASE_SIZE): signature, version, file type and format, bins size (a
 * multiple of 4096 that fits in @p file_len). The checksum is computed, not
 * judged.
 */
imgp_status regf_parse_base(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t file_len, regf_base *b);

/** The XOR-32 checksum of the first 508 bytes of @p buf (at least 508 bytes), as "Base block", Notes, 2. */
uint32_t regf_checksum(const uint8_t *buf);

/* A key node, as read. */
typedef struct regf_nk {
    uint16_t flags;
    uint64_t last_written;
    uint32_t parent;
    uint32_t subkey_count, subkey_list;
    uint32_t value_count, value_list;
    uint32_t class_off;
    uint16_t class_len;
    const uint8_t *name; /* inside the cell */
    uint16_t name_len;   /* bytes */
    bool name_latin1;
} regf_nk;

/** Parse the key node in cell data @p cell (@p len bytes) of the cell at file offset @p at (for messages). */
imgp_status regf_parse_nk(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_nk *nk);

/* A key value record, as read. */
typedef struct regf_vk {
    uint32_t data_size;  /* without the inline bit */
    bool inline_data;
    uint32_t data_off;   /* cell offset, or the data itself when inline */
    const uint8_t *inline_bytes; /* the data offset field, when inline */
    uint32_t type;
    const uint8_t *name;
    uint16_t name_len;
    bool name_latin1;
} regf_vk;

/** Parse the key value in cell data @p cell (@p len bytes) of the cell at file offset @p at. */
imgp_status regf_parse_vk(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_vk *vk);

/* A subkey list's header: li/lf/lh/ri. */
typedef struct regf_list {
    char kind[3];        /* "li", "lf", "lh", "ri" */
    uint16_t count;
    unsigned elem_size;  /* 4 or 8 */
    const uint8_t *elems;
} regf_list;

/** Parse a subkey list (or index root) in cell data @p cell (@p len bytes), checking its elements fit. */
imgp_status regf_parse_list(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_list *l);

/**
 * Decode @p nbytes of UTF-16LE at @p p into UTF-8 in @p out (@p cap bytes,
 * NUL-terminated), stopping at the first NUL when @p stop_at_nul. A trailing
 * odd byte is ignored; unpaired surrogates become U+FFFD. *@p outlen (may be
 * NULL) gets the bytes written. @return false when it does not fit.
 */
bool regf_utf16_to_utf8(const uint8_t *p, size_t nbytes, bool stop_at_nul, char *out, size_t cap, size_t *outlen);

/** True when on-disk name @p name (@p len bytes; Latin-1 when @p latin1, else UTF-16LE) equals UTF-8 @p q (@p qlen bytes) ignoring case. */
bool regf_name_equal(const uint8_t *name, size_t len, bool latin1, const char *q, size_t qlen);

/** A short name for value type @p type ("REG_SZ"...), or "type 0x%x" formatted into @p buf (16 bytes). */
const char *regf_type_name(uint32_t type, char buf[16]);

#endif
