/*
 * Windows inspection: what a Windows system volume (and a System Reserved
 * or recovery partition) looks like, the identity from the SOFTWARE hive
 * (Microsoft\Windows NT\CurrentVersion), the architecture from cmd.exe's PE
 * header, the computer name and the virtio drivers' services from the
 * SYSTEM hive, cloudbase-init, and the import rules only Windows needs.
 *
 * Lookups go through the view: the NTFS driver ignores case, so the paths
 * here are written as Windows spells them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../core/cursor.h"
#include "inspect.h"
#include "regf.h"
#include "windows.h"

#define PE_MAX 4096u /* the headers we read sit in the first page of cmd.exe */
#define REG_STR_MAX 256

/* ---- bytes ---- */

imgp_status insp_parse_pe(imgp_ctx *ctx, const uint8_t *buf, size_t len, const char *name, insp_pe_info *out)
{
    memset(out, 0, sizeof *out);
    imgp_cursor c = imgp_cur_init(buf, len);
    if (len < 0x40 || imgp_cur_u8_at(&c, 0) != 'M' || imgp_cur_u8_at(&c, 1) != 'Z')
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: no MS-DOS header ('MZ' at 0, %zu bytes)", name, len);
    uint32_t lfanew = imgp_cur_le32_at(&c, 0x3c);
    /* signature (4), file header (20), optional header magic (2) */
    if (lfanew > len || len - lfanew < 26)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: e_lfanew 0x%x at 0x3c leaves no PE header in %zu bytes",
                          name, lfanew, len);
    const uint8_t *sig = imgp_cur_ptr_at(&c, lfanew, 4);
    if (!sig || memcmp(sig, "PE\0\0", 4) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: no 'PE\\0\\0' signature at 0x%x", name, lfanew);
    out->machine = imgp_cur_le16_at(&c, lfanew + 4);
    uint16_t opt_size = imgp_cur_le16_at(&c, lfanew + 20);
    out->magic = imgp_cur_le16_at(&c, lfanew + 24);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: headers at 0x%x cut short", name, lfanew);
    if (opt_size < 2)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: no optional header (SizeOfOptionalHeader %u at 0x%x)", name,
                          opt_size, lfanew + 20);
    if (out->magic == 0x10b)
        out->bits = 32;
    else if (out->magic == 0x20b)
        out->bits = 64;
    else
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "pe: %s: optional header magic 0x%x at 0x%x is neither PE32 nor PE32+",
                          name, out->magic, lfanew + 24);
    switch (out->machine) {
    case 0x14c: out->arch = "i386"; break;
    case 0x8664: out->arch = "x86_64"; break;
    case 0xaa64: out->arch = "aarch64"; break;
    case 0x1c0:
    case 0x1c4: out->arch = "arm"; break;
    case 0x200: out->arch = "ia64"; break;
    default: out->arch = NULL; break;
    }
    return IMGP_OK;
}

const char *insp_windows_release(unsigned build, bool server)
{
    /* the builds each release shipped with (Microsoft's release information pages) */
    static const struct {
        unsigned build;
        const char *server, *client;
    } builds[] = {
        {3790, "Windows Server 2003", "Windows XP x64"}, {6002, "Windows Server 2008", "Windows Vista"}, {7601, "Windows Server 2008 R2", "Windows 7"},
        {9200, "Windows Server 2012", "Windows 8"},     {9600, "Windows Server 2012 R2", "Windows 8.1"},
        {14393, "Windows Server 2016", NULL},           {17763, "Windows Server 2019", NULL},
        {20348, "Windows Server 2022", NULL},           {26100, "Windows Server 2025", NULL},
    };
    if (server) {
        for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
            if (builds[i].build == build || (build == 7600 && builds[i].build == 7601) ||
                ((build == 6001 || build == 6003) && builds[i].build == 6002))
                return builds[i].server;
        return NULL;
    }
    if (build >= 22000)
        return "Windows 11";
    if (build >= 10240)
        return "Windows 10";
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
        if (builds[i].client && (builds[i].build == build || (build == 7600 && builds[i].build == 7601)))
            return builds[i].client;
    return NULL;
}

void insp_parse_mounted_device(const uint8_t *data, size_t len, insp_mounted_device *out)
{
    memset(out, 0, sizeof *out);
    imgp_cursor c = imgp_cur_init(data, len);
    if (len == 12) {
        out->kind = INSP_MOUNTED_MBR;
        out->disk_signature = imgp_cur_le32_at(&c, 0);
        out->offset = imgp_cur_le64_at(&c, 4);
    } else if (len == 24 && memcmp(imgp_cur_ptr_at(&c, 0, 8), "DMIO:ID:", 8) == 0) {
        /* the GUID as a GPT entry stores it: Data1-3 little-endian, Data4 in order */
        const uint8_t *g = imgp_cur_ptr_at(&c, 8, 16);
        snprintf(out->guid, sizeof out->guid, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 imgp_cur_le32_at(&c, 8), imgp_cur_le16_at(&c, 12), imgp_cur_le16_at(&c, 14), g[8], g[9], g[10],
                 g[11], g[12], g[13], g[14], g[15]);
        out->kind = INSP_MOUNTED_GPT;
    }
}

/* ---- the view ---- */

static bool is_type(imgp_inspection *insp, imgp_view *v, const char *path, imgp_ftype type)
{
    imgp_node n;
    imgp_stat st;
    return insp_lookup(insp, v, path, false, false, &n, &st) && st.type == type;
}

static bool is_dir(imgp_inspection *insp, imgp_view *v, const char *path)
{
    return is_type(insp, v, path, IMGP_FT_DIR);
}

static bool is_file(imgp_inspection *insp, imgp_view *v, const char *path)
{
    return is_type(insp, v, path, IMGP_FT_REG);
}

static bool is_ntfs(imgp_inspection *insp, imgp_view *v)
{
    imgp_node n;
    imgp_stat st;
    return insp_lookup(insp, v, "/", false, false, &n, &st) && strcmp(imgp_fs_get_info(n.fs)->type, "ntfs") == 0;
}

static bool holds_system(imgp_inspection *insp, imgp_view *v, const char *root)
{
    char p[320];
    snprintf(p, sizeof p, "%s/System32/config", root);
    if (!is_dir(insp, v, p))
        return false;
    snprintf(p, sizeof p, "%s/System32/cmd.exe", root);
    return is_file(insp, v, p);
}

/*
 * The directory boot.ini's default= names (NT to 2003): the ARC path's
 * tail, "multi(0)disk(0)rdisk(0)partition(1)\WINDOWS" -> "/WINDOWS", into
 * @p out; false when there is none.
 */
static bool boot_ini_root(imgp_inspection *insp, imgp_view *v, char *out, size_t cap)
{
    char *buf;
    size_t len;
    if (insp_read(insp, v, "/boot.ini", false, 64 * 1024, &buf, &len, NULL) != IMGP_OK) {
        imgp_ctx_clear(insp->ctx);
        return false;
    }
    bool found = false;
    for (char *line = buf; line && *line && !found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncasecmp(line, "default=", 8) != 0)
            continue;
        const char *end = line + strcspn(line, "\r\n");
        const char *paren = NULL;
        for (const char *p = line; p < end; p++)
            if (*p == ')')
                paren = p;
        if (!paren || paren + 1 >= end || paren[1] != '\\')
            break;
        size_t n = (size_t)(end - paren - 1);
        if (n >= cap || n > 200)
            break;
        for (size_t i = 0; i < n; i++)
            out[i] = paren[1 + i] == '\\' ? '/' : paren[1 + i];
        out[n] = '\0';
        found = n > 1;
    }
    imgp_free(insp->ctx, buf);
    return found;
}

enum { ROOT_SCAN_DIRS = 64 };

/* The first ROOT_SCAN_DIRS top-level directories, NTFS metafiles left out. */
typedef struct root_dirs {
    size_t n;
    char names[ROOT_SCAN_DIRS][256];
} root_dirs;

static int root_dir(void *arg, const char *name, imgp_ftype type)
{
    root_dirs *d = arg;
    if ((type != IMGP_FT_DIR && type != IMGP_FT_UNKNOWN) || name[0] == '$')
        return 0;
    snprintf(d->names[d->n++], sizeof d->names[0], "%s", name);
    return d->n == ROOT_SCAN_DIRS;
}

/*
 * The system root holding System32, System32/config and System32/cmd.exe,
 * or NULL: /Windows or /WINNT, the directory this volume's boot.ini names,
 * else any top-level directory (NT to 2003 could be installed under any
 * name, with boot.ini on another volume). The scan is bounded, and its
 * names are collected before looking into them: no lookups inside readdir.
 */
static const char *system_root(imgp_inspection *insp, imgp_view *v)
{
    static const char *const roots[] = {"/Windows", "/WINNT"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        if (holds_system(insp, v, roots[i]))
            return roots[i];
    char named[1 + sizeof ((root_dirs *)NULL)->names[0]]; /* "/" and a top-level name */
    if (boot_ini_root(insp, v, named, sizeof named) && holds_system(insp, v, named))
        return insp_str(insp, named);
    root_dirs *dirs = imgp_calloc(insp->ctx, 1, sizeof *dirs);
    if (!dirs) {
        insp->nomem = true;
        return NULL;
    }
    const char *found = NULL;
    insp_list_dir(insp, v, "/", false, root_dir, dirs);
    for (size_t i = 0; i < dirs->n && !found; i++) {
        snprintf(named, sizeof named, "/%s", dirs->names[i]);
        if (strcasecmp(named, roots[0]) != 0 && strcasecmp(named, roots[1]) != 0 && holds_system(insp, v, named))
            found = insp_str(insp, named);
    }
    imgp_free(insp->ctx, dirs);
    return found;
}

static const char *windows_classify(imgp_inspection *insp, imgp_view *v)
{
    if (!is_ntfs(insp, v))
        return NULL;
    if (system_root(insp, v))
        return "root";
    /* System Reserved / recovery: the boot manager and its store, no system root */
    if (is_file(insp, v, "/bootmgr") || is_file(insp, v, "/Boot/BCD"))
        return "boot";
    return NULL;
}

/* ---- hives ---- */

/* Open hive @p path of the view; NULL when absent or unreadable (a finding says which). */
static imgp_regf *open_hive(imgp_inspection *insp, const char *path)
{
    imgp_node n;
    imgp_stat st;
    if (!insp_lookup(insp, insp->view, path, false, false, &n, &st) || st.type != IMGP_FT_REG) {
        insp_finding(insp, "WindowsRegistryUnreadable", IMGP_SEVERITY_WARNING, NULL,
                     "the registry hive %s is missing: what it holds is not known", path);
        return NULL;
    }
    imgp_regf *h = NULL;
    imgp_status s = imgp_regf_open_file(insp->ctx, n.fs, n.ino, &h);
    if (s == IMGP_ERR_NOMEM) {
        insp->nomem = true;
        return NULL;
    }
    if (s != IMGP_OK) {
        insp_finding(insp, "WindowsRegistryUnreadable", IMGP_SEVERITY_WARNING, NULL, "the registry hive %s: %s", path,
                     imgp_ctx_message(insp->ctx));
        imgp_ctx_clear(insp->ctx);
        return NULL;
    }
    return h;
}

/* A string value of @p key, copied into the inspection, or NULL. */
static const char *reg_str(imgp_inspection *insp, imgp_regf *h, imgp_regf_key key, const char *name)
{
    char buf[REG_STR_MAX];
    if (imgp_regf_get_string(h, key, name, buf, sizeof buf) != IMGP_OK) {
        imgp_ctx_clear(insp->ctx);
        return NULL;
    }
    return insp_str(insp, buf);
}

static bool reg_dword(imgp_inspection *insp, imgp_regf *h, imgp_regf_key key, const char *name, uint32_t *out)
{
    if (imgp_regf_get_dword(h, key, name, out) != IMGP_OK) {
        imgp_ctx_clear(insp->ctx);
        return false;
    }
    return true;
}

static bool reg_key(imgp_inspection *insp, imgp_regf *h, imgp_regf_key from, const char *path, imgp_regf_key *out)
{
    if (imgp_regf_lookup(h, from, path, out) != IMGP_OK) {
        imgp_ctx_clear(insp->ctx);
        return false;
    }
    return true;
}

typedef struct uninstall_walk {
    imgp_inspection *insp;
    imgp_regf *h;
    const char *found; /* the DisplayName of cloudbase-init's uninstall entry */
} uninstall_walk;

static int uninstall_entry(void *arg, imgp_regf_key child, const char *name)
{
    (void)name;
    uninstall_walk *w = arg;
    const char *dn = reg_str(w->insp, w->h, child, "DisplayName");
    if (dn && strncasecmp(dn, "Cloudbase-Init", 14) == 0) {
        w->found = dn;
        return 1;
    }
    return 0;
}

/* The SOFTWARE hive: identity, and cloudbase-init's uninstall entry. */
static const char *read_software(imgp_inspection *insp, const char *sysroot)
{
    imgp_os *os = &insp->info.os;
    const char *path = insp_printf(insp, "%s/System32/config/SOFTWARE", sysroot);
    imgp_regf *h = path ? open_hive(insp, path) : NULL;
    if (!h)
        return NULL;
    imgp_regf_key cv;
    if (!reg_key(insp, h, imgp_regf_root(h), "Microsoft\\Windows NT\\CurrentVersion", &cv)) {
        insp_finding(insp, "WindowsRegistryUnreadable", IMGP_SEVERITY_WARNING, NULL,
                     "%s has no Microsoft\\Windows NT\\CurrentVersion key: the version is not known", path);
    } else {
        os->identity_source = path;
        os->pretty_name = reg_str(insp, h, cv, "ProductName");
        os->edition = reg_str(insp, h, cv, "EditionID");
        os->installation_type = reg_str(insp, h, cv, "InstallationType");
        os->build = reg_str(insp, h, cv, "CurrentBuildNumber");
        if (!os->build)
            os->build = reg_str(insp, h, cv, "CurrentBuild");
        uint32_t major, minor;
        /* CurrentVersion stays "6.3" from Windows 10 on: the numbers win when present */
        if (reg_dword(insp, h, cv, "CurrentMajorVersionNumber", &major) &&
            reg_dword(insp, h, cv, "CurrentMinorVersionNumber", &minor))
            os->version = insp_printf(insp, "%u.%u", major, minor);
        else
            os->version = reg_str(insp, h, cv, "CurrentVersion");
        if (os->build) {
            char *end;
            unsigned long b = strtoul(os->build, &end, 10);
            bool server = os->installation_type ? strncasecmp(os->installation_type, "Server", 6) == 0
                                                : os->pretty_name && strstr(os->pretty_name, "Server");
            if (end != os->build && *end == '\0' && b <= 0xffffffffu)
                os->release = insp_windows_release((unsigned)b, server);
        }
    }
    uninstall_walk w = {insp, h, NULL};
    imgp_regf_key un;
    if (reg_key(insp, h, imgp_regf_root(h), "Microsoft\\Windows\\CurrentVersion\\Uninstall", &un) &&
        imgp_regf_subkeys(h, un, uninstall_entry, &w) != IMGP_OK)
        imgp_ctx_clear(insp->ctx);
    imgp_regf_close(h);
    return w.found;
}

/* The Start value of service @p name, -1 when the service key is absent. */
static int service_start(imgp_inspection *insp, imgp_regf *h, imgp_regf_key services, const char *name, bool *present)
{
    imgp_regf_key k;
    *present = reg_key(insp, h, services, name, &k);
    uint32_t start;
    if (!*present || !reg_dword(insp, h, k, "Start", &start) || start > 4)
        return -1;
    return (int)start;
}

typedef struct drive_walk {
    imgp_inspection *insp;
} drive_walk;

/* The partition of this image that MountedDevices data @p m names, or NULL. */
static const imgp_partition *mounted_partition(const imgp_volume_info *vi, const insp_mounted_device *m)
{
    if (!vi)
        return NULL;
    bool mbr_disk = strcmp(vi->scheme, "mbr") == 0 && vi->disk_id &&
                    strtoul(vi->disk_id, NULL, 16) == m->disk_signature;
    for (size_t i = 0; i < vi->npartitions; i++) {
        const imgp_partition *p = &vi->partitions[i];
        if (p->is_logical_volume)
            continue;
        if (m->kind == INSP_MOUNTED_MBR && mbr_disk && p->start == m->offset)
            return p;
        if (m->kind == INSP_MOUNTED_GPT && p->uuid && strcasecmp(p->uuid, m->guid) == 0)
            return p;
    }
    return NULL;
}

static int mounted_value(void *arg, const imgp_regf_value *v)
{
    drive_walk *w = arg;
    imgp_windows_facts *wf = &w->insp->info.windows;
    /* "\DosDevices\C:"; the "\??\Volume{...}" values name volumes, not letters */
    static const char prefix[] = "\\DosDevices\\";
    size_t n = sizeof prefix - 1;
    if (v->name_len != n + 2 || strncasecmp(v->name, prefix, n) != 0 || v->name[n + 1] != ':' ||
        !((v->name[n] >= 'A' && v->name[n] <= 'Z') || (v->name[n] >= 'a' && v->name[n] <= 'z')))
        return 0;
    if (wf->ndrives >= sizeof wf->drives / sizeof wf->drives[0])
        return 1;
    insp_mounted_device m;
    insp_parse_mounted_device(v->data, v->len, &m);
    imgp_windows_drive *d = &wf->drives[wf->ndrives++];
    d->letter[0] = (char)(v->name[n] & ~0x20);
    d->letter[1] = ':';
    d->letter[2] = '\0';
    d->id = m.kind == INSP_MOUNTED_MBR ? insp_printf(w->insp, "mbr 0x%08x offset %llu", m.disk_signature,
                                                     (unsigned long long)m.offset)
          : m.kind == INSP_MOUNTED_GPT ? insp_printf(w->insp, "gpt %s", m.guid)
                                       : "other";
    const imgp_partition *p = m.kind == INSP_MOUNTED_OTHER ? NULL : mounted_partition(w->insp->info.volumes, &m);
    d->device = p ? p->index : NULL;
    return 0;
}

/*
 * The virtio PCI device IDs each driver serves (vendor 1AF4): the legacy
 * (transitional) ID and the virtio 1.0 one (virtio spec 1.1, 4.1.2.1:
 * 0x1040 + device type; net 1, block 2, SCSI 8).
 */
static const char *const win_virtio_devices[IMGP_WIN_DRIVER_COUNT][2] = {
    {"1001", "1042"}, /* viostor: block */
    {"1004", "1048"}, /* vioscsi: SCSI */
    {"1000", "1041"}, /* netkvm: network */
};

/* A walk over hardware-ID subkeys ("VEN_1AF4&DEV_1001&SUBSYS_...", any case). */
typedef struct virtio_id_walk {
    const char *prefix;  /* "VEN_1AF4&DEV_" or "pci#ven_1af4&dev_" */
    unsigned n;          /* subkeys naming vendor 1AF4 */
    bool seen[IMGP_WIN_DRIVER_COUNT];
} virtio_id_walk;

static int virtio_id(void *arg, imgp_regf_key child, const char *name)
{
    (void)child;
    virtio_id_walk *w = arg;
    size_t plen = strlen(w->prefix);
    if (strncasecmp(name, w->prefix, plen) != 0)
        return 0;
    w->n++;
    for (int i = 0; i < IMGP_WIN_DRIVER_COUNT; i++)
        for (int k = 0; k < 2; k++)
            if (strncasecmp(name + plen, win_virtio_devices[i][k], 4) == 0)
                w->seen[i] = true;
    return 0;
}

/* The virtio hardware IDs registered under @p path (below @p from). */
static virtio_id_walk virtio_ids(imgp_inspection *insp, imgp_regf *h, imgp_regf_key from, const char *path,
                                 const char *prefix)
{
    imgp_regf_key k;
    virtio_id_walk w = {.prefix = prefix};
    if (reg_key(insp, h, from, path, &k) && imgp_regf_subkeys(h, k, virtio_id, &w) != IMGP_OK)
        imgp_ctx_clear(insp->ctx);
    return w;
}

/* MountedDevices: the drive letters, and whether C: is on this disk. */
static void read_mounted_devices(imgp_inspection *insp, imgp_regf *h, const char *path)
{
    imgp_regf_key k;
    if (!reg_key(insp, h, imgp_regf_root(h), "MountedDevices", &k))
        return;
    drive_walk w = {insp};
    if (imgp_regf_values(h, k, mounted_value, &w) != IMGP_OK)
        imgp_ctx_clear(insp->ctx);
    const imgp_windows_facts *wf = &insp->info.windows;
    for (size_t i = 0; i < wf->ndrives; i++)
        if (strcmp(wf->drives[i].letter, "C:") == 0 && !wf->drives[i].device && strcmp(wf->drives[i].id, "other") != 0)
            insp_finding(insp, "SystemDriveNotOnDisk", IMGP_SEVERITY_WARNING,
                         "Export the disk Windows boots from, or let it assign C: again (sysprep clears "
                         "MountedDevices).",
                         "%s: MountedDevices names C: on %s, which is not a partition of this image", path,
                         wf->drives[i].id);
}

static const char *const win_virtio_names[IMGP_WIN_DRIVER_COUNT] = {"viostor", "vioscsi", "netkvm"};

/* The SYSTEM hive: current control set, computer name, processor architecture, services. */
static void read_system(imgp_inspection *insp, const char *sysroot, const char **reg_arch, int *cloudbase_start,
                        bool *cloudbase_service)
{
    imgp_windows_facts *wf = &insp->info.windows;
    const char *path = insp_printf(insp, "%s/System32/config/SYSTEM", sysroot);
    imgp_regf *h = path ? open_hive(insp, path) : NULL;
    if (!h)
        return;
    imgp_regf_key sel, cs;
    uint32_t current;
    if (!reg_key(insp, h, imgp_regf_root(h), "Select", &sel) || !reg_dword(insp, h, sel, "Current", &current) ||
        current == 0 || current > 999) {
        insp_finding(insp, "WindowsRegistryUnreadable", IMGP_SEVERITY_WARNING, NULL,
                     "%s has no usable Select\\Current: the current control set is not known", path);
        imgp_regf_close(h);
        return;
    }
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03u", current);
    if (!reg_key(insp, h, imgp_regf_root(h), name, &cs)) {
        insp_finding(insp, "WindowsRegistryUnreadable", IMGP_SEVERITY_WARNING, NULL,
                     "%s: Select\\Current names %s, which is absent", path, name);
        imgp_regf_close(h);
        return;
    }
    wf->control_set = insp_str(insp, name);
    read_mounted_devices(insp, h, path);
    /* Plug and Play matches a new device through these: virt-v2v registers
     * viostor in both, by Windows version (its windows_virtio.ml) */
    virtio_id_walk store = virtio_ids(insp, h, imgp_regf_root(h), "DriverDatabase\\DeviceIds\\PCI", "VEN_1AF4&DEV_");
    virtio_id_walk cddb = virtio_ids(insp, h, cs, "Control\\CriticalDeviceDatabase", "pci#ven_1af4&dev_");
    wf->driver_store_ids = store.n;
    wf->critical_device_ids = cddb.n;
    for (int i = 0; i < IMGP_WIN_DRIVER_COUNT; i++) {
        wf->virtio[i].driver_store = store.seen[i];
        wf->virtio[i].critical_db = cddb.seen[i];
    }
    imgp_regf_key k;
    /* the DNS host name (case kept, as virt-inspector reports it), else the NetBIOS computer name */
    if (reg_key(insp, h, cs, "Services\\Tcpip\\Parameters", &k))
        insp->info.os.hostname = reg_str(insp, h, k, "Hostname");
    if (!insp->info.os.hostname && reg_key(insp, h, cs, "Control\\ComputerName\\ComputerName", &k))
        insp->info.os.hostname = reg_str(insp, h, k, "ComputerName");
    if (reg_key(insp, h, cs, "Control\\Session Manager\\Environment", &k))
        *reg_arch = reg_str(insp, h, k, "PROCESSOR_ARCHITECTURE");
    imgp_regf_key services;
    if (reg_key(insp, h, cs, "Services", &services)) {
        for (int i = 0; i < IMGP_WIN_DRIVER_COUNT; i++)
            wf->virtio[i].start = service_start(insp, h, services, win_virtio_names[i], &wf->virtio[i].service);
        *cloudbase_start = service_start(insp, h, services, "cloudbase-init", cloudbase_service);
    }
    imgp_regf_close(h);
}

/* ---- identity and findings ---- */

static void read_arch(imgp_inspection *insp, const char *sysroot, const char *reg_arch)
{
    imgp_os *os = &insp->info.os;
    const char *path = insp_printf(insp, "%s/System32/cmd.exe", sysroot);
    char *buf = NULL;
    size_t len = 0;
    imgp_status s = path ? insp_read(insp, insp->view, path, false, PE_MAX, &buf, &len, NULL) : IMGP_ERR_NOMEM;
    if (s == IMGP_ERR_NOMEM) {
        insp->nomem = true;
        return;
    }
    insp_pe_info pe;
    if (s == IMGP_OK && insp_parse_pe(insp->ctx, (const uint8_t *)buf, len, path, &pe) == IMGP_OK) {
        os->arch = pe.arch;
        os->bits = pe.bits;
    } else {
        insp_finding(insp, "WindowsArchUnknown", IMGP_SEVERITY_WARNING, NULL, "%s", imgp_ctx_message(insp->ctx));
    }
    imgp_ctx_clear(insp->ctx);
    imgp_free(insp->ctx, buf);
    /* PROCESSOR_ARCHITECTURE: AMD64, x86, ARM64, IA64 */
    static const struct {
        const char *reg, *arch;
        unsigned bits;
    } archs[] = {{"AMD64", "x86_64", 64}, {"x86", "i386", 32}, {"ARM64", "aarch64", 64}, {"IA64", "ia64", 64}};
    for (size_t i = 0; reg_arch && i < sizeof archs / sizeof archs[0]; i++) {
        if (strcasecmp(reg_arch, archs[i].reg) != 0)
            continue;
        if (!os->arch) {
            os->arch = archs[i].arch;
            os->bits = archs[i].bits;
        } else if (strcmp(os->arch, archs[i].arch) != 0) {
            insp_finding(insp, "WindowsArchMismatch", IMGP_SEVERITY_WARNING, NULL,
                         "%s is %s but the SYSTEM hive's PROCESSOR_ARCHITECTURE is %s", path, os->arch, reg_arch);
        }
    }
}

/*
 * Whether Plug and Play can bind @p d to its device when the disk first
 * appears on virtio: from Windows 8 / 2012 (build 9200) through the driver
 * store's DeviceIds, before that through the critical device database;
 * either one when the build is unknown.
 */
static bool registered_for_boot(const imgp_windows_driver *d, unsigned long build)
{
    if (build >= 9200)
        return d->driver_store;
    if (build)
        return d->critical_db;
    return d->driver_store || d->critical_db;
}

/* @p system_read false: the SYSTEM hive gave no control set, so no service or registration is known. */
static void virtio_findings(imgp_inspection *insp, const char *sysroot, bool system_read)
{
    imgp_windows_facts *wf = &insp->info.windows;
    unsigned long build = insp->info.os.build ? strtoul(insp->info.os.build, NULL, 10) : 0;
    const char *registry = build >= 9200 ? "the driver store" : build ? "the critical device database"
                                                                      : "the driver store or critical device database";
    for (int i = 0; i < IMGP_WIN_DRIVER_COUNT; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/System32/drivers/%s.sys", sysroot, win_virtio_names[i]);
        wf->virtio[i].file = is_file(insp, insp->view, p);
    }
    for (int i = IMGP_WIN_VIOSTOR; i <= IMGP_WIN_VIOSCSI; i++) {
        const imgp_windows_driver *d = &wf->virtio[i];
        wf->virtio_disk_at_boot |= d->file && d->service && d->start == 0 && registered_for_boot(d, build);
    }
    const imgp_windows_driver *net = &wf->virtio[IMGP_WIN_NETKVM];
    /* a network driver staged in the store is installed when the device appears */
    wf->virtio_net = net->file || net->service || net->driver_store || net->critical_db;

    char missing[640] = "";
    size_t o = 0;
    if (!system_read && (!wf->virtio_disk_at_boot || !wf->virtio_net))
        insp_appendf(missing, sizeof missing, &o,
                     "the SYSTEM hive was not read, so no driver service or registration is known: ");
    size_t head = o;
    if (!wf->virtio_disk_at_boot) {
        for (int i = IMGP_WIN_VIOSTOR; i <= IMGP_WIN_VIOSCSI; i++) {
            const imgp_windows_driver *d = &wf->virtio[i];
            insp_appendf(missing, sizeof missing, &o, "%s%s: %s", o > head ? "; " : "", d->name,
                         d->file ? "driver file present" : "no driver file");
            if (!system_read)
                continue;
            insp_appendf(missing, sizeof missing, &o, ", %s",
                         !d->service     ? "no service"
                         : d->start == 0 ? "service starts at boot"
                         : d->start < 0  ? "service without Start"
                                         : "service does not start at boot");
            if (d->service && d->start > 0)
                insp_appendf(missing, sizeof missing, &o, " (Start %d)", d->start);
            insp_appendf(missing, sizeof missing, &o, ", %s %s", registered_for_boot(d, build) ? "in" : "not in",
                         registry);
        }
    }
    if (!wf->virtio_net)
        insp_appendf(missing, sizeof missing, &o, "%snetkvm: no driver file%s", o > head ? "; " : "",
                     system_read ? ", no service, not in the driver store" : "");
    if (o > head)
        insp_finding(insp, IMGP_CODE_VIRTIO_NOT_INSTALL, IMGP_SEVERITY_ERROR,
                     "Install the KVM virtio drivers (virtio-win: viostor or vioscsi, and netkvm) in the guest "
                     "with their installer or `pnputil /add-driver <inf> /install`, so that the storage driver "
                     "is registered for its devices and starts at boot (Start 0), before export.",
                     "%s", missing);
}

/* @p system_read as for virtio_findings: without it, whether the service exists is not known. */
static void cloudbase_findings(imgp_inspection *insp, const char *uninstall, bool service, int start,
                               bool system_read)
{
    imgp_cloud_init *ci = &insp->info.cloud_init;
    static const char *const dirs[] = {"/Program Files/Cloudbase Solutions/Cloudbase-Init",
                                       "/Program Files (x86)/Cloudbase Solutions/Cloudbase-Init"};
    const char *dir = NULL;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !dir; i++)
        if (is_dir(insp, insp->view, dirs[i]))
            dir = dirs[i];
    char conf[160] = "";
    if (dir) {
        char p[128];
        snprintf(p, sizeof p, "%s/conf/cloudbase-init.conf", dir);
        if (is_file(insp, insp->view, p))
            snprintf(conf, sizeof conf, ", %s", p);
    }
    ci->installed = service || dir;
    ci->enabled = service && start >= 0 && start <= 3;
    if (ci->installed)
        ci->evidence = insp_printf(insp, "%s%s%s%s%s%s", service ? "service cloudbase-init" : "",
                                   service && dir ? ", " : "", dir ? dir : "", conf, uninstall ? ", uninstall: " : "",
                                   uninstall ? uninstall : "");
    if (!ci->installed) {
        insp_finding(insp, IMGP_CODE_CLOUD_INIT_NOT_INSTALLED, IMGP_SEVERITY_ERROR,
                     "Install cloudbase-init in the guest (its MSI from cloudbase.it) and let it run at boot.",
                     "cloudbase-init not found (%s Program Files\\Cloudbase Solutions\\Cloudbase-Init)%s",
                     system_read ? "no Services\\cloudbase-init and no"
                                 : "the SYSTEM hive was not read, so its service is not known; no",
                     uninstall ? "; only an uninstall entry names it" : "");
        return;
    }
    if (service && start == 4) {
        ci->disabled_by = "Services\\cloudbase-init Start 4";
        insp_finding(insp, "CloudInitDisabled", IMGP_SEVERITY_WARNING,
                     "Set the cloudbase-init service to start automatically.",
                     "the cloudbase-init service is disabled (Start 4)");
    } else if (!service) {
        insp_finding(insp, "CloudInitNotEnabled", IMGP_SEVERITY_WARNING,
                     "Reinstall cloudbase-init so that its service is registered.",
                     system_read ? "%s is present but no cloudbase-init service is registered"
                                 : "%s is present, but whether its service is registered is not known (the SYSTEM "
                                   "hive was not read)",
                     dir);
    }
}

/*
 * GPT, an EFI system partition, LDM dynamic disks, Storage Spaces: not
 * imported for Windows. With @p root_found false (no operating system was
 * found on the disk) only LDM and Storage Spaces count: they hide the
 * volumes they hold from every reader, which is the likely reason.
 */
void insp_windows_partitioning(imgp_inspection *insp, bool root_found)
{
    const imgp_volume_info *vi = insp->info.volumes;
    if (!vi)
        return;
    static const struct {
        const char *type, *what;
        bool hides_volumes;
    } bad[] = {
        {"c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "an EFI system partition", false},
        {"0xef", "an EFI system partition", false},
        {"0x42", "an LDM dynamic disk partition", true},
        {"5808c8aa-7e8f-42e0-85d2-e1e90434cfb3", "LDM dynamic disk metadata", true},
        {"af9b60a0-1431-4f62-bc68-3311714a69ad", "an LDM dynamic disk partition", true},
        {"e75caf8f-f680-4cee-afa3-b001e56efc2d", "a Storage Spaces partition", true},
    };
    char seen[512] = "";
    size_t o = 0;
    if (root_found && strcmp(vi->scheme, "gpt") == 0)
        insp_appendf(seen, sizeof seen, &o, "a GPT partition table");
    for (size_t i = 0; i < vi->npartitions; i++) {
        const char *t = vi->partitions[i].type ? vi->partitions[i].type : "";
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
            if (strcasecmp(t, bad[k].type) == 0 && (root_found || bad[k].hides_volumes))
                insp_appendf(seen, sizeof seen, &o, "%s%s (partition %s)", o ? ", " : "", bad[k].what,
                             vi->partitions[i].index);
    }
    /* a whole disk made dynamic without a partition of type 0x42 left in view */
    if (vi->disk.content.type && strcmp(vi->disk.content.type, "LDM") == 0)
        insp_appendf(seen, sizeof seen, &o, "%san LDM dynamic disk database", o ? ", " : "");
    if (!o)
        return;
    if (root_found)
        insp_finding(insp, "WindowsPartitioningUnsupported", IMGP_SEVERITY_ERROR,
                     "Windows is imported from a basic MBR disk booting through BIOS: convert the disk to MBR "
                     "(mbr2gpt cannot go back: reinstall or clone onto an MBR disk) and use basic volumes.",
                     "the Windows disk has %s", seen);
    else
        insp_finding(insp, "WindowsPartitioningUnsupported", IMGP_SEVERITY_ERROR,
                     "Convert the dynamic disk (or Storage Spaces pool) back to a basic MBR disk in Windows "
                     "(Disk Management, or clone the system volume onto a basic disk) before export.",
                     "the disk has %s: the Windows volumes it holds cannot be read", seen);
}

static void version_findings(imgp_inspection *insp)
{
    const imgp_os *os = &insp->info.os;
    unsigned long build = os->build ? strtoul(os->build, NULL, 10) : 0;
    bool client = os->installation_type && strcasecmp(os->installation_type, "Client") == 0;
    if ((build && build < 9200) || client)
        insp_finding(insp, "UnsupportedWindowsVersion", IMGP_SEVERITY_WARNING,
                     "The import supports Windows Server 2012 and later.",
                     "%s (build %s, %s) is %s", os->pretty_name ? os->pretty_name : "this Windows",
                     os->build ? os->build : "unknown", os->installation_type ? os->installation_type : "type unknown",
                     client ? "a client edition, not Windows Server" : "older than Windows Server 2012 (build 9200)");
}

static void volume_findings(imgp_inspection *insp)
{
    const imgp_fs_info *fi = imgp_fs_get_info(insp->fss[insp->root].fs);
    for (size_t i = 0; i < fi->nnotes; i++) {
        const char *n = fi->notes[i];
        if (strstr(n, "marked dirty"))
            insp_finding(insp, "NtfsDirty", IMGP_SEVERITY_WARNING,
                         "Shut Windows down cleanly (and let chkdsk finish) before export.",
                         "the Windows volume (partition %s) is marked dirty: %s", insp->fs_info[insp->root].device, n);
        else if (strstr(n, "hiberfil.sys holds") || strstr(n, "resume from hibernation"))
            insp_finding(insp, "WindowsHibernated", IMGP_SEVERITY_WARNING,
                         "Boot the guest and shut it down fully (`shutdown /s /t 0`; turn Fast Startup off with "
                         "`powercfg /h off`) before export.",
                         "the Windows volume (partition %s) was hibernated: %s", insp->fs_info[insp->root].device, n);
    }
}

static imgp_status windows_identify(imgp_inspection *insp)
{
    imgp_os *os = &insp->info.os;
    const char *sysroot = system_root(insp, insp->view);
    if (!sysroot)
        return insp->nomem ? IMGP_ERR_NOMEM : IMGP_OK; /* classify found it: the view cannot lose it */
    insp->info.windows.system_root = sysroot;
    os->distro = "windows";
    for (int i = 0; i < IMGP_WIN_DRIVER_COUNT; i++)
        insp->info.windows.virtio[i] = (imgp_windows_driver){.name = win_virtio_names[i], .start = -1};

    const char *uninstall = read_software(insp, sysroot);
    const char *reg_arch = NULL;
    int cloudbase_start = -1;
    bool cloudbase_service = false;
    read_system(insp, sysroot, &reg_arch, &cloudbase_start, &cloudbase_service);
    /* the services and registrations are known only from a current control set */
    bool system_read = insp->info.windows.control_set != NULL;
    read_arch(insp, sysroot, reg_arch);

    virtio_findings(insp, sysroot, system_read);
    cloudbase_findings(insp, uninstall, cloudbase_service, cloudbase_start, system_read);
    insp_windows_partitioning(insp, true);
    version_findings(insp);
    volume_findings(insp);
    return insp->nomem ? IMGP_ERR_NOMEM : IMGP_OK;
}

const insp_os_module insp_windows = {
    .type = "windows",
    .classify = windows_classify,
    .prefix = NULL,
    .boot_root_spec = NULL,
    .identify = windows_identify,
};
