#include "common/malloc_tune.h"

#include <malloc.h>

namespace dos {

void TuneMallocForBulkData() {
  // Both fail only for values out of glibc's range, which these are not; a
  // failure leaves glibc's defaults, which work, only slower.
  (void)mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold));
  (void)mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold));
}

}  // namespace dos
