/*
 * ext2/3/4, read-only: probing and mounting (superblock, a backup when the
 * primary is damaged, features, group descriptors), inodes, the metadata_csum
 * checksums, and the driver's stat / read / readlink. Block mapping lives in
 * ext4_extent.c, directories in ext4_dir.c. Layout: ext4_disk.h.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "ext4.h"

#define META_CACHE_SLOTS 64 /* inode table, extent and indirect blocks */
#define MAX_CSUM_NOTES 8    /* checksum mismatches listed one by one; then one line for the rest */

/* ---- checksums (checksums.rst) ---- */

/* crc32c (Castagnoli, reflected polynomial 0x82F63B78), one byte per step. */
static const uint32_t crc32c_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
    0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
    0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
    0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
    0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
    0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
    0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
    0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
    0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
    0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
    0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
    0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
    0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
    0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
    0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
    0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
    0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
    0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
    0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
    0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
    0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
    0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

/* CRC-16 (reflected polynomial 0xA001), which gdt_csum (uninit_bg) descriptors use. */
static const uint16_t crc16_table[256] = {
    0x0000, 0xc0c1, 0xc181, 0x0140, 0xc301, 0x03c0, 0x0280, 0xc241, 0xc601, 0x06c0, 0x0780, 0xc741,
    0x0500, 0xc5c1, 0xc481, 0x0440, 0xcc01, 0x0cc0, 0x0d80, 0xcd41, 0x0f00, 0xcfc1, 0xce81, 0x0e40,
    0x0a00, 0xcac1, 0xcb81, 0x0b40, 0xc901, 0x09c0, 0x0880, 0xc841, 0xd801, 0x18c0, 0x1980, 0xd941,
    0x1b00, 0xdbc1, 0xda81, 0x1a40, 0x1e00, 0xdec1, 0xdf81, 0x1f40, 0xdd01, 0x1dc0, 0x1c80, 0xdc41,
    0x1400, 0xd4c1, 0xd581, 0x1540, 0xd701, 0x17c0, 0x1680, 0xd641, 0xd201, 0x12c0, 0x1380, 0xd341,
    0x1100, 0xd1c1, 0xd081, 0x1040, 0xf001, 0x30c0, 0x3180, 0xf141, 0x3300, 0xf3c1, 0xf281, 0x3240,
    0x3600, 0xf6c1, 0xf781, 0x3740, 0xf501, 0x35c0, 0x3480, 0xf441, 0x3c00, 0xfcc1, 0xfd81, 0x3d40,
    0xff01, 0x3fc0, 0x3e80, 0xfe41, 0xfa01, 0x3ac0, 0x3b80, 0xfb41, 0x3900, 0xf9c1, 0xf881, 0x3840,
    0x2800, 0xe8c1, 0xe981, 0x2940, 0xeb01, 0x2bc0, 0x2a80, 0xea41, 0xee01, 0x2ec0, 0x2f80, 0xef41,
    0x2d00, 0xedc1, 0xec81, 0x2c40, 0xe401, 0x24c0, 0x2580, 0xe541, 0x2700, 0xe7c1, 0xe681, 0x2640,
    0x2200, 0xe2c1, 0xe381, 0x2340, 0xe101, 0x21c0, 0x2080, 0xe041, 0xa001, 0x60c0, 0x6180, 0xa141,
    0x6300, 0xa3c1, 0xa281, 0x6240, 0x6600, 0xa6c1, 0xa781, 0x6740, 0xa501, 0x65c0, 0x6480, 0xa441,
    0x6c00, 0xacc1, 0xad81, 0x6d40, 0xaf01, 0x6fc0, 0x6e80, 0xae41, 0xaa01, 0x6ac0, 0x6b80, 0xab41,
    0x6900, 0xa9c1, 0xa881, 0x6840, 0x7800, 0xb8c1, 0xb981, 0x7940, 0xbb01, 0x7bc0, 0x7a80, 0xba41,
    0xbe01, 0x7ec0, 0x7f80, 0xbf41, 0x7d00, 0xbdc1, 0xbc81, 0x7c40, 0xb401, 0x74c0, 0x7580, 0xb541,
    0x7700, 0xb7c1, 0xb681, 0x7640, 0x7200, 0xb2c1, 0xb381, 0x7340, 0xb101, 0x71c0, 0x7080, 0xb041,
    0x5000, 0x90c1, 0x9181, 0x5140, 0x9301, 0x53c0, 0x5280, 0x9241, 0x9601, 0x56c0, 0x5780, 0x9741,
    0x5500, 0x95c1, 0x9481, 0x5440, 0x9c01, 0x5cc0, 0x5d80, 0x9d41, 0x5f00, 0x9fc1, 0x9e81, 0x5e40,
    0x5a00, 0x9ac1, 0x9b81, 0x5b40, 0x9901, 0x59c0, 0x5880, 0x9841, 0x8801, 0x48c0, 0x4980, 0x8941,
    0x4b00, 0x8bc1, 0x8a81, 0x4a40, 0x4e00, 0x8ec1, 0x8f81, 0x4f40, 0x8d01, 0x4dc0, 0x4c80, 0x8c41,
    0x4400, 0x84c1, 0x8581, 0x4540, 0x8701, 0x47c0, 0x4680, 0x8641, 0x8201, 0x42c0, 0x4380, 0x8341,
    0x4100, 0x81c1, 0x8081, 0x4040,
};

uint32_t ext4_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len--)
        crc = crc32c_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return crc;
}

uint16_t ext4_crc16(uint16_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len--)
        crc = (uint16_t)(crc16_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8));
    return crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static const uint8_t zero_csum[2];

/* group_descr.rst "bg_checksum": the UUID (or the crc32c seed), the group
 * number and the descriptor with its checksum field counted as zero. */
uint16_t ext4_group_desc_csum(const ext4_super *sb, uint32_t seed, uint32_t group, const uint8_t *desc)
{
    uint8_t le_group[4];
    put_le32(le_group, group);
    size_t after = EXT4_BG_CHECKSUM + 2, size = sb->desc_size;
    if (sb->ro_compat & EXT4_RO_COMPAT_METADATA_CSUM) {
        uint32_t crc = ext4_crc32c(seed, le_group, 4);
        crc = ext4_crc32c(crc, desc, EXT4_BG_CHECKSUM);
        crc = ext4_crc32c(crc, zero_csum, 2);
        crc = ext4_crc32c(crc, desc + after, size - after);
        return (uint16_t)(crc & 0xffffu);
    }
    uint16_t crc = ext4_crc16(0xffffu, sb->uuid, sizeof sb->uuid);
    crc = ext4_crc16(crc, le_group, 4);
    crc = ext4_crc16(crc, desc, EXT4_BG_CHECKSUM);
    return ext4_crc16(crc, desc + after, size - after); /* the checksum field is skipped */
}

/* inodes.rst / checksums.rst: the inode number and generation, then the
 * record with both checksum halves counted as zero. Only the low 16 bits are
 * stored when the record has no room for i_checksum_hi. */
uint32_t ext4_inode_csum(uint32_t seed, const ext4_inode *in)
{
    uint8_t le[4];
    put_le32(le, (uint32_t)in->ino);
    uint32_t crc = ext4_crc32c(seed, le, 4);
    put_le32(le, in->generation);
    crc = ext4_crc32c(crc, le, 4);
    crc = ext4_crc32c(crc, in->raw, EXT4_I_CHECKSUM_LO);
    crc = ext4_crc32c(crc, zero_csum, 2);
    crc = ext4_crc32c(crc, in->raw + EXT4_I_CHECKSUM_LO + 2, EXT4_GOOD_OLD_INODE_SIZE - (EXT4_I_CHECKSUM_LO + 2));
    if (in->record_size > EXT4_GOOD_OLD_INODE_SIZE) {
        size_t off = EXT4_I_CHECKSUM_HI;
        crc = ext4_crc32c(crc, in->raw + EXT4_GOOD_OLD_INODE_SIZE, off - EXT4_GOOD_OLD_INODE_SIZE);
        if (in->checksum_hi) {
            crc = ext4_crc32c(crc, zero_csum, 2);
            off += 2;
        }
        crc = ext4_crc32c(crc, in->raw + off, in->record_size - off);
    }
    return in->checksum_hi ? crc : crc & 0xffffu;
}

/* ---- errors and notes ---- */

imgp_status ext4_fail(ext4_fs *fs, imgp_status st, const char *fmt, ...)
{
    char msg[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imgp_error(fs->base.ctx, st, "ext4: %s", msg);
}

/* A checksum mismatch is reported, not refused: the data may still be good. */
static imgp_status csum_note(ext4_fs *fs, const char *what, unsigned long long which, uint32_t stored,
                             uint32_t computed)
{
    unsigned n = fs->csum_notes++;
    if (n < MAX_CSUM_NOTES)
        return imgp_fs_note(&fs->base, "ext4: %s %llu: checksum 0x%08x, computed 0x%08x", what, which,
                            (unsigned)stored, (unsigned)computed);
    if (n == MAX_CSUM_NOTES)
        return imgp_fs_note(&fs->base, "ext4: further checksum mismatches not listed");
    return IMGP_OK;
}

/* ---- superblock (super.rst) ---- */

imgp_status ext4_parse_super(imgp_ctx *ctx, const uint8_t *buf, size_t len, ext4_super *sb)
{
    memset(sb, 0, sizeof *sb);
    if (len < EXT4_SB_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: superblock of %zu bytes (it has %u)", len, EXT4_SB_SIZE);
    imgp_cursor c = imgp_cur_init(buf, len);
    uint16_t magic = imgp_cur_le16_at(&c, EXT4_SB_MAGIC);
    if (magic != EXT4_MAGIC)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: superblock magic 0x%04x (expected 0x%04x)", magic,
                          EXT4_MAGIC);
    sb->inodes_count = imgp_cur_le32_at(&c, EXT4_SB_INODES_COUNT);
    sb->free_inodes_count = imgp_cur_le32_at(&c, EXT4_SB_FREE_INODES_COUNT);
    sb->first_data_block = imgp_cur_le32_at(&c, EXT4_SB_FIRST_DATA_BLOCK);
    uint32_t log_block = imgp_cur_le32_at(&c, EXT4_SB_LOG_BLOCK_SIZE);
    uint32_t log_cluster = imgp_cur_le32_at(&c, EXT4_SB_LOG_CLUSTER_SIZE);
    sb->blocks_per_group = imgp_cur_le32_at(&c, EXT4_SB_BLOCKS_PER_GROUP);
    uint32_t clusters_per_group = imgp_cur_le32_at(&c, EXT4_SB_CLUSTERS_PER_GROUP);
    sb->inodes_per_group = imgp_cur_le32_at(&c, EXT4_SB_INODES_PER_GROUP);
    sb->state = imgp_cur_le16_at(&c, EXT4_SB_STATE);
    sb->creator_os = imgp_cur_le32_at(&c, EXT4_SB_CREATOR_OS);
    sb->rev_level = imgp_cur_le32_at(&c, EXT4_SB_REV_LEVEL);
    sb->block_group_nr = imgp_cur_le16_at(&c, EXT4_SB_BLOCK_GROUP_NR);
    sb->compat = imgp_cur_le32_at(&c, EXT4_SB_FEATURE_COMPAT);
    sb->incompat = imgp_cur_le32_at(&c, EXT4_SB_FEATURE_INCOMPAT);
    sb->ro_compat = imgp_cur_le32_at(&c, EXT4_SB_FEATURE_RO_COMPAT);
    imgp_cur_bytes_at(&c, EXT4_SB_UUID, sb->uuid, sizeof sb->uuid);
    imgp_cur_bytes_at(&c, EXT4_SB_VOLUME_NAME, sb->label, 16);
    sb->label[16] = '\0';
    sb->first_meta_bg = imgp_cur_le32_at(&c, EXT4_SB_FIRST_META_BG);
    sb->checksum_type = imgp_cur_u8_at(&c, EXT4_SB_CHECKSUM_TYPE);
    sb->backup_bgs[0] = imgp_cur_le32_at(&c, EXT4_SB_BACKUP_BGS);
    sb->backup_bgs[1] = imgp_cur_le32_at(&c, EXT4_SB_BACKUP_BGS + 4);
    sb->checksum_seed = imgp_cur_le32_at(&c, EXT4_SB_CHECKSUM_SEED);
    sb->checksum = imgp_cur_le32_at(&c, EXT4_SB_CHECKSUM);
    bool is64 = sb->incompat & EXT4_INCOMPAT_64BIT;
    sb->blocks_count = imgp_cur_le32_at(&c, EXT4_SB_BLOCKS_COUNT_LO);
    sb->free_blocks_count = imgp_cur_le32_at(&c, EXT4_SB_FREE_BLOCKS_COUNT_LO);
    if (is64) {
        sb->blocks_count |= (uint64_t)imgp_cur_le32_at(&c, EXT4_SB_BLOCKS_COUNT_HI) << 32;
        sb->free_blocks_count |= (uint64_t)imgp_cur_le32_at(&c, EXT4_SB_FREE_BLOCKS_COUNT_HI) << 32;
    }
    uint16_t desc_size = imgp_cur_le16_at(&c, EXT4_SB_DESC_SIZE);
    uint16_t inode_size = imgp_cur_le16_at(&c, EXT4_SB_INODE_SIZE);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: superblock truncated");

    if (log_block > EXT4_MAX_LOG_BLOCK_SIZE - EXT4_MIN_LOG_BLOCK_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_log_block_size %u (blocks are 1 KiB to 64 KiB)",
                          log_block);
    sb->log_block_size = EXT4_MIN_LOG_BLOCK_SIZE + log_block;
    sb->block_size = 1u << sb->log_block_size;

    sb->inode_size = sb->rev_level == EXT4_GOOD_OLD_REV ? EXT4_GOOD_OLD_INODE_SIZE : inode_size;
    if (sb->inode_size < EXT4_GOOD_OLD_INODE_SIZE || !imgp_is_pow2(sb->inode_size) ||
        sb->inode_size > sb->block_size)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "ext4: s_inode_size %u (a power of two from 128 to the block size, %u)", sb->inode_size,
                          sb->block_size);
    if (sb->inode_size > EXT4_MAX_INODE_SIZE)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "ext4: inodes of %u bytes (imgprobe reads 128 to %u)",
                          sb->inode_size, EXT4_MAX_INODE_SIZE);

    /* A bitmap block maps 8 x block size clusters: the most a group holds. */
    uint64_t bitmap_bits = 8ull * sb->block_size;
    if (sb->ro_compat & EXT4_RO_COMPAT_BIGALLOC) {
        if (log_cluster < log_block || log_cluster - log_block > EXT4_MAX_LOG_CLUSTER_BLOCKS)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "ext4: bigalloc s_log_cluster_size %u with s_log_block_size %u", log_cluster,
                              log_block);
        sb->log_cluster_blocks = log_cluster - log_block;
        if (clusters_per_group == 0 || clusters_per_group > bitmap_bits ||
            ((uint64_t)clusters_per_group << sb->log_cluster_blocks) != sb->blocks_per_group)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "ext4: s_blocks_per_group %u is not s_clusters_per_group %u x %u blocks",
                              sb->blocks_per_group, clusters_per_group, 1u << sb->log_cluster_blocks);
    } else if (sb->blocks_per_group > bitmap_bits) {
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_blocks_per_group %u exceeds %llu", sb->blocks_per_group,
                          (unsigned long long)bitmap_bits);
    }
    if (sb->blocks_per_group < 8)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_blocks_per_group %u (at least 8)", sb->blocks_per_group);
    if (sb->inodes_per_group == 0 || sb->inodes_per_group > bitmap_bits)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_inodes_per_group %u (1 to %llu)", sb->inodes_per_group,
                          (unsigned long long)bitmap_bits);
    if (sb->first_data_block > 1 || sb->first_data_block >= sb->blocks_count)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_first_data_block %u with %llu blocks",
                          sb->first_data_block, (unsigned long long)sb->blocks_count);
    if (sb->blocks_count > UINT64_MAX >> sb->log_block_size)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_blocks_count %llu of %u bytes overflows",
                          (unsigned long long)sb->blocks_count, sb->block_size);

    uint64_t groups = (sb->blocks_count - sb->first_data_block - 1) / sb->blocks_per_group + 1;
    if (groups > UINT32_MAX)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %llu block groups", (unsigned long long)groups);
    sb->group_count = (uint32_t)groups;
    if (sb->inodes_count > groups * sb->inodes_per_group)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_inodes_count %u exceeds %u groups of %u inodes",
                          sb->inodes_count, sb->group_count, sb->inodes_per_group);

    if (is64) {
        if (desc_size < EXT4_MIN_DESC_SIZE_64BIT || desc_size > EXT4_MAX_DESC_SIZE || !imgp_is_pow2(desc_size))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "ext4: s_desc_size %u with 64bit (a power of two from %u to %u)", desc_size,
                              EXT4_MIN_DESC_SIZE_64BIT, EXT4_MAX_DESC_SIZE);
        sb->desc_size = desc_size;
    } else {
        sb->desc_size = EXT4_DESC_SIZE;
    }
    sb->desc_per_block = sb->block_size / sb->desc_size;
    uint64_t table = groups * sb->desc_size, limit = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    if (table > limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "ext4: %u block groups need %llu bytes of group descriptors "
                          "(limit %llu)", sb->group_count, (unsigned long long)table, (unsigned long long)limit);
    uint64_t desc_blocks = (groups + sb->desc_per_block - 1) / sb->desc_per_block;
    if ((sb->incompat & EXT4_INCOMPAT_META_BG) && sb->first_meta_bg > desc_blocks)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: s_first_meta_bg %u exceeds the %llu descriptor blocks",
                          sb->first_meta_bg, (unsigned long long)desc_blocks);
    return IMGP_OK;
}

/* super.rst "super_incompat": what imgprobe reads. RECOVER is read (and
 * reported): the journal is never replayed. Names as e2fsprogs prints them. */
#define EXT4_INCOMPAT_READ                                                                                       \
    (EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_RECOVER | EXT4_INCOMPAT_META_BG | EXT4_INCOMPAT_EXTENTS |            \
     EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_MMP | EXT4_INCOMPAT_FLEX_BG | EXT4_INCOMPAT_EA_INODE |                 \
     EXT4_INCOMPAT_CSUM_SEED | EXT4_INCOMPAT_LARGEDIR | EXT4_INCOMPAT_INLINE_DATA | EXT4_INCOMPAT_ENCRYPT |     \
     EXT4_INCOMPAT_CASEFOLD)

static const struct {
    uint32_t bit;
    const char *name;
} incompat_names[] = {
    {EXT4_INCOMPAT_COMPRESSION, "compression"},
    {EXT4_INCOMPAT_JOURNAL_DEV, "journal_dev (an external journal, not a filesystem)"},
    {EXT4_INCOMPAT_DIRDATA, "dirdata"},
};

imgp_status ext4_check_features(imgp_ctx *ctx, const ext4_super *sb)
{
    uint32_t unknown = sb->incompat & ~(uint32_t)EXT4_INCOMPAT_READ;
    if (!unknown)
        return IMGP_OK;
    uint32_t bit = unknown & -unknown;
    for (size_t i = 0; i < sizeof incompat_names / sizeof incompat_names[0]; i++)
        if (incompat_names[i].bit == bit)
            return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "ext4: incompatible feature '%s' (0x%x) is not read",
                              incompat_names[i].name, (unsigned)bit);
    return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "ext4: unknown incompatible feature 0x%x", (unsigned)bit);
}

/* blockgroup.rst: with sparse_super, backups are in groups 0, 1 and powers of
 * 3, 5 and 7; with sparse_super2 in the two groups s_backup_bgs names. */
static bool is_power_of(uint32_t g, uint32_t base)
{
    uint64_t p = base;
    while (p < g)
        p *= base;
    return p == g;
}

static bool group_has_super(const ext4_super *sb, uint32_t g)
{
    if (g == 0)
        return true;
    if (sb->compat & EXT4_COMPAT_SPARSE_SUPER2)
        return g == sb->backup_bgs[0] || g == sb->backup_bgs[1];
    if (g == 1 || !(sb->ro_compat & EXT4_RO_COMPAT_SPARSE_SUPER))
        return true;
    return (g & 1) && (is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7));
}

static uint64_t group_first_block(const ext4_super *sb, uint32_t g)
{
    return (uint64_t)g * sb->blocks_per_group + sb->first_data_block;
}

/* The block holding the superblock copy of group @p g: group 0's sits at byte
 * 1024, whatever the block size and s_first_data_block (bigalloc with 1 KiB
 * blocks has 0). */
static uint64_t group_super_block(const ext4_super *sb, uint32_t g)
{
    return g == 0 ? EXT4_SB_OFFSET >> sb->log_block_size : group_first_block(sb, g);
}

/* blockgroup.rst "Meta Block Groups": where descriptor block @p nr lies. */
static uint64_t desc_block(const ext4_fs *fs, uint64_t nr)
{
    const ext4_super *sb = &fs->sb;
    if (!(sb->incompat & EXT4_INCOMPAT_META_BG) || nr < sb->first_meta_bg)
        return group_super_block(sb, fs->backup_group) + 1 + nr;
    /* the first group of each meta group holds its descriptor block, after
     * the superblock backup if the group has one; the second group a copy */
    uint32_t g = (uint32_t)(nr * sb->desc_per_block);
    if (g == 0 && fs->backup_group)
        g = 1;
    if (g == 0)
        return group_super_block(sb, 0) + 1;
    return group_first_block(sb, g) + (group_has_super(sb, g) ? 1 : 0);
}

/* The primary is unusable: look for group 1's copy, at the place mke2fs puts
 * it for each block size with the default 8 x block size blocks per group
 * (what e2fsck tries too). Leaves the context's error as it found it. */
static imgp_status read_backup_super(imgp_ctx *ctx, imgp_bdev *bd, uint8_t *buf, ext4_super *out)
{
    for (uint32_t log = EXT4_MIN_LOG_BLOCK_SIZE; log <= EXT4_MAX_LOG_BLOCK_SIZE; log++) {
        uint64_t bs = 1ull << log, per_group = 8 * bs;
        uint64_t block = per_group + (bs == 1024 ? 1 : 0);
        uint64_t off = block * bs;
        if (imgp_range_outside(off, EXT4_SB_SIZE, bd->size))
            break;
        ext4_super sb;
        if (imgp_bdev_read(bd, off, buf, EXT4_SB_SIZE) != IMGP_OK ||
            ext4_parse_super(ctx, buf, EXT4_SB_SIZE, &sb) != IMGP_OK) {
            imgp_ctx_clear(ctx);
            continue;
        }
        if (sb.block_size != bs || sb.blocks_per_group != per_group ||
            (sb.rev_level != EXT4_GOOD_OLD_REV && sb.block_group_nr != 1))
            continue;
        *out = sb;
        return IMGP_OK;
    }
    return IMGP_ERR_NOT_FOUND;
}

static imgp_status find_backup_super(ext4_fs *fs, uint8_t *buf)
{
    imgp_status st = read_backup_super(fs->base.ctx, fs->base.bdev, buf, &fs->sb);
    if (st == IMGP_OK)
        fs->backup_group = 1;
    return st;
}

/* probe_deep: no driver knew the head, so perhaps the primary superblock is
 * destroyed (e2fsprogs' f_zero_super); a backup is a weaker sign than the
 * primary's magic. */
static int ext4_probe_deep(imgp_ctx *ctx, imgp_bdev *bd)
{
    uint8_t buf[EXT4_SB_SIZE];
    ext4_super sb;
    return read_backup_super(ctx, bd, buf, &sb) == IMGP_OK ? IMGP_SCORE_WEAK : IMGP_SCORE_NONE;
}

static imgp_status load_super(ext4_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    imgp_bdev *bd = fs->base.bdev;
    uint8_t buf[EXT4_SB_SIZE];
    if (imgp_range_outside(EXT4_SB_OFFSET, EXT4_SB_SIZE, bd->size))
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "a device of %llu bytes is too small to hold a superblock",
                         (unsigned long long)bd->size);
    imgp_status st = imgp_bdev_read(bd, EXT4_SB_OFFSET, buf, sizeof buf);
    if (st != IMGP_OK)
        return st;
    st = ext4_parse_super(ctx, buf, sizeof buf, &fs->sb);
    if (st == IMGP_ERR_CORRUPT) {
        char why[IMGP_MSG_MAX];
        const char *msg = imgp_ctx_message(ctx);
        snprintf(why, sizeof why, "%s", strncmp(msg, "ext4: ", 6) == 0 ? msg + 6 : msg);
        if (find_backup_super(fs, buf) != IMGP_OK)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s (and no backup superblock found)", why);
        imgp_ctx_clear(ctx);
        st = imgp_fs_note(&fs->base, "ext4: primary superblock unusable (%s); read the backup in group 1 "
                          "(block %llu)", why, (unsigned long long)group_super_block(&fs->sb, 1));
    }
    if (st != IMGP_OK)
        return st;
    /* checksums.rst: the superblock's own crc32c, over everything before it */
    if (fs->sb.ro_compat & EXT4_RO_COMPAT_METADATA_CSUM) {
        if (fs->sb.checksum_type != EXT4_CHECKSUM_CRC32C)
            return imgp_fs_note(&fs->base, "ext4: unknown checksum type %u: checksums not verified",
                                fs->sb.checksum_type);
        fs->verify_csum = true;
        fs->csum_seed = fs->sb.incompat & EXT4_INCOMPAT_CSUM_SEED
                            ? fs->sb.checksum_seed
                            : ext4_crc32c(~0u, fs->sb.uuid, sizeof fs->sb.uuid);
        uint32_t crc = ext4_crc32c(~0u, buf, EXT4_SB_CHECKSUM);
        if (crc != fs->sb.checksum)
            return csum_note(fs, "superblock of group", fs->backup_group, fs->sb.checksum, crc);
    }
    return IMGP_OK;
}

/* ---- group descriptors (group_descr.rst), read once at mount ---- */

void ext4_parse_group_desc(const uint8_t *buf, size_t desc_size, bool is64, ext4_group *g)
{
    imgp_cursor c = imgp_cur_init(buf, desc_size);
    g->inode_table = imgp_cur_le32_at(&c, EXT4_BG_INODE_TABLE_LO);
    g->flags = imgp_cur_le16_at(&c, EXT4_BG_FLAGS);
    g->checksum = imgp_cur_le16_at(&c, EXT4_BG_CHECKSUM);
    if (is64 && desc_size >= EXT4_MIN_DESC_SIZE_64BIT)
        g->inode_table |= (uint64_t)imgp_cur_le32_at(&c, EXT4_BG_INODE_TABLE_HI) << 32;
}

static bool has_group_csum(const ext4_super *sb)
{
    return sb->ro_compat & (EXT4_RO_COMPAT_GDT_CSUM | EXT4_RO_COMPAT_METADATA_CSUM);
}

static imgp_status load_groups(ext4_fs *fs)
{
    const ext4_super *sb = &fs->sb;
    imgp_ctx *ctx = fs->base.ctx;
    fs->groups = imgp_calloc(ctx, sb->group_count, sizeof *fs->groups);
    uint8_t *buf = imgp_alloc(ctx, sb->block_size);
    if (!fs->groups || !buf) {
        imgp_free(ctx, buf);
        return IMGP_ERR_NOMEM;
    }
    bool is64 = sb->incompat & EXT4_INCOMPAT_64BIT;
    bool check = has_group_csum(sb) && (fs->verify_csum || !(sb->ro_compat & EXT4_RO_COMPAT_METADATA_CSUM));
    uint64_t nblocks = ((uint64_t)sb->group_count + sb->desc_per_block - 1) / sb->desc_per_block;
    imgp_status st = IMGP_OK;
    for (uint64_t nr = 0; nr < nblocks && st == IMGP_OK; nr++) {
        uint64_t blk = desc_block(fs, nr);
        if (blk >= sb->blocks_count) {
            st = ext4_fail(fs, IMGP_ERR_CORRUPT, "group descriptor block %llu lies at block %llu, past the end "
                           "of the filesystem (%llu blocks)", (unsigned long long)nr, (unsigned long long)blk,
                           (unsigned long long)sb->blocks_count);
            break;
        }
        st = imgp_bdev_read(fs->base.bdev, blk << sb->log_block_size, buf, sb->block_size);
        if (st != IMGP_OK) {
            imgp_error_prefix(ctx, "ext4: group descriptor block %llu: ", (unsigned long long)blk);
            break;
        }
        for (uint32_t i = 0; i < sb->desc_per_block && st == IMGP_OK; i++) {
            uint64_t g = nr * sb->desc_per_block + i;
            if (g >= sb->group_count)
                break;
            const uint8_t *d = buf + (size_t)i * sb->desc_size;
            ext4_parse_group_desc(d, sb->desc_size, is64, &fs->groups[g]);
            if (check) {
                uint16_t crc = ext4_group_desc_csum(sb, fs->csum_seed, (uint32_t)g, d);
                if (crc != fs->groups[g].checksum)
                    st = csum_note(fs, "descriptor of group", g, fs->groups[g].checksum, crc);
            }
        }
    }
    imgp_free(ctx, buf);
    return st;
}

/* ---- inodes (inodes.rst) ---- */

/* "Inode Timestamps": 32 signed bits of seconds, and in the _extra word two
 * more epoch bits and the nanoseconds. */
static int64_t inode_time(uint32_t seconds, uint32_t extra, bool has_extra)
{
    int64_t t = (int32_t)seconds;
    return has_extra ? t + ((int64_t)(extra & 3u) << 32) : t;
}

imgp_status ext4_parse_inode(imgp_ctx *ctx, uint64_t ino, const uint8_t *buf, size_t len, bool hurd,
                             ext4_inode *in)
{
    if (len < EXT4_GOOD_OLD_INODE_SIZE || len > EXT4_MAX_INODE_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: inode %llu: record of %zu bytes", (unsigned long long)ino,
                          len);
    imgp_cursor c = imgp_cur_init(buf, len);
    in->ino = ino;
    in->record_size = (uint16_t)len;
    memcpy(in->raw, buf, len);
    in->extra_isize = len > EXT4_GOOD_OLD_INODE_SIZE ? imgp_cur_le16_at(&c, EXT4_I_EXTRA_ISIZE) : 0;
    if (in->extra_isize > len - EXT4_GOOD_OLD_INODE_SIZE || (in->extra_isize & 3u))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: inode %llu: i_extra_isize %u does not fit its %zu-byte "
                          "record", (unsigned long long)ino, in->extra_isize, len);
    /* a field past the original 128 bytes exists when i_extra_isize covers it */
    size_t end = EXT4_GOOD_OLD_INODE_SIZE + in->extra_isize;
    in->mode = imgp_cur_le16_at(&c, EXT4_I_MODE);
    in->uid = imgp_cur_le16_at(&c, EXT4_I_UID) | (uint32_t)imgp_cur_le16_at(&c, EXT4_I_UID_HIGH) << 16;
    in->gid = imgp_cur_le16_at(&c, EXT4_I_GID) | (uint32_t)imgp_cur_le16_at(&c, EXT4_I_GID_HIGH) << 16;
    in->size = imgp_cur_le32_at(&c, EXT4_I_SIZE_LO) | (uint64_t)imgp_cur_le32_at(&c, EXT4_I_SIZE_HIGH) << 32;
    bool has_ctime_extra = end >= EXT4_I_CTIME_EXTRA + 4, has_mtime_extra = end >= EXT4_I_MTIME_EXTRA + 4,
         has_atime_extra = end >= EXT4_I_ATIME_EXTRA + 4;
    uint32_t mtime_extra = has_mtime_extra ? imgp_cur_le32_at(&c, EXT4_I_MTIME_EXTRA) : 0;
    in->atime = inode_time(imgp_cur_le32_at(&c, EXT4_I_ATIME),
                           has_atime_extra ? imgp_cur_le32_at(&c, EXT4_I_ATIME_EXTRA) : 0, has_atime_extra);
    in->ctime = inode_time(imgp_cur_le32_at(&c, EXT4_I_CTIME),
                           has_ctime_extra ? imgp_cur_le32_at(&c, EXT4_I_CTIME_EXTRA) : 0, has_ctime_extra);
    in->mtime = inode_time(imgp_cur_le32_at(&c, EXT4_I_MTIME), mtime_extra, has_mtime_extra);
    in->mtime_nsec = mtime_extra >> 2;
    in->links = imgp_cur_le16_at(&c, EXT4_I_LINKS_COUNT);
    in->flags = imgp_cur_le32_at(&c, EXT4_I_FLAGS);
    imgp_cur_bytes_at(&c, EXT4_I_BLOCK, in->block, sizeof in->block);
    in->generation = imgp_cur_le32_at(&c, EXT4_I_GENERATION);
    /* the GNU Hurd uses i_osd2 for its own fields and has no checksums */
    in->checksum_hi = !hurd && end >= EXT4_I_CHECKSUM_HI + 2;
    in->checksum = hurd ? 0 : imgp_cur_le16_at(&c, EXT4_I_CHECKSUM_LO);
    if (in->checksum_hi)
        in->checksum |= (uint32_t)imgp_cur_le16_at(&c, EXT4_I_CHECKSUM_HI) << 16;
    return imgp_cur_ok(&c) ? IMGP_OK
                           : imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: inode %llu: record truncated",
                                        (unsigned long long)ino);
}

/* attributes.rst: the in-inode attributes follow i_extra_isize, after a
 * 4-byte magic; each entry is 16 bytes plus its name, padded to 4; values
 * are placed relative to the first entry; four zero bytes end the list. */
const uint8_t *ext4_inline_ea(const ext4_inode *in, size_t *len)
{
    *len = 0;
    size_t start = EXT4_GOOD_OLD_INODE_SIZE + (size_t)in->extra_isize, end = in->record_size;
    if (in->record_size <= EXT4_GOOD_OLD_INODE_SIZE || start > end - EXT4_XATTR_IBODY_HEADER)
        return NULL;
    imgp_cursor c = imgp_cur_init(in->raw, end);
    if (imgp_cur_le32_at(&c, start) != EXT4_XATTR_MAGIC)
        return NULL;
    size_t first = start + EXT4_XATTR_IBODY_HEADER, room = end - first;
    for (size_t off = first; off <= end - EXT4_XE_HEADER && imgp_cur_le32_at(&c, off) != 0;) {
        uint8_t name_len = imgp_cur_u8_at(&c, off + EXT4_XE_NAME_LEN);
        uint8_t index = imgp_cur_u8_at(&c, off + EXT4_XE_NAME_INDEX);
        uint16_t value_offs = imgp_cur_le16_at(&c, off + EXT4_XE_VALUE_OFFS);
        uint32_t value_inum = imgp_cur_le32_at(&c, off + EXT4_XE_VALUE_INUM);
        uint32_t value_size = imgp_cur_le32_at(&c, off + EXT4_XE_VALUE_SIZE);
        const uint8_t *name = imgp_cur_ptr_at(&c, off + EXT4_XE_HEADER, name_len);
        if (!name)
            return NULL;
        if (index == EXT4_XATTR_INDEX_SYSTEM && name_len == sizeof EXT4_XATTR_INLINE_DATA_NAME - 1 &&
            memcmp(name, EXT4_XATTR_INLINE_DATA_NAME, name_len) == 0 && value_inum == 0) {
            if (imgp_range_outside(value_offs, value_size, room))
                return NULL;
            *len = value_size;
            return in->raw + first + value_offs;
        }
        off += (EXT4_XE_HEADER + (size_t)name_len + 3) & ~(size_t)3;
    }
    return NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

imgp_status ext4_read_inode(ext4_fs *fs, uint64_t ino, ext4_inode *in)
{
    const ext4_super *sb = &fs->sb;
    if (ino == 0 || ino > sb->inodes_count)
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu is outside any group (the filesystem has %u inodes)",
                         (unsigned long long)ino, sb->inodes_count);
    uint32_t group = (uint32_t)((ino - 1) / sb->inodes_per_group);
    uint64_t index = (ino - 1) % sb->inodes_per_group;
    const ext4_group *g = &fs->groups[group];
    if ((g->flags & EXT4_BG_INODE_UNINIT) && has_group_csum(sb))
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu is not in use (group %u's inode table is "
                         "uninitialised)", (unsigned long long)ino, group);
    uint64_t byte = index * sb->inode_size;
    uint64_t blk = g->inode_table + (byte >> sb->log_block_size);
    if (g->inode_table == 0 || g->inode_table >= sb->blocks_count || blk >= sb->blocks_count)
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: group %u's inode table at block %llu lies outside "
                         "the filesystem (%llu blocks)", (unsigned long long)ino, group,
                         (unsigned long long)g->inode_table, (unsigned long long)sb->blocks_count);
    const uint8_t *p;
    imgp_status st = ext4_meta_block(fs, blk, &p);
    if (st != IMGP_OK)
        return imgp_error_prefix(fs->base.ctx, "ext4: inode %llu: ", (unsigned long long)ino);
    const uint8_t *rec = p + (byte & (sb->block_size - 1));
    st = ext4_parse_inode(fs->base.ctx, ino, rec, sb->inode_size, sb->creator_os == EXT4_OS_HURD, in);
    if (st != IMGP_OK || !fs->verify_csum || all_zero(rec, sb->inode_size))
        return st;
    uint32_t crc = ext4_inode_csum(fs->csum_seed, in);
    return crc == in->checksum ? IMGP_OK : csum_note(fs, "inode", ino, in->checksum, crc);
}

/* ---- metadata blocks ---- */

static imgp_status fill_meta(void *arg, uint64_t blk, uint8_t *buf)
{
    ext4_fs *fs = arg;
    return imgp_bdev_read(fs->base.bdev, blk << fs->sb.log_block_size, buf, fs->sb.block_size);
}

imgp_status ext4_meta_block(ext4_fs *fs, uint64_t blk, const uint8_t **out)
{
    if (blk >= fs->sb.blocks_count)
        return imgp_error(fs->base.ctx, IMGP_ERR_CORRUPT, "block %llu lies past the end of the filesystem "
                          "(%llu blocks)", (unsigned long long)blk, (unsigned long long)fs->sb.blocks_count);
    return imgp_cache_get(fs->meta, blk, fill_meta, fs, out);
}

/* ---- the driver ---- */

static int ext4_probe(const uint8_t *head, size_t len, uint64_t size)
{
    (void)size;
    if (len < EXT4_SB_OFFSET + EXT4_SB_SIZE)
        return IMGP_SCORE_NONE;
    imgp_cursor c = imgp_cur_init(head + EXT4_SB_OFFSET, EXT4_SB_SIZE);
    if (imgp_cur_le16_at(&c, EXT4_SB_MAGIC) != EXT4_MAGIC ||
        imgp_cur_le32_at(&c, EXT4_SB_LOG_BLOCK_SIZE) > EXT4_MAX_LOG_BLOCK_SIZE - EXT4_MIN_LOG_BLOCK_SIZE ||
        (imgp_cur_le32_at(&c, EXT4_SB_FEATURE_INCOMPAT) & EXT4_INCOMPAT_JOURNAL_DEV))
        return IMGP_SCORE_NONE;
    return IMGP_SCORE_MAGIC;
}

static imgp_status ext4_stat(imgp_fs *f, imgp_ino ino, imgp_stat *st)
{
    ext4_fs *fs = (ext4_fs *)f;
    ext4_inode in;
    imgp_status s = ext4_read_inode(fs, ino, &in);
    if (s != IMGP_OK)
        return s;
    st->type = imgp_fs_mode_type(in.mode);
    if (st->type == IMGP_FT_UNKNOWN)
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: mode 0%o has no file type%s", (unsigned long long)ino,
                         (unsigned)in.mode, in.links == 0 ? " (not in use)" : "");
    st->ino = ino;
    st->mode = in.mode & 07777u;
    st->nlink = in.links;
    st->uid = in.uid;
    st->gid = in.gid;
    st->size = in.size;
    st->atime = in.atime;
    st->mtime = in.mtime;
    st->ctime = in.ctime;
    st->mtime_nsec = in.mtime_nsec;
    if (st->type == IMGP_FT_CHR || st->type == IMGP_FT_BLK) {
        /* the kernel's ext4_iget: an old 16-bit device number in i_block[0],
         * else the new 32-bit encoding in i_block[1] */
        imgp_cursor c = imgp_cur_init(in.block, sizeof in.block);
        uint32_t old = imgp_cur_le32_at(&c, 0), dev = imgp_cur_le32_at(&c, 4);
        if (old) {
            st->rdev_major = (old >> 8) & 0xffu;
            st->rdev_minor = old & 0xffu;
        } else {
            st->rdev_major = (dev & 0xfff00u) >> 8;
            st->rdev_minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
        }
    }
    if (in.flags & EXT4_ENCRYPT_FL)
        st->flags |= IMGP_STAT_ENCRYPTED;
    if (in.flags & EXT4_INLINE_DATA_FL)
        st->flags |= IMGP_STAT_INLINE;
    return IMGP_OK;
}

/* inlinedata.rst: the first 60 bytes in i_block, the rest in "system.data". */
static imgp_status read_inline(ext4_fs *fs, const ext4_inode *in, uint64_t off, uint8_t *buf, size_t len)
{
    size_t ea_len;
    const uint8_t *ea = ext4_inline_ea(in, &ea_len);
    if (in->size > EXT4_I_BLOCK_LEN + (uint64_t)ea_len)
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: %llu bytes of inline data, %zu stored in the inode",
                         (unsigned long long)in->ino, (unsigned long long)in->size, EXT4_I_BLOCK_LEN + ea_len);
    while (len > 0) {
        const uint8_t *src = off < EXT4_I_BLOCK_LEN ? in->block + off : ea + (off - EXT4_I_BLOCK_LEN);
        size_t n = off < EXT4_I_BLOCK_LEN ? (size_t)imgp_min_u64(len, EXT4_I_BLOCK_LEN - off) : len;
        memcpy(buf, src, n);
        buf += n;
        off += n;
        len -= n;
    }
    return IMGP_OK;
}

static imgp_status read_data(ext4_fs *fs, const ext4_inode *in, uint64_t off, uint8_t *buf, size_t len)
{
    if (in->flags & EXT4_ENCRYPT_FL)
        return ext4_fail(fs, IMGP_ERR_UNSUPPORTED, "inode %llu is encrypted: its contents cannot be read",
                         (unsigned long long)in->ino);
    if (in->flags & EXT4_INLINE_DATA_FL)
        return read_inline(fs, in, off, buf, len);
    return ext4_read_mapped(fs, in, off, buf, len);
}

static imgp_status ext4_read(imgp_fs *f, imgp_ino ino, uint64_t off, void *buf, size_t len)
{
    ext4_fs *fs = (ext4_fs *)f;
    ext4_inode in;
    imgp_status st = ext4_read_inode(fs, ino, &in);
    return st != IMGP_OK ? st : read_data(fs, &in, off, buf, len);
}

/* ifork.rst "Symbolic Links": a target shorter than 60 bytes sits in i_block
 * (a "fast" symlink; e2fsprogs decides by the size alone, as here); a longer
 * one in a data block, or in inline data. */
static imgp_status ext4_readlink(imgp_fs *f, imgp_ino ino, char *buf, size_t cap)
{
    ext4_fs *fs = (ext4_fs *)f;
    ext4_inode in;
    imgp_status st = ext4_read_inode(fs, ino, &in);
    if (st != IMGP_OK)
        return st;
    size_t len = (size_t)imgp_min_u64(in.size, cap - 1);
    if (!(in.flags & (EXT4_INLINE_DATA_FL | EXT4_ENCRYPT_FL)) && len < EXT4_I_BLOCK_LEN)
        memcpy(buf, in.block, len);
    else if (len > 0 && (st = read_data(fs, &in, 0, (uint8_t *)buf, len)) != IMGP_OK)
        return st;
    buf[len] = '\0';
    return IMGP_OK;
}

static void ext4_unmount(imgp_fs *f)
{
    ext4_fs *fs = (ext4_fs *)f;
    imgp_ctx *ctx = f->ctx;
    imgp_cache_free(fs->meta);
    imgp_free(ctx, fs->groups);
    imgp_fs_release(f);
    imgp_free(ctx, fs);
}

/* The name blkid would give: ext2 without a journal and newer features. */
static const char *family_name(const ext4_super *sb)
{
    uint32_t ext3_incompat = EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_RECOVER | EXT4_INCOMPAT_META_BG;
    uint32_t ext3_ro_compat = EXT4_RO_COMPAT_SPARSE_SUPER | 0x2u /* large_file */ | 0x4u /* btree_dir */;
    if ((sb->incompat & ~ext3_incompat) || (sb->ro_compat & ~ext3_ro_compat))
        return "ext4";
    return sb->compat & EXT4_COMPAT_HAS_JOURNAL ? "ext3" : "ext2";
}

static imgp_status mount_notes(ext4_fs *fs)
{
    const ext4_super *sb = &fs->sb;
    imgp_status st = IMGP_OK;
    if (sb->incompat & EXT4_INCOMPAT_RECOVER)
        st = imgp_fs_note(&fs->base, "ext4: the journal needs recovery and is not replayed: the latest changes "
                          "may be missing");
    if (st == IMGP_OK && (sb->state & EXT4_STATE_ERRORS))
        st = imgp_fs_note(&fs->base, "ext4: the filesystem is marked as having errors (e2fsck has not fixed "
                          "them)");
    uint64_t bytes = sb->blocks_count << sb->log_block_size;
    if (st == IMGP_OK && bytes > fs->base.bdev->size)
        st = imgp_fs_note(&fs->base, "ext4: the filesystem has %llu bytes but its device %llu (truncated?)",
                          (unsigned long long)bytes, (unsigned long long)fs->base.bdev->size);
    return st;
}

static imgp_status mount_fs(ext4_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    imgp_status st = load_super(fs);
    if (st == IMGP_OK)
        st = ext4_check_features(ctx, &fs->sb);
    if (st == IMGP_OK)
        st = load_groups(fs);
    if (st == IMGP_OK)
        st = imgp_cache_new(ctx, fs->sb.block_size, META_CACHE_SLOTS, &fs->meta);
    if (st == IMGP_OK)
        st = mount_notes(fs);
    if (st != IMGP_OK)
        return st;

    const ext4_super *sb = &fs->sb;
    const uint8_t *u = sb->uuid;
    snprintf(fs->uuid, sizeof fs->uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    imgp_fs_info *info = &fs->base.info;
    info->type = family_name(sb);
    info->label = sb->label[0] ? sb->label : NULL;
    info->uuid = fs->uuid;
    info->block_size = sb->block_size;
    info->total_bytes = sb->blocks_count << sb->log_block_size;
    info->free_bytes = imgp_min_u64(sb->free_blocks_count, sb->blocks_count) << sb->log_block_size;
    info->case_insensitive = false; /* casefold is decided per directory */
    info->root = EXT4_ROOT_INO;

    ext4_inode root;
    if ((st = ext4_read_inode(fs, EXT4_ROOT_INO, &root)) != IMGP_OK)
        return st;
    if (imgp_fs_mode_type(root.mode) != IMGP_FT_DIR)
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "root inode %u is not a directory (mode 0%o)", EXT4_ROOT_INO,
                         (unsigned)root.mode);
    return IMGP_OK;
}

static imgp_status ext4_mount(imgp_ctx *ctx, imgp_bdev *bd, imgp_fs **out)
{
    ext4_fs *fs = imgp_calloc(ctx, 1, sizeof *fs);
    if (!fs)
        return IMGP_ERR_NOMEM;
    fs->base.drv = &imgp_fs_ext4;
    fs->base.ctx = ctx;
    fs->base.bdev = bd;
    imgp_status st = mount_fs(fs);
    if (st != IMGP_OK) {
        ext4_unmount(&fs->base);
        return st;
    }
    *out = &fs->base;
    return IMGP_OK;
}

const imgp_fs_driver imgp_fs_ext4 = {
    .name = "ext4",
    .probe = ext4_probe,
    .probe_deep = ext4_probe_deep,
    .mount = ext4_mount,
    .stat = ext4_stat,
    .readdir = ext4_readdir,
    .read = ext4_read,
    .readlink = ext4_readlink,
    .lookup = ext4_lookup,
    .unmount = ext4_unmount,
};
