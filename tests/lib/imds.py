#!/usr/bin/env python3
"""A scripted EC2 instance metadata service (IMDSv2) for the --aws-instance-profile tests.

    imds.py PORT ROLE ACCESS_KEY SECRET_KEY TOKEN EXPIRES_IN_SECONDS COUNT_FILE

Replays the documented responses: PUT /latest/api/token (needs the
X-aws-ec2-metadata-token-ttl-seconds header) returns a session token; the two GETs under
/latest/meta-data/iam/security-credentials/ need it (401 otherwise) and return the role name,
then the role's credentials as JSON (Code, LastUpdated, Type, AccessKeyId, SecretAccessKey,
Token, Expiration). Each credentials document served adds a line to COUNT_FILE.
"""
import datetime
import http.server
import json
import sys

port, role, ak, sk, token, expires_in, count_file = sys.argv[1:8]
SESSION = "AQAEAFakeImdsSessionToken=="


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.reply(404, "not found")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "missing ttl")
        self.reply(200, SESSION)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != SESSION:
            return self.reply(401, "")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, role)
        if self.path == base + role:
            now = datetime.datetime.now(datetime.timezone.utc)
            doc = {"Code": "Success", "LastUpdated": iso(now), "Type": "AWS-HMAC",
                   "AccessKeyId": ak, "SecretAccessKey": sk, "Token": token,
                   "Expiration": iso(now + datetime.timedelta(seconds=int(expires_in)))}
            with open(count_file, "a") as f:
                f.write("served\n")
            return self.reply(200, json.dumps(doc), "application/json")
        self.reply(404, "not found")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
