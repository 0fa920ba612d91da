/* LVM2: placeholder until the reader lands; finds nothing. */
#include "volumes.h"

imgp_status lvm_scan(imgp_volumes *vols)
{
    (void)vols;
    return IMGP_OK;
}
