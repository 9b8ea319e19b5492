/*
 * s3_url.c — S3 repository URLs, endpoints and addressing styles (see s3_url.h).
 */
#include "storage/s3_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "storage/s3_sign.h"

static int valid_bucket(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

int s3_parse_repository_url(const char *url, s3_location *loc)
{
    if (strncmp(url, "s3://", 5) != 0)
        return err_set("repository \"%s\": not an s3:// URL", url);
    const char *b = url + 5;
    size_t n = strcspn(b, "/");
    if (!valid_bucket(b, n))
        return err_set("repository \"%s\": \"%.*s\" is not a valid bucket name (3 to 63 "
                       "letters, digits, '-', '.')",
                       url, (int)(n > 80 ? 80 : n), b);
    memcpy(loc->bucket, b, n);
    loc->bucket[n] = '\0';
    const char *p = b + n;
    while (*p == '/')
        p++;
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/')
        pl--;
    if (pl + 2 > sizeof loc->prefix)
        return err_set("repository \"%s\": path too long", url);
    if (memmem(p, pl, "//", 2))
        return err_set("repository \"%s\": empty path component", url);
    memcpy(loc->prefix, p, pl);
    loc->prefix[pl] = '\0';
    if (pl)
        strcat(loc->prefix, "/");
    return PA_OK;
}

static int host_is_ip_or_localhost(const char *host)
{
    char h[256];
    /* strip port (and IPv6 brackets) */
    if (host[0] == '[') {
        const char *e = strchr(host, ']');
        if (!e)
            return 0;
        snprintf(h, sizeof h, "%.*s", (int)(e - host - 1), host + 1);
        unsigned char addr[16];
        return inet_pton(AF_INET6, h, addr) == 1;
    }
    snprintf(h, sizeof h, "%.*s", (int)strcspn(host, ":"), host);
    unsigned char addr[16];
    return inet_pton(AF_INET, h, addr) == 1 || strcasecmp(h, "localhost") == 0;
}

int s3_set_endpoint(s3_location *loc, const char *endpoint, int force_path_style)
{
    char ep[512];
    if (!endpoint || !*endpoint)
        snprintf(ep, sizeof ep, "https://s3.%s.amazonaws.com", loc->region);
    else if (strlen(endpoint) >= sizeof ep)
        return err_set("AWS_ENDPOINT_URL is too long");
    else
        snprintf(ep, sizeof ep, "%s", endpoint);
    const char *rest;
    if (strncasecmp(ep, "https://", 8) == 0) {
        strcpy(loc->scheme, "https");
        rest = ep + 8;
    } else if (strncasecmp(ep, "http://", 7) == 0) {
        strcpy(loc->scheme, "http");
        rest = ep + 7;
    } else {
        return err_set("AWS_ENDPOINT_URL \"%s\" must start with https:// (or http:// for a "
                       "plain-text endpoint)",
                       endpoint);
    }
    size_t hl = strcspn(rest, "/?#");
    if (hl == 0 || hl >= sizeof loc->host || strchr(rest, '?') || strchr(rest, '#') ||
        memchr(rest, '@', hl))
        return err_set("AWS_ENDPOINT_URL \"%s\": expected scheme://host[:port][/path]", endpoint);
    memcpy(loc->host, rest, hl);
    loc->host[hl] = '\0';
    /* Drop a default port: curl would not send it in Host, and the signature must match. */
    size_t n = strlen(loc->host);
    if (strcmp(loc->scheme, "https") == 0 && n > 4 && strcmp(loc->host + n - 4, ":443") == 0)
        loc->host[n - 4] = '\0';
    else if (strcmp(loc->scheme, "http") == 0 && n > 3 && strcmp(loc->host + n - 3, ":80") == 0)
        loc->host[n - 3] = '\0';
    const char *path = rest + hl;
    size_t pl = strlen(path);
    while (pl > 0 && path[pl - 1] == '/')
        pl--;
    if (pl >= sizeof loc->base_path)
        return err_set("AWS_ENDPOINT_URL \"%s\": path too long", endpoint);
    memcpy(loc->base_path, path, pl);
    loc->base_path[pl] = '\0';
    loc->path_style = force_path_style || host_is_ip_or_localhost(loc->host) ||
                      loc->base_path[0] != '\0' ||
                      (strcmp(loc->scheme, "https") == 0 && strchr(loc->bucket, '.') != NULL);
    return PA_OK;
}

int s3_build_request_url(const s3_location *loc, const char *key, const char *query, buf *url,
                         buf *host, buf *canonical_uri)
{
    buf_reset(url);
    buf_reset(host);
    buf_reset(canonical_uri);
    if (loc->path_style) {
        if (buf_append_str(host, loc->host) != 0 ||
            buf_appendf(canonical_uri, "%s/", loc->base_path) != 0 ||
            s3_uri_encode(canonical_uri, loc->bucket, 0) != 0)
            return PA_ERR;
        if (key && (buf_append(canonical_uri, "/", 1) != 0 || s3_uri_encode(canonical_uri, key, 1) != 0))
            return PA_ERR;
    } else {
        if (buf_appendf(host, "%s.%s", loc->bucket, loc->host) != 0 ||
            buf_append(canonical_uri, "/", 1) != 0)
            return PA_ERR;
        if (key && s3_uri_encode(canonical_uri, key, 1) != 0)
            return PA_ERR;
    }
    if (buf_appendf(url, "%s://%s%s%s%s", loc->scheme, host->data, canonical_uri->data,
                    query && *query ? "?" : "", query && *query ? query : "") != 0)
        return PA_ERR;
    return PA_OK;
}
