/*
 * What the MBR and GPT parsers share: the names of partition types (an MBR
 * type byte, a GPT type GUID) and the bound on how many partitions one table
 * may give.
 */
#ifndef IMGP_PARTTYPES_H
#define IMGP_PARTTYPES_H

#include <stdint.h>

/*
 * Most partitions one table yields (MBR logicals, used GPT entries). Linux
 * makes no device past its 256th partition (DISK_MAX_PARTS), and a table
 * that claims more is hostile: each partition costs a device and the
 * overlap check is quadratic.
 */
#define PART_MAX_PARTITIONS 256u

/** @return the name of MBR type byte @p type ("Linux" for 0x83), or NULL when unknown. */
const char *parttype_mbr_name(uint8_t type);

/** @return the name of GPT type @p guid (lowercase text, 36 characters), or NULL when unknown. */
const char *parttype_gpt_name(const char *guid);

#endif
