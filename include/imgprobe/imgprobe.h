/* libimgprobe: read-only inspection of virtual-machine disk images. */
#ifndef IMGPROBE_H
#define IMGPROBE_H

#include "core.h"
#include "source.h"
#include "bdev.h"
#include "image.h"
#include "volumes.h"
#include "fs.h"
#include "measure.h"

#define IMGPROBE_VERSION "0.1.0"

#endif
