#include "io/checksum.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

uint32_t adler32_update(uint32_t adler, const void *data, size_t len)
{
    return isal_adler32(adler, data, len);
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    return crc32_gzip_refl(crc, data, len);
}
