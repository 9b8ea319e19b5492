#include "io/sha256.h"

#include <openssl/evp.h>
#include <stdlib.h>

#include "common/error.h"

typedef struct sha256_filter {
    sink base;
    EVP_MD_CTX *ctx;
    uint64_t bytes;
    uint8_t digest[SHA256_LEN];
} sha256_filter;

static int sha256_write(sink *s, const void *data, size_t len)
{
    sha256_filter *f = (sha256_filter *)s;
    if (EVP_DigestUpdate(f->ctx, data, len) != 1)
        return err_set("SHA-256 update failed");
    f->bytes += len;
    return f->base.next ? sink_write(f->base.next, data, len) : PA_OK;
}

static int sha256_finish(sink *s)
{
    sha256_filter *f = (sha256_filter *)s;
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(f->ctx, f->digest, &n) != 1 || n != SHA256_LEN)
        return err_set("SHA-256 finalization failed");
    return f->base.next ? sink_finish(f->base.next) : PA_OK;
}

static void sha256_destroy(sink *s)
{
    sha256_filter *f = (sha256_filter *)s;
    EVP_MD_CTX_free(f->ctx);
    free(f);
}

static const sink_ops sha256_ops = {"sha256", sha256_write, sha256_finish, sha256_destroy};

sink *sha256_filter_new(sink *next)
{
    sha256_filter *f = calloc(1, sizeof *f);
    if (!f || !(f->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(f->ctx, EVP_sha256(), NULL) != 1) {
        if (f)
            EVP_MD_CTX_free(f->ctx);
        free(f);
        err_set("cannot initialize SHA-256");
        return NULL;
    }
    f->base.ops = &sha256_ops;
    f->base.next = next;
    return &f->base;
}

const uint8_t *sha256_filter_digest(sink *s)
{
    return ((sha256_filter *)s)->digest;
}

uint64_t sha256_filter_bytes(sink *s)
{
    return ((sha256_filter *)s)->bytes;
}

void sha256_to_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
}

void sha256_filter_hex(sink *s, char out[SHA256_HEX_LEN + 1])
{
    sha256_to_hex(sha256_filter_digest(s), out);
}

int sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != SHA256_LEN)
        return err_set("SHA-256 failed");
    return PA_OK;
}
