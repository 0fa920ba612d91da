/* Placeholder: filled by the issue that adds it. */
typedef int imgp_placeholder_ntfs_attr;
