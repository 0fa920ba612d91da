/*
 * LVM2, internal to libimgprobe: parsers that take a byte buffer of known
 * length and do no I/O, so unit tests and fuzzers call them directly.
 *
 *   lvm_label_parse()      the label and PV header in sectors 0..3
 *   lvm_mda_header_parse() a metadata area header
 *   lvm_text_span_get()    where in the area the metadata text lies (it may wrap)
 *   lvm_meta_parse()       the text metadata, in lvm2's config syntax, into a tree
 *   lvm_vg_from_meta()     a volume group (PVs, LVs, segments) from that tree
 *
 * lvm.c reads the bytes, matches PVs to the devices they are on and opens a
 * device for each logical volume; lvm_meta.c holds the text parser.
 */
#ifndef IMGP_LVM_H
#define IMGP_LVM_H

#include "lvm_disk.h"
#include "volumes.h"

/* Most data or metadata areas one PV header may list. lvm2 writes one data
 * area and at most two metadata areas. */
#define LVM_MAX_AREAS 8u

/* A stripe set is at most 128 wide (lib/metadata/metadata-exported.h MAX_STRIPES). */
#define LVM_MAX_STRIPES 128u

/* Most logical volumes listed from one disk, all volume groups together:
 * each becomes a device whose superblock is read. */
#define LVM_MAX_LVS 4096u

/* The text parser's bounds: sections nest at most this deep (lvm2 writes 4:
 * vg / logical_volumes / lv / segment), and a tree has at most this many
 * nodes (sections, values and array elements together). */
#define LVM_META_MAX_DEPTH 32u
#define LVM_META_MAX_NODES (1u << 20)

/* A PV UUID printed as lvm2 prints it: 6-4-4-4-4-4-6 characters with dashes. */
#define LVM_UUID_STR_LEN 38u

/* @return lvm2's CRC of @p len bytes, continuing from @p crc (LVM_INITIAL_CRC to start). */
uint32_t lvm_crc(uint32_t crc, const uint8_t *buf, size_t len);

/* True when @p c may be part of an lvm2 id (a PV, VG or LV UUID). */
bool lvm_id_char(unsigned char c);

/* Write the 32-character @p id with dashes into @p out (LVM_UUID_STR_LEN + 1 bytes). */
void lvm_uuid_format(const char *id, char *out);

/* ---- the label and PV header ---- */

typedef struct lvm_area {
    uint64_t offset; /* bytes from the start of the PV device */
    uint64_t size;   /* bytes */
} lvm_area;

typedef struct lvm_label {
    uint32_t sector;                   /* the sector the label is in: 0..3 */
    char pv_uuid[LVM_ID_LEN + 1];      /* as stored, no dashes, NUL-terminated */
    uint64_t device_size;              /* bytes, as pvcreate saw the device */
    size_t ndata, nmeta;
    lvm_area data[LVM_MAX_AREAS];      /* extents (lvm2 writes one) */
    lvm_area meta[LVM_MAX_AREAS];      /* metadata areas (lvm2 writes at most two) */
} lvm_label;

/*
 * Find and parse the label in the first @p len bytes of a device (sectors
 * 0..3 are looked at; fewer when @p len is short).
 * @return IMGP_OK; IMGP_ERR_NOT_FOUND when no sector starts with LABELONE
 *         (no message recorded); IMGP_ERR_CORRUPT or UNSUPPORTED when one does
 *         but none is a good LVM2 label (the message names the first problem).
 */
imgp_status lvm_label_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, lvm_label *out);

/* ---- the metadata area header ---- */

typedef struct lvm_raw_locn {
    uint64_t offset;   /* bytes from the start of the area */
    uint64_t size;     /* bytes of text, the terminating NUL included */
    uint32_t checksum; /* lvm_crc of the text */
    uint32_t flags;    /* LVM_RLOCN_* */
} lvm_raw_locn;

typedef struct lvm_mda_header {
    uint64_t start;    /* absolute byte offset of the area on its device */
    uint64_t size;     /* bytes of the area, header included */
    lvm_raw_locn text; /* slot 0: the committed metadata */
} lvm_mda_header;

/*
 * Parse a metadata area header (@p len >= LVM_MDA_HEADER_SIZE) read from
 * @p expect_start of its device: checksum, magic, version, start and size.
 */
imgp_status lvm_mda_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t expect_start,
                                 lvm_mda_header *out);

/* Where the text lies: [off1, off1 + len1) then [off2, off2 + len2), bytes from the area's start. */
typedef struct lvm_text_span {
    uint64_t off1, len1;
    uint64_t off2, len2; /* len2 == 0 when the text does not wrap */
} lvm_text_span;

/*
 * Work out where the committed metadata text of @p h lies, checking it fits
 * in the area's ring and is at most @p limit bytes.
 * @return IMGP_ERR_NOT_FOUND (no message) when the area holds no metadata or
 *         is marked ignored; IMGP_ERR_CORRUPT, IMGP_ERR_LIMIT otherwise.
 */
imgp_status lvm_text_span_get(imgp_ctx *ctx, const lvm_mda_header *h, uint64_t limit, lvm_text_span *out);

/* ---- the text metadata tree (lvm_meta.c) ---- */

typedef enum lvm_meta_kind {
    LVM_META_SECTION = 0, /* name { ... }: children are its members */
    LVM_META_STRING = 1,  /* "text", 'text' or a bare word: str, unescaped */
    LVM_META_INT = 2,     /* num */
    LVM_META_FLOAT = 3,   /* str holds the literal ("1.5"): never needed as a number */
    LVM_META_ARRAY = 4,   /* [ ... ]: children are its elements (scalars without keys) */
} lvm_meta_kind;

typedef struct lvm_meta_node lvm_meta_node;
struct lvm_meta_node {
    const char *key;        /* NUL-terminated, never empty; NULL for array elements */
    lvm_meta_kind kind;
    unsigned line;          /* 1-based line of the text where the node starts */
    const char *str;        /* STRING and FLOAT: NUL-terminated, no NUL inside */
    size_t str_len;
    int64_t num;            /* INT */
    lvm_meta_node *child;   /* SECTION and ARRAY: the first member, in text order */
    size_t nchildren;
    lvm_meta_node *next;    /* the next sibling */
};

typedef struct lvm_meta lvm_meta; /* a tree and the memory it lives in */

/*
 * Parse @p len bytes of text metadata. Trailing NUL bytes are allowed (lvm2
 * writes one); any other NUL or control byte is IMGP_ERR_CORRUPT, as is bad
 * syntax (the message names the line). More than LVM_META_MAX_DEPTH nested
 * sections or LVM_META_MAX_NODES nodes is IMGP_ERR_LIMIT.
 */
imgp_status lvm_meta_parse(imgp_ctx *ctx, const char *text, size_t len, lvm_meta **out);

/* The top level of the text, as a section with key "" (never NULL). */
const lvm_meta_node *lvm_meta_root(const lvm_meta *m);

/* Nodes in the tree, the root not counted. */
size_t lvm_meta_node_count(const lvm_meta *m);

/* Free a tree and every string in it. NULL is a no-op. */
void lvm_meta_free(lvm_meta *m);

/* The first member of @p section named @p key, or NULL. */
const lvm_meta_node *lvm_meta_get(const lvm_meta_node *section, const char *key);

/* ---- a volume group, from the text metadata ---- */

typedef struct lvm_pv {
    const char *name;             /* "pv0", the key in physical_volumes */
    char uuid[LVM_ID_LEN + 1];    /* the "id" without dashes */
    uint64_t pe_start;            /* sectors from the start of the PV device */
    uint64_t pe_count;            /* extents */
} lvm_pv;

typedef struct lvm_stripe {
    size_t pv;      /* index into lvm_vg.pvs */
    uint64_t pe;    /* first extent of the PV this stripe uses */
} lvm_stripe;

typedef enum lvm_seg_kind {
    LVM_SEG_STRIPED = 0, /* "striped" (one stripe: linear) */
    LVM_SEG_ZERO = 1,    /* "zero": reads as zeros, no PV */
    LVM_SEG_OTHER = 2,   /* thin, raid, mirror, snapshot, cache...: not read */
} lvm_seg_kind;

typedef struct lvm_segment {
    uint64_t start_extent, extent_count; /* extents of the LV */
    const char *type;                    /* as stored ("striped", "thin"...) */
    lvm_seg_kind kind;
    uint32_t stripe_count;               /* STRIPED: 1..LVM_MAX_STRIPES */
    uint64_t stripe_size;                /* STRIPED with more than one stripe: sectors */
    lvm_stripe *stripes;                 /* STRIPED: stripe_count entries */
} lvm_segment;

typedef struct lvm_lv {
    const char *name;       /* as stored: hidden sub-volumes keep their "_tdata"-style names */
    const char *id;         /* as stored, with dashes; or NULL */
    bool visible;           /* "VISIBLE" in its status: hidden sub-volumes lack it */
    uint64_t extents;       /* length: the segments end to end (0 when they leave a gap) */
    uint64_t size;          /* bytes: extents * extent_size * 512 */
    const char *type;       /* "linear", "striped", or the first other segment type */
    size_t nsegs;
    lvm_segment *segs;      /* sorted by start_extent */
    const char *unreadable; /* why its bytes cannot be read (reason[]), or NULL */
    char reason[200];
    bool unlisted;          /* not to be listed (unreadable says why): its name is one lvm2 refuses,
                               or an earlier LV has it, so "vg/lv" would not name one volume */
    unsigned line;          /* of its section in the text, for messages */
} lvm_lv;

typedef struct lvm_vg {
    const char *name;     /* the top-level section's key: a name lvm2 accepts */
    const char *id;       /* or NULL */
    int64_t seqno;
    uint64_t extent_size; /* sectors, > 0 */
    size_t npvs;
    lvm_pv *pvs;
    size_t nlvs;
    lvm_lv *lvs;
} lvm_vg;

/*
 * The volume group that the text @p m describes. Strings point into @p m,
 * which must outlive the result. Problems of one LV (an unknown PV, extents
 * past its PV's pe_count, a bad stripe list) leave that LV unreadable with
 * the reason; problems of the VG (no extent_size, a PV without an id) are
 * IMGP_ERR_CORRUPT.
 */
imgp_status lvm_vg_from_meta(imgp_ctx *ctx, const lvm_meta *m, lvm_vg **out);

/* Free a volume group. NULL is a no-op. */
void lvm_vg_free(imgp_ctx *ctx, lvm_vg *vg);

/* ---- logical volume devices ---- */

/* Where one PV of a VG is: its device (not owned), or NULL when it is not on this disk. */
typedef struct lvm_pv_place {
    imgp_bdev *bdev;
    const char *where; /* "partition 2", "the disk": for messages */
} lvm_pv_place;

/*
 * Open the device of @p lv (readable: lv->unreadable is NULL) of @p vg whose
 * PVs are at @p places (vg->npvs entries). Checks that every stripe's
 * extents lie inside its PV's device; when one does not, or a PV is absent,
 * sets lv->unreadable and returns IMGP_OK with *out NULL.
 */
imgp_status lvm_lv_open(imgp_ctx *ctx, const lvm_vg *vg, lvm_lv *lv, const lvm_pv_place *places, const char *name,
                        imgp_bdev **out);

#endif
