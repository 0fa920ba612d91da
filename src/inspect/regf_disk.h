/*
 * Windows registry hive ("regf") on-disk layout, from Maxim Suhanov's
 * "Windows registry file format specification" (github.com/msuhanov/regf,
 * the section named in each heading below). Every multi-byte field is
 * little-endian. Offsets are bytes from the start of the structure.
 *
 *   [ base block, 4096 bytes ][ hive bin ][ hive bin ] ... [ remnant data ]
 *
 * Every offset stored inside the hive ("cell offset") counts from the start
 * of the hive bins data, i.e. from file offset 4096; 0xFFFFFFFF points
 * nowhere. A cell is a 4-byte signed size (negative: allocated) followed by
 * the cell data; the records below (nk, vk, lists...) are cell data, so
 * their offsets count from the byte after the size.
 */
#ifndef IMGP_REGF_DISK_H
#define IMGP_REGF_DISK_H

/* ---- "Base block" (4096 bytes at file offset 0) ---- */
#define REGF_BASE_SIZE 4096u
#define REGF_BASE_SIGNATURE 0u        /* 4: "regf" */
#define REGF_BASE_SEQ_PRIMARY 4u      /* 4: incremented when a write starts */
#define REGF_BASE_SEQ_SECONDARY 8u    /* 4: incremented when it ends; equal when clean */
#define REGF_BASE_LAST_WRITTEN 12u    /* 8: FILETIME (UTC) */
#define REGF_BASE_MAJOR 20u           /* 4: major version, 1 */
#define REGF_BASE_MINOR 24u           /* 4: minor version, 3..6 (1 and 2: NT 3.x) */
#define REGF_BASE_FILE_TYPE 28u       /* 4: 0 primary file; 1, 2, 6: transaction logs */
#define REGF_BASE_FILE_FORMAT 32u     /* 4: 1 "direct memory load" */
#define REGF_BASE_ROOT_CELL 36u       /* 4: cell offset of the root key node */
#define REGF_BASE_BINS_SIZE 40u       /* 4: size of the hive bins data, a multiple of 4096 */
#define REGF_BASE_CLUSTERING 44u      /* 4: sector size / 512 (unused here) */
#define REGF_BASE_FILE_NAME 48u       /* 64: UTF-16LE, a tail of the hive's path (debugging) */
#define REGF_BASE_FILE_NAME_LEN 64u
#define REGF_BASE_CHECKSUM 508u       /* 4: XOR-32 of bytes 0..507 (Notes, 2) */

#define REGF_SIGNATURE "regf"
#define REGF_MAJOR 1u
#define REGF_MINOR_MIN 2u             /* 1.1 and older lay out cells differently ("Very old versions") */
#define REGF_MINOR_MAX 6u
#define REGF_MINOR_BIG_DATA 4u        /* "Big data": used from 1.4 on */
#define REGF_FILE_TYPE_PRIMARY 0u
#define REGF_FILE_FORMAT_DIRECT 1u
#define REGF_NO_CELL 0xFFFFFFFFu      /* a cell offset that points nowhere ("Base block", Notes, 1) */

/* ---- "Hive bin": a 32-byte header, then cells, a multiple of 4096 bytes in all ---- */
#define REGF_BIN_HEADER_SIZE 32u
#define REGF_BIN_SIGNATURE 0u         /* 4: "hbin" */
#define REGF_BIN_OFFSET 4u            /* 4: offset of this bin from the start of the hive bins data */
#define REGF_BIN_SIZE 8u              /* 4: size of this bin */
#define REGF_BIN_ALIGN 4096u

/* ---- "Cell": 4-byte size (negative: allocated), then the cell data ---- */
#define REGF_CELL_HEADER 4u
#define REGF_CELL_MIN 8u              /* the size field and at least one record signature */
#define REGF_CELL_ALIGN 4u            /* Windows pads to 8; hivex accepts 4, and so do we */

/* ---- "Index leaf" (li), "Fast leaf" (lf), "Hash leaf" (lh), "Index root" (ri) ---- */
#define REGF_LIST_SIGNATURE 0u        /* 2: "li", "lf", "lh" or "ri" */
#define REGF_LIST_COUNT 2u            /* 2: number of elements */
#define REGF_LIST_ELEMENTS 4u         /* li, ri: 4-byte cell offsets; lf, lh: offset + 4-byte hint/hash */

/* ---- "Key node" (nk) ---- */
#define REGF_NK_SIGNATURE 0u          /* 2: "nk" */
#define REGF_NK_FLAGS 2u              /* 2: REGF_KEY_* */
#define REGF_NK_LAST_WRITTEN 4u       /* 8: FILETIME (UTC) */
#define REGF_NK_ACCESS_BITS 12u       /* 4: access bits; layered key bits in byte 1 (1.6) */
#define REGF_NK_PARENT 16u            /* 4: cell offset of the parent key node */
#define REGF_NK_SUBKEY_COUNT 20u      /* 4: number of (stable) subkeys */
#define REGF_NK_VOLATILE_COUNT 24u    /* 4: number of volatile subkeys (meaningless on disk) */
#define REGF_NK_SUBKEY_LIST 28u       /* 4: cell offset of an li/lf/lh/ri list */
#define REGF_NK_VOLATILE_LIST 32u     /* 4: meaningless on disk */
#define REGF_NK_VALUE_COUNT 36u       /* 4: number of values */
#define REGF_NK_VALUE_LIST 40u        /* 4: cell offset of the key values list */
#define REGF_NK_SECURITY 44u          /* 4: cell offset of the sk record */
#define REGF_NK_CLASS 48u             /* 4: cell offset of the class name (UTF-16LE) */
#define REGF_NK_MAX_SUBKEY_NAME 52u   /* 4: largest subkey name length (and flag bit fields) */
#define REGF_NK_MAX_CLASS 56u         /* 4: largest subkey class name length */
#define REGF_NK_MAX_VALUE_NAME 60u    /* 4: largest value name length */
#define REGF_NK_MAX_VALUE_DATA 64u    /* 4: largest value data size */
#define REGF_NK_WORKVAR 68u           /* 4: unused */
#define REGF_NK_NAME_LEN 72u          /* 2: key name length in bytes */
#define REGF_NK_CLASS_LEN 74u         /* 2: class name length in bytes */
#define REGF_NK_NAME 76u              /* name_len: ASCII (Latin-1) when COMP_NAME, else UTF-16LE */

/* Key node "Flags" */
#define REGF_KEY_VOLATILE 0x0001u
#define REGF_KEY_HIVE_EXIT 0x0002u
#define REGF_KEY_HIVE_ENTRY 0x0004u   /* the root key of the hive */
#define REGF_KEY_NO_DELETE 0x0008u
#define REGF_KEY_SYM_LINK 0x0010u     /* target in the REG_LINK value "SymbolicLinkValue" */
#define REGF_KEY_COMP_NAME 0x0020u    /* the name is one byte a character (Latin-1) */
#define REGF_KEY_PREDEF_HANDLE 0x0040u

/* ---- "Key values list": cell offsets of vk records, 4 bytes each ---- */

/* ---- "Key value" (vk) ---- */
#define REGF_VK_SIGNATURE 0u          /* 2: "vk" */
#define REGF_VK_NAME_LEN 2u           /* 2: name length in bytes; 0 is the default value */
#define REGF_VK_DATA_SIZE 4u          /* 4: data size; high bit: data in the data offset field */
#define REGF_VK_DATA_OFFSET 8u        /* 4: cell offset of the data (or the data, up to 4 bytes) */
#define REGF_VK_TYPE 12u              /* 4: REG_* ("Data types") */
#define REGF_VK_FLAGS 16u             /* 2: REGF_VALUE_COMP_NAME */
#define REGF_VK_SPARE 18u             /* 2 */
#define REGF_VK_NAME 20u              /* name_len: ASCII (Latin-1) when COMP_NAME, else UTF-16LE */

#define REGF_VK_DATA_INLINE 0x80000000u /* "Data size": data stored in the data offset field */
#define REGF_VK_INLINE_MAX 4u
#define REGF_VALUE_COMP_NAME 0x0001u

/* ---- "Big data" (db), for data over 16344 bytes from version 1.4 on ---- */
#define REGF_DB_SIGNATURE 0u          /* 2: "db" */
#define REGF_DB_SEGMENT_COUNT 2u      /* 2: number of segments */
#define REGF_DB_SEGMENT_LIST 4u       /* 4: cell offset of the list of segment cell offsets */
#define REGF_DB_SIZE 8u
#define REGF_DB_SEGMENT_MAX 16344u    /* "Data segment": every segment but the last is this full */

#endif
